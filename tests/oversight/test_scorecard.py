"""The supervision scorecard: item scores, the weights version rule, shortfall lists equal to the
missing rows, and scoping."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from oversight.metrics import METRICS, compute, rows_of
from oversight.models import ScorecardVersion
from oversight.periods import MONTH, QUARTER, Period
from oversight.scorecard import (
    DEFAULT_WEIGHTS,
    ITEMS,
    SCORECARD_METRICS,
    item_score,
    metrics_needed,
    score,
    scores_of,
    weights_in_force,
)
from tests.factories import make_elder, make_guardian
from tests.oversight.data import populate

pytestmark = pytest.mark.django_db


def _period():
    return Period(QUARTER, timezone.localdate())


def test_item_score_against_the_target():
    assert item_score(0, 0, 95) == 100.0  # nothing concerned: nothing missed
    assert item_score(10, 0, 95) == 100.0
    assert item_score(10, 1, 90) == 100.0  # 90 % passes, target 90 %
    assert item_score(10, 2, 90) == round(100 * 80 / 90, 1)
    assert item_score(4, 4, 100) == 0.0


def test_dimension_is_the_weighted_mean_of_its_items():
    values = {"active": 10, "sc_incomplete": 5}  # 必填项: 50 % against 95 % → 52.6; the rest pass
    result = scores_of(values, DEFAULT_WEIGHTS)
    assert result["items"]["complete"]["score"] == 52.6
    assert result["dimensions"]["known"] == round((52.6 * 30 + 100 * 70) / 100, 1)
    assert result["dimensions"]["real"] == 100.0
    assert result["total"] == round((result["dimensions"]["known"] + 300) / 4, 1)


def test_register_items_on_known_data(world):
    make_elder(world.village, name="完整", age=70, living="alone", health="healthy", self_care="independent",
               phones=["13800000000"], address="一组")
    lacking = make_elder(world.village, name="缺项", age=70)  # no living, health, self-care, phone, address
    make_guardian(lacking, name="无电话", phone="")
    make_elder(world.village, name="年轻", age=55, living="alone", health="healthy", self_care="independent",
               phones=["13800000001"], address="二组")
    figures = compute(metrics_needed(), world.users["village"], _period(), world.village.code, None).total
    assert (figures["active"], figures["sc_incomplete"]) == (3, 1)
    assert (figures["sc_guardians"], figures["sc_guardian_no_phone"]) == (1, 1)
    assert figures["sc_implausible"] == 1  # under 60
    assert figures["sc_risk_not_current"] == 3  # nobody assessed


def test_duplicates_are_two_elders_on_the_register_of_one_village_with_name_and_birth_date(world):
    from registry.models import Elder

    twins = [make_elder(world.village, name="王秀英") for _ in range(2)]  # the factory's birth date: 1950-03-12
    make_elder(world.village2, name="王秀英")  # the same person's name and birth date in another village
    gone = make_elder(world.village, name="李桂兰")
    make_elder(world.village, name="李桂兰")
    Elder.objects.filter(pk=gone.pk).update(status="deceased")  # a duplicate that left the register
    make_elder(world.village, name="张德明")  # same birth date, another name
    county, period = world.users["county"], _period()
    rows = set(rows_of(METRICS["sc_implausible"], county, period).values_list("pk", flat=True))
    assert rows == {e.pk for e in twins}
    assert compute([METRICS["sc_implausible"]], county, period, world.county.code, 9).total["sc_implausible"] == 2
    village = world.users["village"]  # the village officer's own register finds the same two
    assert set(rows_of(METRICS["sc_implausible"], village, period).values_list("pk", flat=True)) == rows


@pytest.mark.parametrize("username,level", [("village", "village"), ("town", "town"), ("county", "county")])
def test_every_shortfall_list_has_exactly_the_missing_rows(world, client, username, level):
    populate(world, per_village=1)
    user = world.users[username]
    area = {"village": world.village, "town": world.town, "county": world.county}[level]
    period = _period()
    figures = compute(SCORECARD_METRICS, user, period, area.code, {"village": None, "town": 12, "county": 9}[level])
    client.force_login(user)
    for metric in SCORECARD_METRICS:
        expected = rows_of(metric, user, period, area.code).count()
        assert figures.total[metric.name] == expected, metric.name
        for code, values in figures.units.items():
            assert values.get(metric.name, 0) == rows_of(metric, user, period, code).count(), (metric.name, code)
        response = client.get(reverse("oversight:rows", args=[metric.name]),
                              {"area": area.code, "on": period.on, "period": period.kind})
        assert f"共 {expected} 条" in response.content.decode(), metric.name


def test_the_page_links_each_shortfall_to_its_list(world, login):
    populate(world, per_village=1)
    page = login(world.users["town"]).get(reverse("oversight:scorecard_area", args=[world.village.code])).content
    page = page.decode()
    overall, _ = score(world.users["town"], _period(), world.village.code, None, DEFAULT_WEIGHTS)
    missed = [i for i in ITEMS if overall["items"][i.name]["miss"]]
    assert missed
    for item in missed:
        link = f"{reverse('oversight:rows', args=[item.miss])}?area={world.village.code}"
        assert f'<a href="{link}' in page
        assert f'>{overall["items"][item.name]["miss"]}</a>' in page


def test_a_new_version_applies_from_its_date_and_old_periods_keep_theirs(world):
    ScorecardVersion.objects.all().delete()
    old = ScorecardVersion.objects.create(valid_from=date(2019, 1, 1), name="初始", weights=DEFAULT_WEIGHTS)
    strict = {**DEFAULT_WEIGHTS, "complete": [30, 100]}
    new = ScorecardVersion.objects.create(valid_from=date(2026, 7, 1), name="提高标准", weights=strict)
    assert ScorecardVersion.objects.in_force_on(Period(QUARTER, date(2026, 6, 30)).start) == old
    assert ScorecardVersion.objects.in_force_on(Period(QUARTER, date(2026, 8, 15)).start) == new
    assert ScorecardVersion.objects.in_force_on(Period(MONTH, date(2026, 7, 1)).start) == new
    # The one lookup the scorecard pages and the circulars use.
    weights, version = weights_in_force(Period(QUARTER, date(2026, 6, 30)))
    assert version == old and weights["complete"] == [30, 95]
    weights, version = weights_in_force(Period(MONTH, date(2026, 7, 1)))
    assert version == new and weights["complete"] == [30, 100]
    assert weights_in_force(Period(MONTH, date(2018, 12, 31))) == (DEFAULT_WEIGHTS, None)


def test_a_version_must_name_every_item_with_weight_and_target():
    with pytest.raises(ValidationError, match="缺少"):
        ScorecardVersion(valid_from=date(2026, 1, 1), name="x", weights={"complete": [30, 95]}).full_clean()
    with pytest.raises(ValidationError, match="权重"):
        ScorecardVersion(valid_from=date(2026, 1, 1), name="x", weights={**DEFAULT_WEIGHTS, "complete": [30, 0]}
                         ).full_clean()


def test_a_towns_scores_never_count_another_towns_elders(world):
    populate(world, per_village=1)
    mine, units = score(world.users["town"], _period(), world.town.code, 12, DEFAULT_WEIGHTS)
    assert set(units) == {world.village.code, world.village2.code}
    outsider, _ = score(world.users["other_town"], _period(), world.town.code, 12, DEFAULT_WEIGHTS)
    assert all(item["total"] == 0 for item in outsider["items"].values())
    assert mine["items"]["complete"]["total"] == 8


def test_village_sees_its_own_scores_only(world, login):
    populate(world, per_village=1)
    client = login(world.users["village"])
    page = client.get(reverse("oversight:scorecard")).content.decode()
    assert "李家湾村 · 督导评分" in page and "扣分原因" in page
    assert client.get(reverse("oversight:scorecard_area", args=[world.village2.code])).status_code == 404


def test_scorecard_metrics_are_drill_downs():
    assert all(m.name in METRICS for m in SCORECARD_METRICS)
