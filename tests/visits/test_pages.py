"""What the field pages show, in which order, and how many queries they cost (pinned)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from eldercare.choices import UserRole
from registry.models import Elder
from tests.factories import make_elder, make_user
from tests.visits.factories import make_visit, register_days_ago
from visits.choices import VisitMethod
from visits.models import CHECKLIST
from visits.panels import timeline
from visits.services import reassign_elders, request_urgent_visit

pytestmark = pytest.mark.django_db


def populate(world, n, village=None):
    """n elders in `village` with a mix of overdue, due today, due this week and later."""
    village = village or world.village
    worker = world.users["village"] if village == world.village else None
    elders = []
    for i in range(n):
        elder = make_elder(village, name=f"老人{i:02d}", phones=["13800000000"], responsible_worker=worker)
        for days_ago in (90, 60, (40, 30, 26, 5)[i % 4]):
            make_visit(elder, world.users["village"], days_ago=days_ago,
                       method=VisitMethod.HOME if i % 2 else VisitMethod.PHONE)
        elders.append(elder)
    return elders


def test_today_lists_overdue_first_then_due_today_then_this_week(login, world):
    late = make_elder(world.village, name="逾期老人")
    make_visit(late, world.users["village"], days_ago=35)
    due = make_elder(world.village, name="今天老人")
    make_visit(due, world.users["village"], days_ago=30)
    soon = make_elder(world.village, name="本周老人")
    make_visit(soon, world.users["village"], days_ago=27)
    later = make_elder(world.village, name="下月老人")
    make_visit(later, world.users["village"], days_ago=2)
    page = login(world.users["village"]).get(reverse("visits:today")).content.decode()
    assert page.index("逾期老人") < page.index("今天老人") < page.index("本周老人")
    assert "下月老人" not in page
    assert '<span class="overdue">逾期 5 天</span>' in page


def test_today_puts_my_own_elders_first_within_a_group(login, world):
    colleague = make_user("colleague", UserRole.VILLAGE, world.village)
    theirs = make_elder(world.village, name="同事负责", responsible_worker=colleague)
    mine = make_elder(world.village, name="我负责的", responsible_worker=world.users["village"])
    for elder in (theirs, mine):
        register_days_ago(elder, 3)
    page = login(world.users["village"]).get(reverse("visits:today")).content.decode()
    assert page.index("我负责的") < page.index("同事负责")


def test_urgent_request_puts_a_recently_visited_elder_on_the_list(login, world):
    elder = make_elder(world.village, name="刚出院")
    make_visit(elder, world.users["village"], days_ago=1)
    client = login(world.users["village"])
    assert "刚出院" not in client.get(reverse("visits:today")).content.decode()
    request_urgent_visit(elder, reason="出院", acting_user=world.users["town"])
    page = client.get(reverse("visits:today")).content.decode()
    assert "刚出院" in page and "24小时内须巡访" in page


def test_nav_badge_counts_overdue_and_due_today(login, world):
    populate(world, 4)  # i%4: 40 and 30 days ago → overdue / due today; 26 and 5 → not yet
    page = login(world.users["village"]).get(reverse("home"), follow=True).content.decode()
    assert '今日待访 <span class="badge">2</span>' in page


def test_nav_badge_follows_my_own_visit_at_once_and_a_colleagues_within_a_minute(login, world):
    """The menu's counts are kept in the session for up to a minute (eldercare.context_processors)."""
    elders = populate(world, 4)  # elders 0 and 1 are due
    colleague = make_user("colleague", UserRole.VILLAGE, world.village)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = login(world.users["village"])
        assert '今日待访 <span class="badge">2</span>' in client.get(reverse("registry:elders")).content.decode()
        form = client.get(reverse("visits:record", args=[elders[0].pk])).content.decode()
        key = re.search(r'name="submission_key" value="([^"]+)"', form).group(1)
        response = client.post(reverse("visits:record", args=[elders[0].pk]), {
            "submission_key": key, "method": "phone", "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "outcome": "normal", **{name: "normal" for name, _label in CHECKLIST}})
        assert response.status_code == 302
        assert '今日待访 <span class="badge">1</span>' in client.get(reverse("visits:today")).content.decode()

        make_visit(elders[1], colleague)
        clock.shift(timedelta(seconds=30))
        page = client.get(reverse("registry:elders")).content.decode()
        assert '今日待访 <span class="badge">1</span>' in page  # counted half a minute ago
        clock.shift(timedelta(seconds=31))
        page = client.get(reverse("registry:elders")).content.decode()
        assert '今日待访 <span class="badge">' not in page  # nothing due: no badge


@pytest.mark.parametrize("n", [2, 20])
def test_today_query_count_does_not_grow_with_elders(login, world, django_assert_num_queries, n):
    populate(world, n)
    client = login(world.users["village"])
    client.get(reverse("visits:today"))  # warm the session
    # session, user (with their area), paginator count, the page of rows — none of them per row;
    # the menu's counts and the session's renewal happened in the first request
    with django_assert_num_queries(4):
        response = client.get(reverse("visits:today"))
    assert response.content.decode().count('class="due-row"') == sum(1 for i in range(n) if i % 4 != 3)


@pytest.mark.parametrize("n", [2, 20])
def test_overview_query_count_does_not_grow_with_villages_or_elders(login, world, django_assert_num_queries, n):
    populate(world, n)
    populate(world, n, village=world.village2)
    client = login(world.users["town"])
    client.get(reverse("visits:overview"))
    # session, user (with their area), counts per village and per worker (one query), villages,
    # workers — none per village or per elder
    with django_assert_num_queries(5):
        response = client.get(reverse("visits:overview"))
    page = response.content.decode()
    assert "李家湾村" in page and "青龙村" in page and "石板村" not in page
    assert response.context["totals"]["total"] == 2 * n


def test_overview_counts_per_village_and_worker(login, world):
    populate(world, 4)
    response = login(world.users["town"]).get(reverse("visits:overview"))
    rows = {v.code: c for v, c in response.context["village_rows"]}
    assert rows[world.village.code]["overdue"] == 1 and rows[world.village.code]["due_today"] == 1
    assert rows[world.village2.code]["total"] == 0
    workers = {w: c for w, c in response.context["worker_rows"]}
    assert workers[world.users["village"]]["total"] == 4


@pytest.mark.parametrize("n", [1, 8])
def test_profile_panel_runs_a_fixed_number_of_queries(rf, world, django_assert_num_queries, n):
    elder = make_elder(world.village)
    for days in range(n):
        make_visit(elder, world.users["village"], days_ago=days)
    request = rf.get("/")
    request.user = world.users["village"]
    with django_assert_num_queries(2):
        panel = timeline(request, elder)
    assert len(panel.context["visits"]) == min(n, 5)
    assert panel.context["visits"][0].visited_at > panel.context["visits"][-1].visited_at or n == 1


def test_profile_panel_is_hidden_from_clinic_and_departments(rf, world):
    elder = make_elder(world.village)
    for username in ("clinic", "police"):
        request = rf.get("/")
        request.user = world.users[username]
        assert timeline(request, elder) is None


def test_elder_timeline_is_newest_first_and_paginated(login, world):
    elder = make_elder(world.village, name="王秀英")
    for days in range(25):
        make_visit(elder, world.users["village"], days_ago=days, met_with=f"第{days}天")
    client = login(world.users["village"])
    first = client.get(reverse("visits:elder_visits", args=[elder.pk])).content.decode()
    assert "共 25 次" in first and first.index("第0天") < first.index("第1天")
    assert "第24天" not in first
    second = client.get(reverse("visits:elder_visits", args=[elder.pk]) + "?page=2").content.decode()
    assert "第24天" in second


def test_town_staff_reassign_elders_to_a_worker_of_their_village(login, world):
    worker = make_user("helper", UserRole.VILLAGE, world.village, real_name="李文书")
    a = make_elder(world.village, name="甲")
    b = make_elder(world.village, name="乙")
    client = login(world.users["town"])
    page = client.get(reverse("visits:reassign") + f"?village={world.village.code}").content.decode()
    assert "李文书" in page and "village2" not in page  # only this village's staff are offered
    response = client.post(reverse("visits:reassign"), {"village": world.village.code, "elders": [a.pk, b.pk],
                                                        "worker": worker.pk}, follow=True)
    assert "已把 2 位老人交给 李文书 巡访" in response.content.decode()
    assert set(Elder.objects.filter(responsible_worker=worker).values_list("name", flat=True)) == {"甲", "乙"}


def test_reassignment_refuses_a_worker_of_another_village(login, world):
    elder = make_elder(world.village, name="甲")
    response = login(world.users["town"]).post(reverse("visits:reassign"), {
        "village": world.village.code, "elders": [elder.pk], "worker": world.users["village2"].pk})
    assert response.status_code == 200 and "必须是本村(居)委会的工作人员" in response.content.decode()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="本村"):
        reassign_elders([elder], worker=world.users["village2"], acting_user=world.users["town"])
    elder.refresh_from_db()
    assert elder.responsible_worker is None


def test_reassignment_of_another_towns_elders_is_refused(world):
    from eldercare.scoping import OutOfScope

    elder = make_elder(world.other_village)
    with pytest.raises(OutOfScope):
        reassign_elders([elder], worker=world.users["other_village"], acting_user=world.users["town"])


POLICY = {"high_days": 5, "medium_days": 10, "low_days": 20, "key_target_max_days": 10, "home_visit_days": 21,
          "urgent_hours": 24, "family_followup_days": 7}


def test_town_staff_edit_the_policy_with_limits_explained(login, world):
    from visits.models import VisitPolicy

    client = login(world.users["town"])
    page = client.get(reverse("visits:policy")).content.decode()
    # 7/15/30 days and 24 hours are the town's defaults, not rules of the care plan
    assert "没有规定具体天数" in page and "本镇默认 24 小时" in page and "只能设得更短" not in page
    response = client.post(reverse("visits:policy"), {**POLICY, "high_days": 20, "medium_days": 10})
    assert "高风险 ≤ 中风险 ≤ 低风险" in response.content.decode() and not VisitPolicy.objects.exists()
    response = client.post(reverse("visits:policy"), {**POLICY, "urgent_hours": 0})
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    assert not VisitPolicy.objects.exists()
    # a town may set a longer key-target interval than the default 15 days: it is its own choice
    client.post(reverse("visits:policy"), {**POLICY, "key_target_max_days": 20, "urgent_hours": 12})
    policy = VisitPolicy.objects.get(town=world.town)
    assert (policy.high_days, policy.low_days, policy.key_target_max_days, policy.urgent_hours,
            policy.updated_by) == (5, 20, 20, 12, world.users["town"])


def test_urgent_visit_due_within_the_towns_hours(world):
    from visits.models import VisitPolicy
    from visits.services import request_urgent_visit

    elder = make_elder(world.village)
    VisitPolicy.objects.create(town=world.town, urgent_hours=12)
    request = request_urgent_visit(elder, reason="出院", acting_user=world.users["town"])
    assert request.due_by - request.requested_at == timedelta(hours=12)


def test_county_overview_has_town_totals_and_villages_with_most_overdue_first(login, world):
    populate(world, 4, village=world.village2)  # 青龙村: one overdue
    populate(world, 8, village=world.other_village)  # 石板村 (新市镇): two overdue
    client = login(world.users["county"])
    response = client.get(reverse("visits:overview"))
    towns = [(t.name, c["total"], c["overdue"]) for t, c in response.context["town_rows"]]
    assert towns == [("新市镇", 8, 2), ("锦屏镇", 4, 1)]
    assert [v.name for v, _c in response.context["village_rows"]] == ["石板村", "青龙村", "李家湾村"]
    html = response.content.decode()
    assert html.index("按乡镇") < html.index("按村")
    narrowed = client.get(reverse("visits:overview"), {"town": world.town.code})
    assert [v.name for v, _c in narrowed.context["village_rows"]] == ["青龙村", "李家湾村"]
    assert "锦屏镇各村" in narrowed.content.decode()
    # a town sees no per-town table (one town), and a code outside its reach narrows nothing
    town_page = login(world.users["town"]).get(reverse("visits:overview"), {"town": world.other_town.code})
    assert town_page.context["town_rows"] == [] and len(town_page.context["village_rows"]) == 2
