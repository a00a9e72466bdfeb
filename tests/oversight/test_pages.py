"""Oversight pages: who may open them, what they show, and a query count that does not grow."""

import pytest
from django.urls import reverse

from tests.factories import make_elder
from tests.matrix import PageMatrix
from tests.oversight.data import populate
from tests.visits.factories import register_days_ago

pytestmark = pytest.mark.django_db


class TestTownDashboard(PageMatrix):
    """The town's dashboard lists its villages; another town's officer, village, clinic and
    department staff cannot open it (village staff get their figures on the home page)."""

    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "clinic", "police"]

    def make(self, world):
        return world.town

    def url(self, obj):
        return f"{reverse('oversight:dashboard')}?area={obj.code}"

    def marker(self, obj):
        return "李家湾村"


class TestCountyDashboard(PageMatrix):
    in_scope = ["county"]
    out_of_scope = ["town", "other_town", "village", "clinic", "police"]

    def make(self, world):
        return world.county

    def url(self, obj):
        return f"{reverse('oversight:dashboard')}?area={obj.code}"

    def marker(self, obj):
        return "新市镇"


class TestDrillDown(PageMatrix):
    """The elders behind a figure: out of scope, the area is a 404."""

    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        make_elder(world.village, name="钟秀兰", age=85, dibao=True)
        return world.village

    def url(self, obj):
        return f"{reverse('oversight:rows', args=['key_target'])}?area={obj.code}"

    def marker(self, obj):
        return "钟秀兰"


def test_dashboard_lands_town_and_county_and_shows_the_figures(world, login):
    populate(world, per_village=1)
    response = login(world.users["town"]).get(reverse("oversight:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "锦屏镇 · 督导总览" in page
    assert "青龙村" in page and "石板村" not in page  # its villages, not the other town's
    assert "<svg" in page and "<script" not in page
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
    # session, user, area (top bar); one grouped query per metric source (11) + the median;
    # the four 12-month trends; the villages; the parent check; nav badges (提醒, 救助待办, 健康管理);
    # session save (savepoint, update, release)
    with django_assert_num_queries(27):
        assert client.get(reverse("oversight:dashboard")).status_code == 200


def test_village_staff_see_their_figures_on_the_home_page(world, login):
    populate(world, per_village=1)
    response = login(world.users["village"]).get(reverse("home"))
    page = response.content.decode()
    if "本村情况" not in page:
        pytest.skip("the home page does not read home_panels yet")
    assert page.index("今日待访") < page.index("本村情况")
    assert f"{reverse('oversight:rows', args=['overdue'])}?area={world.village.code}" in page


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


# Session, user, area, the county's nav badge and the session save, plus for the report one grouped
# query per table section and metric source and the towns; for the scorecard one grouped query per
# metric source its items read, the weights version and the towns.
REPORT_QUERIES = 27
SCORECARD_QUERIES = 26
