"""High-risk follow-through: every 高-risk elder with the last intervention and what is due; an
elder with no intervention inside the interval is on the town's alert (page and menu badge)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

import oversight.scorecard  # noqa: F401  (registers the scorecard's metrics)
from oversight.interventions import high_risk_without_intervention, with_interventions
from oversight.metrics import METRICS, compute, rows_of
from oversight.periods import MONTH, YEAR, Period
from registry.models import Elder
from tests.factories import make_elder
from tests.matrix import PageMatrix
from tests.relief.factories import make_case
from tests.services.factories import make_item, make_record
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db


def test_an_intervention_is_a_visit_in_the_interval_a_case_or_a_service(world):
    user = world.users["village"]
    visited = make_elder(world.village, name="近期巡访", risk_level="high")
    make_visit(visited, user, days_ago=2)
    stale = make_elder(world.village, name="久未巡访", risk_level="high")
    make_visit(stale, user, days_ago=30)
    with_case = make_elder(world.village, name="报过个案", risk_level="high")
    make_visit(with_case, user, days_ago=30)
    make_case(world, elder=with_case)
    served = make_elder(world.village, name="接受服务", risk_level="high")
    make_visit(served, user, days_ago=30)
    make_record(served, make_item(world.town), user, served_on=timezone.localdate() - timedelta(days=1))
    make_elder(world.village, name="低风险", risk_level="low")
    rows = {e.name: e for e in with_interventions(Elder.objects.filter(risk_level="high"))}
    assert rows["近期巡访"].intervened and rows["报过个案"].intervened and rows["接受服务"].intervened
    assert not rows["久未巡访"].intervened and rows["报过个案"].last_case_at is not None
    assert [e.name for e in high_risk_without_intervention(Elder.objects.all())] == ["久未巡访"]


def test_the_window_is_the_interval_or_the_period_and_the_scorecard_reads_the_period_form(world):
    """One definition, two windows: the alert asks about the elder's interval ending today (高: 7
    days), the scorecard about the period; a visit counts only while the schedule is not overdue."""
    user, today = world.users["village"], timezone.localdate()
    served_earlier = make_elder(world.village, name="月初服务", risk_level="high")
    make_visit(served_earlier, user, days_ago=30)
    make_record(served_earlier, make_item(world.town), user, served_on=today - timedelta(days=20))
    make_visit(make_elder(world.village, name="久未巡访", risk_level="high"), user, days_ago=30)
    make_visit(make_elder(world.village, name="近期巡访", risk_level="high"), user, days_ago=2)
    elders = Elder.objects.for_user(user)
    assert {e.name for e in high_risk_without_intervention(elders)} == {"月初服务", "久未巡访"}
    window = {e.name: e for e in with_interventions(elders)}["月初服务"]
    assert (window.window_start, window.window_end) == (today - timedelta(days=7), today)
    year = Period(YEAR, today)  # the service 20 days ago lies inside this year (and the visit is overdue)
    in_year = {e.name for e in high_risk_without_intervention(elders, period=year)}
    assert in_year == ({"久未巡访"} if today - timedelta(days=20) >= year.start else {"月初服务", "久未巡访"})
    for period in (year, Period(MONTH, today)):
        figures = compute([METRICS["sc_high_risk"], METRICS["sc_high_no_intervention"]], user, period,
                          world.village.code, None).total
        expected = {e.pk for e in high_risk_without_intervention(elders, period=period)}
        assert figures == {"sc_high_risk": 3, "sc_high_no_intervention": len(expected)}
        assert set(rows_of(METRICS["sc_high_no_intervention"], user, period).values_list("pk", flat=True)) == expected


def test_the_town_sees_the_alert_first_and_the_badge(login, world):
    make_visit(make_elder(world.village, name="久未巡访", risk_level="high"), world.users["village"], days_ago=30)
    make_visit(make_elder(world.village, name="按时巡访", risk_level="high"), world.users["village"], days_ago=1)
    page = login(world.users["town"]).get(reverse("oversight:high_risk")).content.decode()
    assert "1 位高风险老人在巡访周期内没有任何干预" in page
    assert page.index("久未巡访") < page.index("按时巡访") and "周期内无干预" in page


class TestHighRiskList(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return make_elder(world.village, name="甄高风险", risk_level="high")

    def url(self, obj):
        return reverse("oversight:high_risk")

    def marker(self, obj):
        return "甄高风险"
