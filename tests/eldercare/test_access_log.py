"""Issue 14, hole 5: the office reads the access log of its jurisdiction, and no one else reads it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from eldercare.audit import record_access
from eldercare.models import AccessEvent
from tests.factories import make_elder
from tests.matrix import PageMatrix

pytestmark = pytest.mark.django_db
URL = "/access-log/"


def reveal(user, elder, field="id_number", **extra):
    return record_access(user=user, kind="reveal", obj=elder, area_code=elder.village_id, field=field, **extra)


class TestAccessLog(PageMatrix):
    kind = "list"
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "village2", "clinic", "police"]

    def make(self, world):
        elder = make_elder(world.village, name="王秀英")
        return reveal(world.users["village"], elder)

    def url(self, obj):
        return reverse("access_log")

    def marker(self, obj):
        return f"#{obj.object_id}"


def test_url_is_the_one_the_readme_names():
    assert reverse("access_log") == URL


@pytest.mark.parametrize("username", ["village", "village2", "clinic", "police", "justice"])
def test_staff_below_the_town_cannot_open_the_log(client, world, username):
    reveal(world.users["village"], make_elder(world.village))
    client.force_login(world.users[username])
    response = client.get(URL)
    assert response.status_code == 404
    assert "访问记录" not in response.content.decode()


def test_the_town_reads_its_villages_events_and_not_another_towns(client, world):
    mine = reveal(world.users["village"], make_elder(world.village, name="本镇老人"))
    theirs = reveal(world.users["other_village"], make_elder(world.other_village, name="外镇老人"))
    record_access(user=world.users["county"], kind="export", area_code=world.county.code,
                  detail={"what": "x", "rows": 7, "masked": False})
    client.force_login(world.users["town"])
    page = client.get(URL).content.decode()
    assert f"#{mine.object_id}" in page and "village" in page
    assert f"#{theirs.object_id}" not in page and "other_village" not in page
    assert "7 行" not in page  # the county's own export is the county's
    client.force_login(world.users["county"])
    page = client.get(URL).content.decode()
    assert f"#{mine.object_id}" in page and f"#{theirs.object_id}" in page and "7 行" in page


def test_the_log_says_who_did_what_to_which_record(client, world):
    elder = make_elder(world.village)
    reveal(world.users["village"], elder, detail={"action": "change", "reason": "录错一位"})
    record_access(user=world.users["village"], kind="export", area_code=world.village.code,
                  detail={"what": "registry.elder.ledger", "filters": {"q": "王"}, "rows": 12, "masked": True})
    client.force_login(world.users["town"])
    page = client.get(URL).content.decode()
    assert f"留守老年人 #{elder.pk}" in page and "公民身份号码" in page and "修改：录错一位" in page
    assert "12 行" in page and "号码已遮挡" in page and "q=王" in page
    assert "查看完整信息" in page and "导出" in page
    assert elder.id_number not in page and elder.name not in page  # the log itself reveals nothing


def test_filters_by_account_kind_and_date(client, world):
    elder = make_elder(world.village)
    old = reveal(world.users["village"], make_elder(world.village, name="另一位"))
    AccessEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    by_village2 = reveal(world.users["village2"], make_elder(world.village2))
    download = record_access(user=world.users["village"], kind="download", obj=elder, area_code=elder.village_id,
                             field="document")
    client.force_login(world.users["town"])

    def shown(**params):
        page = client.get(URL, params).content.decode().split('class="list access-events"')[1]
        return {event.pk for event in (old, by_village2, download)
                if f"#{event.object_id}" in page and (event.kind != "download" or "协议扫描件" in page)}

    assert shown(user=world.users["village2"].pk) == {by_village2.pk}
    assert shown(kind="download") == {download.pk}
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    page = client.get(URL, {"since": since, "kind": "reveal"}).content.decode().split('class="list access-events"')[1]
    assert f"#{by_village2.object_id}" in page
    assert page.count("<li>") == 1  # the 40-day-old reveal is left out
    # an account of another town cannot be chosen: the filter is ignored, nothing of theirs shows
    theirs = reveal(world.users["other_village"], make_elder(world.other_village))
    page = client.get(URL, {"user": world.users["other_village"].pk}).content.decode()
    assert f"#{theirs.object_id}" not in page


def test_pages_of_fifty(client, world):
    elder = make_elder(world.village)
    AccessEvent.objects.bulk_create([AccessEvent(user=world.users["village"], kind="reveal", object_type="registry.Elder",
                                                 object_id=str(elder.pk), area_code=elder.village_id)
                                     for _ in range(120)])
    client.force_login(world.users["town"])
    page = client.get(URL, {"page": 3}).content.decode()
    assert "第 3 / 3 页" in page and page.split('class="list access-events"')[1].count("<li>") == 20


def test_weekly_unusual_access_names_accounts_over_the_threshold(client, world, settings):
    settings.ACCESS_UNUSUAL_WEEKLY = 5
    elder = make_elder(world.village)
    for _ in range(4):
        reveal(world.users["village"], elder)
    record_access(user=world.users["village"], kind="export", area_code=world.village.code, detail={})
    for _ in range(4):
        reveal(world.users["village2"], elder)
        record_access(user=world.users["village2"], kind="download", obj=elder, area_code=elder.village_id)
    week_old = [reveal(world.users["village2"], elder) for _ in range(3)]
    AccessEvent.objects.filter(pk__in=[e.pk for e in week_old]).update(at=timezone.now() - timedelta(days=8))
    client.force_login(world.users["town"])
    section = client.get(URL).content.decode().split('class="card unusual"')[1].split("</section>")[0]
    assert "village" in section and "共 5 次：查看完整信息 4 次（其中身份证号 4 次），导出 1 次" in section
    assert "village2" not in section  # downloads and last week's reveals do not count
    client.force_login(world.users["other_town"])
    section = client.get(URL).content.decode().split('class="card unusual"')[1].split("</section>")[0]
    assert "没有异常访问" in section


def count(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_pinned_and_does_not_grow_with_rows(client, world, django_assert_num_queries):
    elder = make_elder(world.village)
    reveal(world.users["village"], elder)
    client.force_login(world.users["town"])
    client.get(URL)  # warm: the session's renewal and the menu's counts
    # session, user with area, the filter's accounts, unusual access, count, the page of events
    with django_assert_num_queries(6):
        client.get(URL)
    for user in ("village", "village2", "town"):
        for _ in range(30):
            reveal(world.users[user], elder)
    assert count(client) == 6


def test_the_menu_of_town_and_county_has_it(client, world):
    for username, expected in (("town", True), ("county", True), ("village", False), ("clinic", False)):
        client.force_login(world.users[username])
        page = client.get(reverse("registry:elders")).content.decode()
        assert (f'href="{URL}"' in page) == expected, username
