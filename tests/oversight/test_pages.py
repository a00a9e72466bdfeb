"""Oversight pages: who may open them, what they show, and a query count that does not grow."""

import pytest
from django.urls import reverse

from tests.factories import make_elder
from tests.oversight.data import populate
from tests.visits.factories import register_days_ago

pytestmark = pytest.mark.django_db


def test_dashboard_lands_town_and_county_and_shows_the_figures(world, login):
    populate(world, per_village=1)
    response = login(world.users["town"]).get(reverse("oversight:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "锦屏镇 · 督导总览" in page
    assert "青龙村" in page and "石板村" not in page  # its villages, not the other town's
    assert "<svg" in page and "<script>" not in page  # charts without script (and no inline script)
    assert f"{reverse('oversight:rows', args=['overdue'])}?area={world.village.code}" in page


def test_county_opens_a_town_and_the_town_cannot_open_the_county(world, login):
    county = login(world.users["county"])
    response = county.get(reverse("oversight:dashboard"), {"area": world.other_town.code})
    assert "新市镇 · 督导总览" in response.content.decode() and "石板村" in response.content.decode()
    town = login(world.users["town"])
    assert town.get(reverse("oversight:dashboard"), {"area": world.county.code}).status_code == 404


def test_bad_period_is_explained_and_the_default_shown(world, login):
    response = login(world.users["town"]).get(reverse("oversight:dashboard"), {"on": "2026-13-01"}, follow=True)
    assert "无法识别" in response.content.decode()
    assert response.status_code == 200


def test_unknown_metric_is_404(world, login):
    assert login(world.users["town"]).get(reverse("oversight:rows", args=["nope"])).status_code == 404


def test_table_sorts_worst_first_and_by_any_column(world, login):
    populate(world, per_village=1)
    register_days_ago(make_elder(world.village2, name="加一位", age=70), 3)  # never visited: 青龙村 is worse
    client = login(world.users["town"])
    page = client.get(reverse("oversight:dashboard")).content.decode()
    assert page.index(">青龙村<") < page.index(">李家湾村<")
    page = client.get(reverse("oversight:dashboard"), {"sort": "overdue", "dir": "asc"}).content.decode()
    assert page.index(">李家湾村<") < page.index(">青龙村<")


@pytest.mark.parametrize("per_village", [1, 3])
def test_dashboard_query_count_does_not_grow_with_rows(world, login, django_assert_num_queries, per_village):
    populate(world, per_village=per_village)
    client = login(world.users["town"])
    client.get(reverse("oversight:dashboard"))
    # session, user (with their area); one grouped query per metric source (10: the schedule is
    # counted with the register) + the median; the four 12-month trends; the villages; the parent
    # check (the menu's counts and the session's renewal happened in the first request)
    with django_assert_num_queries(19):
        assert client.get(reverse("oversight:dashboard")).status_code == 200


def test_village_staff_see_their_own_figures_after_their_days_work(world, login):
    populate(world, per_village=1)
    client = login(world.users["village"])
    page = client.get(reverse("oversight:dashboard")).content.decode()
    assert "李家湾村 · 督导总览" in page and "unit-table" not in page  # its own tiles, no table
    assert f"{reverse('oversight:rows', args=['overdue'])}?area={world.village.code}" in page
    nav = page.split('class="mainnav"')[1].split("</nav>")[0]
    assert nav.index("今日待访") < nav.index("本村情况")
    assert client.get(reverse("oversight:dashboard"), {"area": world.village2.code}).status_code == 404


@pytest.mark.parametrize("per_village", [1, 3])
def test_report_and_scorecard_query_counts_do_not_grow_with_rows(world, login, django_assert_num_queries,
                                                                 per_village):
    populate(world, per_village=per_village)
    client = login(world.users["county"])
    for url, queries in [(reverse("oversight:report"), REPORT_QUERIES), (reverse("oversight:scorecard"),
                                                                       SCORECARD_QUERIES)]:
        client.get(url)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


# Session and user (with their area), plus for the report one grouped query per metric source of
# its tables (the main table's, with the register's make-up and the visits by method × outcome;
# the schedule counted with the register), one per other table section and the towns; for the
# scorecard one grouped query per metric source its items read (the schedule, the register checks
# and the risk review counted with the register), the weights version and the towns. (The menu's
# count and the session's renewal happened in the first request.)
REPORT_QUERIES = 16
SCORECARD_QUERIES = 18


def test_a_dashboard_as_of_a_past_day_counts_nothing_after_it_and_marks_the_current_figures(world, login):
    """as of 20 days ago: a visit 10 days ago (and a case reported today) are not counted, in the
    tiles, the per-village table, the trend or the drill-down; today's state figures say 当前."""
    from datetime import timedelta

    from django.utils import timezone

    from oversight.metrics import METRICS, METRICS_LIST, compute, monthly, rows_of
    from oversight.periods import MONTH, Period
    from tests.relief.factories import make_case
    from tests.visits.factories import make_visit

    today = timezone.localdate()
    on = today - timedelta(days=20)
    elder = make_elder(world.village, name="回看", age=80)
    make_visit(elder, world.users["village"], days_ago=25)
    make_visit(elder, world.users["village"], days_ago=10, method="home")
    make_case(world, elder=elder)
    town = world.users["town"]
    period = Period(MONTH, on)
    in_window = 1 if (today - timedelta(days=25)) >= period.start else 0
    figures = compute(METRICS_LIST, town, period, world.town.code, 12)
    assert figures.total["visits_done"] == in_window
    assert figures.total["visits_home"] == 0
    assert figures.total["visited"] == in_window
    assert figures.total["cases_new"] == 0
    assert rows_of(METRICS["visits_done"], town, period, world.town.code).count() == in_window
    trend = monthly(METRICS["visits_done"], town, period, world.town.code)
    assert sum(trend.values()) == 1  # the visit 25 days ago; not the one 10 days ago
    assert sum(monthly(METRICS["cases_new"], town, period, world.town.code).values()) == 0

    page = login(town).get(reverse("oversight:dashboard"), {"on": on.isoformat()}).content.decode()
    assert "之后录入或发生的不计入" in page
    assert '在册老人 <span class="current-tag">当前</span>' in page
    assert '巡访次数 <span class="current-tag">' not in page
    # Today's dashboard has no such marks.
    page = login(town).get(reverse("oversight:dashboard")).content.decode()
    assert "current-tag" not in page and "之后录入或发生的不计入" not in page
