"""The town's alert (提醒): 高-risk elders with no intervention inside their interval are listed on
the 提醒 page beside the register's own alerts, read from high_risk_without_intervention (the same
rows as the 高风险跟进 page's warning and its menu badge), each linking to the elder and that page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oversight.interventions import high_risk_without_intervention
from registry.models import Elder
from tests.factories import make_elder
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db


def alerts(client):
    return client.get(reverse("registry:alerts")).content.decode()


def section(page):
    """The high-risk section of the 提醒 page (up to the next section's heading)."""
    start = page.index("高风险且巡访周期内无干预")
    return page[start:page.index("失能独居且没有有效委托照顾协议", start)]


def test_the_alerts_page_lists_high_risk_elders_without_an_intervention(login, world):
    village_user = world.users["village"]
    stale = make_elder(world.village, name="久未巡访", risk_level="high")
    make_visit(stale, village_user, days_ago=30)
    make_visit(make_elder(world.village, name="按时巡访", risk_level="high"), village_user, days_ago=1)
    make_elder(world.village, name="低风险老人", risk_level="low")
    make_visit(make_elder(world.village2, name="外村高风险", risk_level="high"), world.users["village2"], days_ago=30)

    page = alerts(login(village_user))
    assert "<title>提醒 ·" in page  # a plain title (the page's blocks were garbled before)
    listed = section(page)
    assert "久未巡访" in listed and "按时巡访" not in listed and "低风险老人" not in listed
    assert "外村高风险" not in listed  # the other village's elder is not in this worker's reach
    assert reverse("registry:elder", args=[stale.pk]) in listed and reverse("oversight:high_risk") in listed
    assert "已逾期" in listed

    town_section = section(alerts(login(world.users["town"])))
    assert "久未巡访" in town_section and "外村高风险" in town_section
    # the same rows as the definition (and so as the 高风险跟进 page and its badge)
    expected = set(high_risk_without_intervention(Elder.objects.for_user(world.users["town"]))
                   .values_list("name", flat=True))
    assert expected == {"久未巡访", "外村高风险"}


def test_the_alerts_page_says_none_when_every_high_risk_elder_had_an_intervention(login, world):
    make_visit(make_elder(world.village, name="按时巡访", risk_level="high"), world.users["village"], days_ago=1)
    listed = section(alerts(login(world.users["village"])))
    assert "按时巡访" not in listed and "没有。" in listed


def test_the_high_risk_section_does_not_grow_the_query_count(login, world):
    user = world.users["village"]
    client = login(user)
    alerts(client)  # warm: the session's renewal and the menu's counts

    def add(n, start):
        for i in range(start, start + n):
            make_visit(make_elder(world.village, name=f"高风险{i}", risk_level="high"), user, days_ago=40)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            page = alerts(client)
        return len(ctx.captured_queries), page

    add(2, 0)
    small, page = count()
    assert section(page).count("高风险") >= 2
    add(18, 2)
    large, page = count()
    assert "高风险19" in section(page)
    assert large == small
