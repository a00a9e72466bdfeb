"""The metrics layer: known answers on hand-made data, figure == drill-down at every level, scoping."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oversight.metrics import METRICS, METRICS_LIST, compute, monthly, rows_of, share
from oversight.periods import MONTH, QUARTER, YEAR, Period, PeriodError, period_from
from registry.choices import ElderRiskLevel
from tests.factories import make_elder
from tests.oversight.data import populate
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db


def _period():
    return Period(MONTH, timezone.localdate())


def test_period_bounds_and_labels():
    march = Period(MONTH, date(2026, 3, 31))
    assert (march.start, march.end, march.label) == (date(2026, 3, 1), date(2026, 3, 31), "2026年3月")
    q = Period(QUARTER, date(2026, 5, 10))
    assert (q.start, q.end) == (date(2026, 4, 1), date(2026, 6, 30))
    assert q.label == "2026年第2季度（截至5月10日）"
    year = Period(YEAR, date(2026, 12, 31))
    assert (year.start, year.end) == (date(2026, 1, 1), date(2026, 12, 31))
    months = Period(MONTH, date(2026, 3, 15)).trend_months()
    assert [m.start for m in months][:2] == [date(2025, 4, 1), date(2025, 5, 1)]
    assert months[-1].on == date(2026, 3, 15) and months[0].on == date(2025, 4, 30)


def test_period_from_the_url_refuses_bad_input_with_a_clear_message():
    today = date(2026, 6, 1)
    assert period_from({"on": "2026-03-31", "period": "quarter"}, today) == Period(QUARTER, date(2026, 3, 31))
    for params, text in [({"period": "week"}, "月、季度或年"), ({"on": "2026-02-30"}, "无法识别"),
                         ({"on": "2026-07-01"}, "不能晚于今天")]:
        with pytest.raises(PeriodError, match=text):
            period_from(params, today)


def test_register_and_visit_metrics_on_a_known_village(world):
    populate(world, per_village=1)
    figures = compute(METRICS_LIST, world.users["village"], _period(), world.village.code, None).total
    # 甲 70, 乙 85 低保 高风险, 丙 75 失能独居 中风险 (never visited), 丁 62 低风险; 戊 died (not counted)
    assert figures["active"] == 4
    assert (figures["very_old"], figures["hardship"], figures["disabled_alone"]) == (1, 1, 1)
    assert figures["key_target"] == 2  # 乙 (高龄 + 经济困难) and 丙 (失能独居)
    assert (figures["risk_high"], figures["risk_medium"], figures["risk_low"], figures["risk_none"]) == (1, 1, 1, 1)
    assert figures["never_visited"] == 1
    assert figures["overdue"] == 2  # 乙 (last visit 30 days ago, key target: 15) and 丙 (never visited)
    assert figures["on_schedule"] == 2 and figures["scheduled"] == 4
    assert (figures["home_rule_due"], figures["home_rule_met"]) == (1, 0)
    assert figures["agreements_expiring"] == 1 and figures["guardian_refusals"] == 1
    assert figures["contract_valid"] == 1
    # 65+ due a check: 甲, 乙, 丙 (丁 is 62); checked: 乙. The village sees the yes/no, not the checks.
    assert (figures["health_due"], figures["health_checked"]) == (3, 1)
    assert figures["checks_done"] == 0


def test_visits_within_the_period_only(world):
    elder = make_elder(world.village, age=70)
    worker = world.users["village"]
    today = timezone.localdate()
    make_visit(elder, worker, days_ago=0)
    make_visit(elder, worker, days_ago=today.day)  # the last day of last month
    make_visit(elder, worker, days_ago=0, method="home")
    this_month = compute([METRICS["visits_done"], METRICS["visits_home"], METRICS["visited"]],
                         worker, _period(), world.village.code, None).total
    assert (this_month["visits_done"], this_month["visits_home"], this_month["visited"]) == (2, 1, 1)
    last_month = Period(MONTH, today - timedelta(days=today.day))
    assert compute([METRICS["visits_done"]], worker, last_month, world.village.code, None).total["visits_done"] == 1
    trend = monthly(METRICS["visits_done"], worker, _period(), world.village.code)
    assert trend == {today.replace(day=1): 2, last_month.start: 1}


def test_visited_this_period_from_the_visit_state_agrees_with_the_visits(world):
    """A period ending today reads the elder's latest visit (ElderVisitState); a past one searches
    the visits; both mean "a visit dated inside the period"."""
    worker, today = world.users["village"], timezone.localdate()
    period = _period()
    today_visit, last_month, after_end, after_end_only, never = (
        make_elder(world.village, name=name, age=70) for name in ("今天访过", "上月访过", "今晚及跨零点", "仅跨零点", "未访"))
    make_visit(today_visit, worker, days_ago=0)
    make_visit(last_month, worker, days_ago=today.day)  # the last day of last month
    make_visit(after_end, worker, days_ago=0)
    # Entered with the tolerance just past midnight: the latest visit lies after the period's end.
    make_visit(after_end, worker, visited_at=period.until() + timedelta(minutes=3))
    make_visit(after_end_only, worker, visited_at=period.until() + timedelta(minutes=3))
    rows = set(rows_of(METRICS["visited"], worker, period, world.village.code).values_list("name", flat=True))
    assert rows == {"今天访过", "今晚及跨零点"}
    live = {e.name for e in (today_visit, last_month, after_end, after_end_only, never)
            if e.visits.filter(visited_at__gte=period.since(), visited_at__lt=period.until()).exists()}
    assert rows == live
    assert compute([METRICS["visited"]], worker, period, world.village.code, None).total["visited"] == 2
    previous = Period(MONTH, today - timedelta(days=today.day))  # a past period: the visits themselves
    assert set(rows_of(METRICS["visited"], worker, previous, world.village.code).values_list("name", flat=True)) \
        == {"上月访过"}


def test_relief_metrics_and_median_acceptance(world):
    populate(world, per_village=1)
    figures = compute(METRICS_LIST, world.users["town"], _period(), world.town.code, 12)
    village = figures.units[world.village.code]
    assert (village["open_reported"], village["open_returned"], village["open_accepted"],
            village["open_in_progress"]) == (1, 1, 1, 1)
    assert village["cases_new"] == 5 and village["cases_closed"] == 1
    assert village["cases_accepted"] == 3  # accepted this month: accepted, in progress, closed
    assert figures.medians["cases_accepted"][""] is not None
    assert figures.total["cases_new"] == 10


def test_share_is_none_without_a_denominator():
    assert share(1, 0) is None
    assert share(1, 3) == 33.3


LEVELS = [("village", "village"), ("town", "town"), ("county", "county")]


@pytest.mark.parametrize("username,level", LEVELS)
def test_every_figure_equals_its_drill_down_row_count(world, client, username, level):
    """For every metric, at village, town and county level: the figure, the drill-down queryset
    and the drill-down page all give the same number."""
    populate(world, per_village=1)
    user = world.users[username]
    area = {"village": world.village, "town": world.town, "county": world.county}[level]
    period = _period()
    unit_length = {"village": None, "town": 12, "county": 9}[level]
    figures = compute(METRICS_LIST, user, period, area.code, unit_length)
    client.force_login(user)
    checked = 0
    for metric in METRICS_LIST:
        expected = rows_of(metric, user, period, area.code).count()
        assert figures.total[metric.name] == expected, metric.name
        for code, values in figures.units.items():
            assert values.get(metric.name, 0) == rows_of(metric, user, period, code).count(), (metric.name, code)
        response = client.get(reverse("oversight:rows", args=[metric.name]), {"area": area.code, "on": period.on})
        assert response.status_code == 200
        assert f"共 {expected} 条" in response.content.decode(), metric.name
        checked += expected > 0
    assert checked > 15  # the data exercises most metrics


def test_a_town_never_counts_another_towns_elders(world):
    populate(world, per_village=2)
    town = compute(METRICS_LIST, world.users["town"], _period(), world.town.code, 12)
    assert set(town.units) == {world.village.code, world.village2.code}
    county = compute(METRICS_LIST, world.users["county"], _period(), world.county.code, 9)
    assert set(county.units) == {world.town.code, world.other_town.code}
    for metric in METRICS_LIST:
        assert county.units.get(world.town.code, {}).get(metric.name, 0) == town.total[metric.name], metric.name
    # the other town's officer asking for our town's code gets nothing of ours
    other = compute(METRICS_LIST, world.users["other_town"], _period(), world.town.code, 12)
    assert all(value == 0 for value in other.total.values())


def test_a_village_sees_only_its_own_figures(world):
    populate(world, per_village=2)
    mine = compute(METRICS_LIST, world.users["village"], _period(), world.town.code, 12)
    assert set(mine.units) <= {world.village.code}
    assert mine.total["active"] == 8


def test_risk_high_counts_the_confirmed_level(world):
    make_elder(world.village, risk_level=ElderRiskLevel.HIGH)
    make_elder(world.village2, risk_level=ElderRiskLevel.HIGH)
    figures = compute([METRICS["risk_high"]], world.users["town"], _period(), world.town.code, 12)
    assert figures.units[world.village.code]["risk_high"] == 1
    assert figures.total["risk_high"] == 2
