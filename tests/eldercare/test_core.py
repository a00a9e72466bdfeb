"""Core behaviour: settings, area loading, the access rule per role, accounts, sessions, audit."""

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from eldercare.areas import AreaFileError, load_areas
from eldercare.audit import history_of
from eldercare.choices import UserRole
from eldercare.middleware import LOGIN_AT_KEY
from eldercare.models import Area, Department, User
from eldercare.scoping import OutOfScope, ensure_in_scope
from registry.models import Elder
from tests.factories import make_elder


def run_settings(env):
    code = "import django; django.setup(); print('ok')"
    return subprocess.run([sys.executable, "-c", code], env={"DJANGO_SETTINGS_MODULE": "eldercare.settings",
                          "PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x@127.0.0.1/x", **env},
                          capture_output=True, text=True)


def test_production_settings_require_secret_key_and_allowed_hosts():
    result = run_settings({"DEBUG": "0", "ALLOWED_HOSTS": "example.org"})
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
    result = run_settings({"DEBUG": "0", "SECRET_KEY": "s" * 60})
    assert "ImproperlyConfigured" in result.stderr and "ALLOWED_HOSTS" in result.stderr
    result = run_settings({"DEBUG": "0", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "example.org"})
    assert result.stdout.strip() == "ok", result.stderr


