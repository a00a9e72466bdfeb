"""Statistical reports: the tables, the printable page, the workbook, and closed periods that
never change once reported."""

from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from eldercare.models import AccessEvent
from oversight.models import ReportSnapshot
from oversight.periods import MONTH, Period
from oversight.reports import build_report
from registry import services as registry_services
from registry.models import Elder
from tests.factories import make_elder
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day, hour=10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def _table(report, number):
    return report.tables[number]


def test_report_tables_on_known_data(world):
    with _at(date(2026, 3, 10)):
        a = make_elder(world.village, name="甲", age=82, dibao=True)
        b = make_elder(world.village2, name="乙", age=70, living="alone", self_care="disabled")
        make_visit(a, world.users["village"], days_ago=1, method="home")
        make_visit(b, world.users["village2"], days_ago=2)
        registry_services.change_status(b, to_status="moved", changed_on=date(2026, 3, 9), reason="随子女进城",
                                        acting_user=world.users["town"])
        report = build_report(world.users["town"], world.town, Period(MONTH, date(2026, 3, 10)))
    overview, register, movements, visits = report.tables[:4]
    assert [row[0] for row in overview.rows] == ["李家湾村", "青龙村", "合计"]
    assert overview.rows[-1][1] == 1  # 在册: 乙 moved away
    assert register.rows[0][:2] == ["在册老人", 1] and register.rows[3][:2] == ["高龄(80岁以上)", 1]
    assert ["新登记", 2] in movements.rows and ["转为：迁出", 1] in movements.rows
    assert visits.rows[0][0] == "上门" and visits.rows[0][-1] == 1 and visits.rows[-1][-1] == 2


def test_a_closed_months_report_is_the_same_when_run_later(world, client):
    """March, reported on 2 April; then a visit entered late, a backdated status change and an
    edited record: the March report run in May shows the April numbers. The live figures moved."""
    with _at(date(2026, 3, 10)):
        elder = make_elder(world.village, name="甲", age=82, dibao=True)
        other = make_elder(world.village, name="乙", age=70)
        make_visit(elder, world.users["village"], days_ago=1)
    url = reverse("oversight:report")
    march = {"on": "2026-03-31", "period": "month"}
    with _at(date(2026, 4, 2)):
        client.force_login(world.users["town"])
        april_page = client.get(url, march).content.decode()
        april = ReportSnapshot.objects.get().tables
        make_visit(other, world.users["village"], visited_at=datetime(2026, 3, 30, 9, tzinfo=SHANGHAI))
        registry_services.change_status(Elder.objects.get(pk=other.pk), to_status="deceased",
                                        changed_on=date(2026, 3, 25), reason="病故", acting_user=world.users["town"])
        Elder.objects.filter(pk=elder.pk).update(living="alone", self_care="disabled")
    with _at(date(2026, 5, 10)):
        client.force_login(world.users["town"])
        may_page = client.get(url, march).content.decode()
        assert ReportSnapshot.objects.get().tables == april
        live = build_report(world.users["town"], world.town, Period(MONTH, date(2026, 3, 31)))
    assert [t.rows for t in live.tables] != [t["rows"] for t in april]  # the data did change
    tables = lambda page: page.split("</header>")[2].split("</article>")[0]  # noqa: E731 (after the report's head)
    assert "二、在册老人规模与构成" in tables(april_page)
    assert tables(april_page) == tables(may_page)
    assert "本期已结束，报表于 2026-04-02" in may_page


def test_the_current_period_is_live(world, client):
    client.force_login(world.users["town"])
    response = client.get(reverse("oversight:report"))
    assert response.status_code == 200 and "本期尚未结束" in response.content.decode()
    assert not ReportSnapshot.objects.exists()


def test_freeze_reports_stores_every_town_and_the_county_at_the_close(world):
    with _at(date(2026, 4, 1), hour=0):
        call_command("freeze_reports")
    stored = set(ReportSnapshot.objects.values_list("area_code", "kind", "start"))
    codes = {world.county.code, world.town.code, world.other_town.code}
    assert stored == {(c, MONTH, date(2026, 3, 1)) for c in codes} | {(c, "quarter", date(2026, 1, 1)) for c in codes}
    call_command("freeze_reports", date="2026-03-31")  # again: nothing changes, nothing fails
    assert ReportSnapshot.objects.count() == 6


def test_report_workbook_has_one_sheet_per_table_and_is_recorded(world, login):
    make_elder(world.village, name="=SUM(A1)", age=70)
    response = login(world.users["county"]).get(reverse("oversight:report_export"), {"period": "year"})
    workbook = load_workbook(BytesIO(response.getvalue()))
    assert len(workbook.sheetnames) == 7 and workbook.sheetnames[0].startswith("一、各乡镇")
    assert AccessEvent.objects.get(kind="export").detail["what"] == "oversight.report"


def test_county_report_is_by_town(world, login):
    page = login(world.users["county"]).get(reverse("oversight:report")).content.decode()
    assert "屏山县农村留守老年人关爱服务统计报表" in page and "一、各乡镇主要指标" in page and "新市镇" in page


def test_snapshots_are_scoped_to_the_area(world):
    with _at(date(2026, 4, 2)):
        call_command("freeze_reports", date="2026-03-31")
    assert set(ReportSnapshot.objects.for_user(world.users["town"]).values_list("area_code", flat=True)) == {
        world.town.code}
    assert not ReportSnapshot.objects.for_user(world.users["village"]).exists()


def test_the_reports_own_figures_are_their_drill_down_lists(world):
    """其中男 / 其中女 and the visits by method × outcome are metrics like the dashboard's: each figure,
    for the county, a town and per unit, is the length of its list."""
    from oversight.metrics import compute, rows_of
    from oversight.reports import REPORT_METRICS

    make_elder(world.village, name="甲")
    b = make_elder(world.village2, name="乙", male=False)
    make_elder(world.other_village, name="丙", male=False)
    make_visit(b, world.users["village2"], days_ago=0, method="home", outcome="attention")
    make_visit(b, world.users["village2"], days_ago=0)
    county, period = world.users["county"], Period(MONTH, timezone.localdate())
    for area, length in ((world.county.code, 9), (world.town.code, 12)):
        figures = compute(REPORT_METRICS, county, period, area, length)
        for metric in REPORT_METRICS:
            assert figures.total[metric.name] == rows_of(metric, county, period, area).count(), metric.name
            for unit, values in figures.units.items():
                assert values.get(metric.name, 0) == rows_of(metric, county, period, unit).count(), (metric.name, unit)
    assert figures.total["female"] == 1 and figures.total["visits_home_attention"] == 1
