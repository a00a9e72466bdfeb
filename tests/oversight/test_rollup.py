"""The visit rollup (oversight.rollup, VisitDay) equals the live count of visits per village and
day after every kind of write, and the dashboard's visit figures read from it still equal their
drill-down lists."""

import uuid
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

import oversight.scorecard  # noqa: F401  (registers sc_empty_visits, whose figure the rollup holds)
from oversight import reports, rollup
from oversight.metrics import METRICS, compute, monthly, rows_of
from oversight.models import VisitDay
from oversight.periods import MONTH, YEAR, Period
from registry.models import Elder
from registry.services import change_status
from relief import services as relief
from tests.census.helpers import person, write_workbook
from tests.factories import make_elder
from tests.oversight.data import populate
from tests.visits.factories import make_visit
from visits import services as visits
from visits.choices import VisitMethod, VisitOutcome
from visits.models import Visit

pytestmark = pytest.mark.django_db


def assert_rollup_is_live(world):
    assert rollup.differences() == []
    # …and the figures read from it are their drill-down lists' lengths, at every level.
    county = world.users["county"]
    for period in (Period(MONTH, timezone.localdate()), Period(YEAR, timezone.localdate())):
        for area, length in ((world.county.code, 9), (world.town.code, 12), (world.village.code, None)):
            # (with the reports' visits by method × outcome: one metric per rollup column)
            names = ("visits_done", "visits_home", "sc_empty_visits",
                     *(f"visits_{column}" for _method, _outcome, column in rollup.KINDS))
            figures = compute([METRICS[name] for name in names], county, period, area, length)
            for name in names:
                assert figures.total[name] == rows_of(METRICS[name], county, period, area).count(), (name, area)
                for unit, values in figures.units.items():
                    if unit:
                        assert values[name] == rows_of(METRICS[name], county, period, unit).count()
    # …and the reports' visits by method and outcome, summed from it, are the visits counted live.
    for area in (world.county, world.town, world.village2):
        period = Period(YEAR, timezone.localdate())
        kinds = [METRICS[f"visits_{column}"] for _method, _outcome, column in rollup.KINDS]
        table = reports._visits(compute(kinds, county, period, area.code, None).total)
        live = Visit.objects.filter(elder__village__code__startswith=area.code, visited_at__gte=period.since(),
                                    visited_at__lt=period.until())
        for (label, *counts), method in zip(table.rows, VisitMethod.values, strict=False):
            expected = [live.filter(method=method, outcome=outcome).count() for outcome in VisitOutcome.values]
            assert counts == [*expected, sum(expected)], (area.code, label)
        assert table.rows[-1][-1] == live.count()


def _visit_fields(**fields):
    checks = dict.fromkeys(["health_check", "mental_check", "housing_check", "fire_check", "weather_check",
                            "diet_check", "hygiene_check", "family_check"], "normal")
    return {"visited_at": timezone.now() - timedelta(hours=2), "method": "phone", "met_with": "本人", **checks,
            **fields}