def test_check_deploy_has_no_warnings_with_production_settings():
    env = {"DEBUG": "0", "SECRET_KEY": "x7#kq" * 12, "ALLOWED_HOSTS": "example.org",
           "DATABASE_URL": "postgres://x@127.0.0.1/x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
class TestLoadAreas:
    CSV = "code,name,level,parent_code\n511529,屏山县,county,\n511529100,锦屏镇,town,511529\n"

    def test_loads_and_is_idempotent(self):
        first = load_areas(self.CSV)
        second = load_areas(self.CSV)
        assert (first.created, second.created, second.unchanged) == (2, 0, 2)
        assert Area.objects.get(code="511529100").parent_id == "511529"

    def test_bad_line_is_reported_with_its_number_and_nothing_is_loaded(self):
        bad = self.CSV + "511529200201,李家湾村,village,511529100\n"
        with pytest.raises(AreaFileError, match="第 4 行") as error:
            load_areas(bad)
        assert "不以上级代码" in str(error.value)
        assert Area.objects.count() == 0

    def test_level_is_inferred_from_code_length(self):
        load_areas("511529,屏山县\n511529100,锦屏镇\n511529100201,李家湾村\n")
        assert Area.objects.get(code="511529100201").level == "village"

    def test_command_reports_bad_file_without_loading(self, tmp_path):
        from django.core.management import CommandError, call_command

        file = tmp_path / "areas.csv"
        file.write_text("code,name\n51152,坏代码\n", encoding="utf-8")
        with pytest.raises(CommandError, match="第 2 行"):
            call_command("load_areas", str(file))
        assert Area.objects.count() == 0


class TestAccessRule:
    def test_each_role_sees_only_its_jurisdiction(self, world):
        mine = make_elder(world.village, name="李家湾老人")
        other = make_elder(world.village2, name="青龙老人")
        far = make_elder(world.other_village, name="石板老人")
        seen = {name: set(Elder.objects.for_user(user).values_list("name", flat=True))
                for name, user in world.users.items()}
        assert seen["village"] == {mine.name}
        assert seen["village2"] == {other.name}
        assert seen["town"] == {mine.name, other.name}
        assert seen["clinic"] == {mine.name, other.name}
        assert seen["county"] == {mine.name, other.name, far.name}
        assert seen["other_town"] == {far.name}
        assert seen["police"] == set()

    def test_user_without_area_sees_nothing(self, world):
        make_elder(world.village)
        lost = User.objects.create_user("lost", role=UserRole.VILLAGE)
        assert not Elder.objects.for_user(lost).exists()
        assert not Area.objects.for_user(lost).exists()

    def test_inactive_and_anonymous_users_see_nothing(self, world):
        from django.contrib.auth.models import AnonymousUser

        make_elder(world.village)
        user = world.users["town"]
        user.is_active = False
        assert not Elder.objects.for_user(user).exists()
        assert not Elder.objects.for_user(AnonymousUser()).exists()

    def test_saving_a_record_out_of_reach_is_refused(self, world):
        elder = make_elder(world.village)
        elder.village = world.village2
        elder.save()
        with pytest.raises(OutOfScope):
            ensure_in_scope(elder, world.users["village"])

    def test_department_officer_sees_only_own_department(self, world):
        assert list(Department.objects.for_user(world.users["police"])) == [world.police]
        assert set(Department.objects.for_user(world.users["town"])) == {world.police, world.justice, world.clinic}


class TestAccounts:
    def test_town_staff_create_village_account_in_their_town(self, world, login):
        client = login(world.users["town"])
        response = client.post(reverse("admin:eldercare_user_add"), {
            "username": "newclerk", "password1": "a-long-enough-pass-2026", "real_name": "新文书",
            "phone": "", "role": "village", "area": world.village.code, "department": "", "is_active": "on"})
        assert response.status_code == 302, response.content.decode()[:2000]
        user = User.objects.get(username="newclerk")
        assert (user.role, user.area_id, user.is_staff) == ("village", world.village.code, True)
        assert list(user.groups.values_list("name", flat=True)) == ["role:village"]
        assert user.check_password("a-long-enough-pass-2026")

    def test_town_staff_cannot_create_account_outside_their_town(self, world, login):
        client = login(world.users["town"])
        response = client.post(reverse("admin:eldercare_user_add"), {
            "username": "intruder", "password1": "a-long-enough-pass-2026", "role": "village",
            "area": world.other_village.code, "is_active": "on"})
        assert response.status_code == 200
        assert "选择一个有效的选项" in response.content.decode()
        assert not User.objects.filter(username="intruder").exists()

    def test_town_staff_cannot_grant_a_role_above_their_own(self, world, login):
        client = login(world.users["town"])
        for role, area in (("county", world.county.code), ("town", world.town.code)):
            response = client.post(reverse("admin:eldercare_user_add"), {
                "username": f"boss{role}", "password1": "a-long-enough-pass-2026", "role": role, "area": area,
                "is_active": "on"})
            assert response.status_code == 200
            assert not User.objects.filter(username=f"boss{role}").exists()

    def test_short_or_common_password_is_refused(self, world, login):
        client = login(world.users["town"])
        for password in ("short", "password1234"):
            response = client.post(reverse("admin:eldercare_user_add"), {
                "username": "weak", "password1": password, "role": "village", "area": world.village.code,
                "is_active": "on"})
            assert response.status_code == 200
        assert not User.objects.filter(username="weak").exists()

    def test_town_staff_cannot_open_other_town_account(self, world, login):
        client = login(world.users["town"])
        other = world.users["other_village"]
        assert client.get(reverse("admin:eldercare_user_change", args=[other.pk])).status_code == 404

    def test_village_staff_cannot_manage_accounts(self, world, login):
        client = login(world.users["village"])
        assert client.get(reverse("admin:eldercare_user_add")).status_code == 404
        assert client.get(reverse("admin:eldercare_user_change", args=[world.users["village2"].pk])).status_code == 404

    def test_role_groups_exist_with_permissions(self, db):
        from django.contrib.auth.models import Group

        town = Group.objects.get(name="role:town")
        assert town.permissions.filter(codename="add_user").exists()
        assert not Group.objects.get(name="role:village").permissions.filter(codename="add_user").exists()


class TestSessions:
    def test_login_page_renders_in_chinese(self, client, db):
        response = client.get(reverse("login"))
        assert "登录" in response.content.decode()

    def test_absolute_session_limit_logs_out(self, world, login):
        client = login(world.users["village"])
        session = client.session
        session[LOGIN_AT_KEY] = time.time() - 13 * 3600
        session.save()
        response = client.get(reverse("home"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_idle_session_ends_after_thirty_minutes(self, world, login):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            client = login(world.users["village"])
            assert client.get(reverse("registry:elders")).status_code == 200
            clock.shift(timedelta(minutes=29))
            assert client.get(reverse("registry:elders")).status_code == 200  # renews it
            clock.shift(timedelta(minutes=29))
            assert client.get(reverse("registry:elders")).status_code == 200
            clock.shift(timedelta(minutes=31))
            response = client.get(reverse("registry:elders"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_session_row_is_written_at_most_once_a_minute(self, world, login):
        """An active session stays open without an UPDATE of its row on every page."""
        with time_machine.travel(timezone.now(), tick=False) as clock:
            client = login(world.users["village"])
            client.get(reverse("registry:elders"))
            key = client.cookies["sessionid"].value
            expires = Session.objects.get(pk=key).expire_date
            for _ in range(5):
                clock.shift(timedelta(seconds=10))
                with CaptureQueriesContext(connection) as queries:
                    assert client.get(reverse("registry:elders")).status_code == 200
                assert not [q for q in queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]]
            assert Session.objects.get(pk=key).expire_date == expires
            clock.shift(timedelta(seconds=10))  # a minute since the last renewal
            client.get(reverse("registry:elders"))
            assert Session.objects.get(pk=key).expire_date == expires + timedelta(minutes=1)
            # Idle from here: 30 minutes after that renewal it is over, however recent the last page.
            clock.shift(timedelta(seconds=50))
            client.get(reverse("registry:elders"))
            clock.shift(timedelta(minutes=29, seconds=11))
            assert client.get(reverse("registry:elders")).status_code == 302

    def test_login_rotates_session_key_and_logout_ends_session(self, world, client):
        user = world.users["village"]
        user.set_password("correct-horse-battery")
        user.save()
        client.get(reverse("login"))
        before = client.cookies.get("sessionid")
        response = client.post(reverse("login"), {"username": "village", "password": "correct-horse-battery"})
        assert response.status_code == 302
        assert client.cookies["sessionid"].value != (before.value if before else None)
        client.post(reverse("logout"))
        assert client.get(reverse("home")).status_code == 302

    def test_lockout_is_per_username_and_ip_not_per_ip(self, world, client):
        for user in (world.users["village"], world.users["village2"]):
            user.set_password("correct-horse-battery")
            user.save()
        for _ in range(5):
            client.post(reverse("login"), {"username": "village", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
        locked = client.post(reverse("login"), {"username": "village", "password": "correct-horse-battery"},
                             REMOTE_ADDR="10.0.0.1")
        assert "暂时无法登录" in locked.content.decode()
        colleague = client.post(reverse("login"), {"username": "village2", "password": "correct-horse-battery"},
                                REMOTE_ADDR="10.0.0.1")
        assert colleague.status_code == 302


class TestAudit:
    def test_changes_record_who_and_before_after(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["town"])
        import pghistory

        with pghistory.context(user=world.users["town"].pk, username="town"):
            Elder.objects.filter(pk=elder.pk).update(address="三组12号")
        events = list(history_of(elder))
        assert events[0].pgh_diff == {"address": ["", "三组12号"]}
        assert events[0].pgh_context["username"] == "town"
        assert client  # logged in client unused: history is written by triggers, not views

    def test_bulk_writes_are_audited_too(self, world):
        elder = make_elder(world.village)
        Elder.objects.filter(pk=elder.pk).update(needs="助餐")
        assert any(e.pgh_diff and "needs" in e.pgh_diff for e in history_of(elder))


def test_health_is_public(client, db):
    assert client.get(reverse("health")).json() == {"status": "ok"}


def test_home_needs_login_and_sends_each_role_to_its_work(world, client):
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    landing = {"village": "visits:today", "clinic": "services:clinic_worklist", "police": "relief:referral_list",
               "town": "oversight:dashboard", "county": "oversight:dashboard"}
    for user, url_name in landing.items():
        client.force_login(world.users[user])
        assert client.get(reverse("home"))["Location"] == reverse(url_name), user


def menu(client, url):
    html = client.get(url).content.decode()
    nav = html.split('class="mainnav"')[1].split("</nav>")[0]
    return [part.split(">", 1)[1].split("<")[0].strip() for part in nav.split("<a ")[1:]]


def test_each_menu_starts_with_the_roles_daily_work_and_only_town_and_county_have_the_admin(world, client):
    first = {"village": ["今日待访", "救助待办", "老人名册"], "clinic": ["健康管理", "老人名册"],
             "police": ["转办个案", "救助待办"], "town": ["督导总览", "救助待办", "巡访总览", "老人名册"],
             "county": ["督导总览", "救助个案", "巡访总览", "老人名册"]}
    for user, expected in first.items():
        client.force_login(world.users[user])
        items = menu(client, reverse("registry:elders") if user != "police" else reverse("relief:inbox"))
        assert items[:len(expected)] == expected, (user, items)
        assert "首页" not in items  # home is the first item's page
        assert ("后台管理" in items) == (user in ("town", "county")), user
        if user in ("town", "county"):
            assert items[-1] == "后台管理"


def test_the_superuser_keeps_home_with_every_tile(world, client):
    from eldercare.models import User

    client.force_login(User.objects.create_superuser("root", password=None))
    page = client.get(reverse("home")).content.decode()
    assert "首页" in page and "后台管理" in page and "今日待访" in page


def test_history_table_masks_identifiers_and_names_fields(world, login):
    from django.template.loader import render_to_string

    elder = make_elder(world.village, name="王秀英", phones=["13812345678"])
    Elder.objects.filter(pk=elder.pk).update(phones=["13987654321"], address="三组12号")
    html = render_to_string("eldercare/history_table.html", {"events": history_of(elder)})
    assert elder.id_number not in html and "13987654321" not in html and "13812345678" not in html
    assert "139****4321" in html and "现居住地址" in html and "三组12号" in html


def test_english_is_selectable_for_maintainers(world, client):
    client.force_login(world.users["town"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("admin:index")).content.decode()
    assert 'lang="en"' in page and "Log out" in page
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "注销" in client.get(reverse("admin:index")).content.decode()


class TestHomeHooks:
    """Apps declare a role's landing page and home panels in their AppConfig (eldercare.apps)."""

    @pytest.fixture
    def relief_config(self, monkeypatch, settings):
        from django.apps import apps

        settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"],
                                                                 Path(__file__).parent / "templates"]}]

        for other in apps.get_app_configs():  # only the landing page this test declares
            monkeypatch.setattr(other, "landing_pages", {}, raising=False)
        config = apps.get_app_config("relief")
        monkeypatch.setattr(config, "landing_pages", {"town": "relief:inbox"}, raising=False)
        monkeypatch.setattr(config, "home_panels", ["tests.eldercare.test_core.greeting_panel"], raising=False)
        return config

    def test_a_role_with_a_landing_page_is_sent_there(self, world, client, relief_config):
        client.force_login(world.users["town"])
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse("relief:inbox")

    def test_other_roles_get_their_buttons_and_the_panels(self, world, client, relief_config):
        client.force_login(world.users["village"])
        page = client.get(reverse("home")).content.decode()
        assert "今日待访" in page and "李家湾村的问候" in page
        client.force_login(world.users["police"])
        assert "的问候" not in client.get(reverse("home")).content.decode()  # the panel said None


def greeting_panel(request):
    """A home panel for the hook test: shown to village staff only."""
    from eldercare.panels import Panel

    if request.user.role != "village":
        return None
    return Panel(title="问候", template="tests/panel.html", context={"text": f"{request.user.area.name}的问候"})