def test_the_rollup_follows_every_kind_of_write(world):
    populate(world, per_village=1)
    assert VisitDay.objects.exists()
    assert_rollup_is_live(world)
    elder = Elder.objects.filter(village=world.village, status="active").first()

    # A visit recorded through the service, and corrected (another day, another method).
    visit, created = visits.record_visit(elder, acting_user=world.users["village"], submission_key=uuid.uuid4(),
                                         **_visit_fields())
    assert created
    assert_rollup_is_live(world)
    visits.update_visit(visit, acting_user=world.users["town"], visited_at=timezone.now() - timedelta(days=3),
                        method="home")
    assert_rollup_is_live(world)
    # Only the outcome corrected: same village, day and method, so only a method × outcome column moves.
    visits.update_visit(visit, acting_user=world.users["town"], outcome="help")
    assert VisitDay.objects.filter(home_help__gt=0).exists()
    assert_rollup_is_live(world)
    # A problem found and nothing done is an empty visit (流于形式); following it up makes it real.
    assert VisitDay.objects.filter(empty_visits__gt=0).exists()
    visits.update_visit(visit, acting_user=world.users["town"], notify_family=True)
    assert_rollup_is_live(world)
    visits.update_visit(visit, acting_user=world.users["town"], met_with="")
    assert_rollup_is_live(world)

    # A status change (the elder's visits still count: the live figure does not filter on status).
    change_status(elder, to_status="deceased", changed_on=timezone.localdate(), reason="病故",
                  acting_user=world.users["town"])
    assert_rollup_is_live(world)

    # A case step (a case and its acceptance write no visits; the rollup stays as it was).
    other = Elder.objects.filter(village=world.village, status="active").exclude(pk=elder.pk).first()
    case = relief.report_case(other, case_type="major_hardship", urgency="normal", narrative="房屋漏雨",
                              acting_user=world.users["village"])
    relief.accept_case(case, acting_user=world.users["town"])
    assert_rollup_is_live(world)

    # An elder moved to another village: their visits move with them (one row, then set-wise).
    moved = Elder.objects.filter(village=world.village2, status="active").first()
    moved.village = world.village
    moved.save()
    assert_rollup_is_live(world)
    Elder.objects.filter(village=world.village).update(village=world.village2)
    assert_rollup_is_live(world)

    # A bulk insert (what imports and seeders do: one statement for many visits), and removals.
    Visit.objects.bulk_create([
        Visit(elder=other, visitor=world.users["town"], visited_at=timezone.now() - timedelta(days=n),
              method="home" if n % 2 else "phone", submission_key=uuid.uuid4()) for n in range(40)])
    assert_rollup_is_live(world)
    Visit.objects.filter(elder=other, method="home").delete()
    assert_rollup_is_live(world)
    Visit.objects.filter(elder=other).update(outcome="attention", method="video")
    assert_rollup_is_live(world)
    Visit.objects.filter(elder=other).update(visited_at=timezone.now() - timedelta(days=400))
    assert_rollup_is_live(world)


@pytest.mark.django_db(transaction=True)
def test_a_census_import_that_moves_an_elder_moves_their_visits(world, tmp_path, settings):
    from registry.census.services import execute

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    elder = make_elder(world.village, name="王秀英", age=80)
    make_visit(elder, world.users["village"], days_ago=2)
    make_visit(elder, world.users["village"], days_ago=40, method="home")
    path = write_workbook(tmp_path / "survey.xlsx", [person("青龙村", "王秀英", elder.id_number)])
    execute(str(path), filename="survey.xlsx", user=world.users["town"])
    elder.refresh_from_db()
    assert elder.village_id == world.village2.code  # the import moved the elder
    assert rollup.differences() == []
    assert VisitDay.objects.filter(village=world.village2).aggregate(n=Sum("visits"))["n"] == 2


def test_the_trend_from_the_rollup_equals_the_live_monthly_counts(world):
    populate(world, per_village=2)
    make_visit(Elder.objects.filter(village=world.village).first(), world.users["village"], days_ago=70)
    county, period = world.users["county"], Period(MONTH, timezone.localdate())
    counts = monthly(METRICS["visits_done"], county, period, world.county.code)
    for month in period.trend_months():
        assert counts.get(month.start, 0) == rows_of(METRICS["visits_done"], county, month, world.county.code).count()
    assert sum(counts.values()) == Visit.objects.count()


def test_nightly_rebuild_repairs_and_check_reports(world, capsys):
    populate(world, per_village=1)
    VisitDay.objects.filter(village=world.village).update(visits=999)
    VisitDay.objects.filter(village=world.village2).update(phone_normal=7)
    VisitDay.objects.create(village=world.other_village, day=date(2001, 1, 1), visits=5)
    with pytest.raises(CommandError, match="不一致"):
        call_command("rebuild_rollups", "--check")
    out = capsys.readouterr().out
    assert "2001-01-01" in out and "电话·正常：汇总 7 次" in out
    call_command("rebuild_rollups")
    assert rollup.differences() == []
    call_command("rebuild_rollups", "--check")
    assert "一致" in capsys.readouterr().out


def test_the_rollup_is_scoped_like_the_visits(world):
    populate(world, per_village=1)
    period = Period(MONTH, timezone.localdate())
    town = compute([METRICS["visits_done"]], world.users["town"], period, "", 12)
    assert set(town.units) == {world.village.code, world.village2.code}  # not 石板村 of the other town
    clinic = compute([METRICS["visits_done"]], world.users["clinic"], period, world.town.code, 12)
    assert clinic.total["visits_done"] == 0  # clinic officers see no visits, counted or listed
