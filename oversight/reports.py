"""Statistical reports (统计报表) for a town or the county, by month, quarter or year.

A report is a list of tables, each computed by grouped queries over the apps' own scoped
querysets (the figures also shown on the dashboard come from `oversight.metrics`). A county
report has one row per town in its main table; a town's, one row per village.

Reproducibility: a report for a *closed* period (its last day has passed) is computed once and
stored (`ReportSnapshot`); every later request for the same area and period reads the stored
tables, so the March report run in May shows exactly what it showed in early April, whatever was
entered, corrected or backdated since. `manage.py freeze_reports` (run nightly) stores the
periods that closed the day before for every town and the county, so the stored report is the
one as of the close. A report of the current period is computed live each time.
"""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eldercare.choices import AreaLevel
from eldercare.models import Area
from oversight.metrics import METRICS, REGISTER, VISITS, WITHIN, Metric, compute, share
from oversight.rollup import KINDS
from registry.choices import ElderSex, ElderStatus
from registry.models import Elder, ElderStatusChange
from relief.choices import ReliefCaseType
from relief.models import ReliefCase
from services.models import FamilyDoctorContract, HealthCheck, Pairing, ServiceRecord
from visits.choices import VisitMethod, VisitOutcome

UNIT_METRICS = ["active", "key_target", "disabled_alone", "risk_high", "visits_done", "visited", "overdue",
                "cases_new", "cases_closed", "health_checked", "contract_valid"]

# The report's own figures, defined like the dashboard's (oversight.metrics) and counted in the same
# grouped queries as the main table: the register's sexes, and the visits by method × outcome, each
# the sum of its rollup column (oversight.rollup.KINDS; the rollup equals the live counts after
# every write, tests/oversight/test_rollup.py). Registered in METRICS, so each has its drill-down.
REPORT_METRICS = [
    Metric("male", gettext_lazy("其中男"), REGISTER, Q(sex=ElderSex.MALE), denominator="active"),
    Metric("female", gettext_lazy("其中女"), REGISTER, Q(sex=ElderSex.FEMALE), denominator="active"),
    *[Metric(f"visits_{column}", format_lazy("{}·{}", VisitMethod(method).label, VisitOutcome(outcome).label), VISITS,
             Q(method=method, outcome=outcome), semantics=WITHIN, worse_when_higher=False, rollup=column)
      for method, outcome, column in KINDS],
]
for _metric in REPORT_METRICS:
    assert _metric.name not in METRICS, _metric.name
    METRICS[_metric.name] = _metric
# The figures of 二、在册老人规模与构成, in the table's order (counted with the main table's).
REGISTER_ROWS = ["active", "male", "female", "very_old", "disabled", "hardship", "alone", "disabled_alone",
                 "key_target"]


@dataclass
class Table:
    """One table of a report (and one sheet of its workbook)."""

    title: str
    header: list
    rows: list = field(default_factory=list)


@dataclass
class Report:
    area_code: str
    area_name: str
    period_label: str
    tables: list
    frozen_at: str = ""  # local time the stored copy was made ("" for a live report)


def _units(user, area):
    """The rows of the main table: the county's towns, or the town's villages."""
    level, length = (AreaLevel.TOWN, 9) if area.level == AreaLevel.COUNTY else (AreaLevel.VILLAGE, 12)
    return list(Area.objects.for_user(user).filter(level=level, code__startswith=area.code)), length


def _by_unit(queryset, path, length, **aggregates):
    """{unit code: {aggregate: value}} of a queryset grouped by the first `length` digits of `path`."""
    grouped = queryset.order_by().annotate(unit=Substr(path, 1, length)).values("unit").annotate(**aggregates)
    return {row.pop("unit"): row for row in grouped}


def build_report(user, area, period) -> Report:
    """The report of `area` for `period`, live (see `report_for` for stored ones)."""
    units, length = _units(user, area)
    # The metrics of the main table, also those of the register, visits and health tables (one
    # grouped query per source: the register, the schedule, the rollup …, whatever the tables).
    names = dict.fromkeys([*UNIT_METRICS, "scheduled", "health_due", *REGISTER_ROWS,
                           *(f"visits_{column}" for _method, _outcome, column in KINDS)])
    figures = compute([METRICS[name] for name in names], user, period, area.code, length)
    tables = [_overview(figures, units, length), _register(figures.total),
              _movements(user, area, period), _visits(figures.total), _relief(user, area, period),
              _health(user, area, period, figures.total), _services(user, area, period)]
    for table in tables:  # plain values (lazy labels become text): the stored copy is JSON
        table.title, table.header = str(table.title), [str(h) for h in table.header]
        table.rows = [[str(v) if isinstance(v, Promise) else v for v in row] for row in table.rows]
    return Report(area.code, area.name, period.label, tables)


def _overview(figures, units, length):
    metrics = [METRICS[name] for name in UNIT_METRICS]
    header = [_("乡镇") if length == 9 else _("村(社区)")]
    for metric in metrics:
        header.append(metric.label + ("(%)" if metric.denominator else ""))
    table = Table(_("一、各%s主要指标") % header[0], header)
    for name, values in [*((u.name, figures.units.get(u.code, {})) for u in units), (_("合计"), figures.total)]:
        row = [name]
        for metric in metrics:
            count = values.get(metric.name, 0)
            row.append(share(count, values.get(metric.denominator, 0)) if metric.denominator else count)
        table.rows.append(row)
    return table


def _register(totals):
    """The register's make-up: the main table's totals (`totals`, the area's figures)."""
    rows = [[METRICS[name].label, totals[name], share(totals[name], totals["active"]) if name != "active" else ""]
            for name in REGISTER_ROWS]
    return Table(_("二、在册老人规模与构成（期末）"), [_("项目"), _("人数"), _("占在册(%)")], rows)


def _movements(user, area, period):
    """Entries (registered in the period) and exits (status changes dated in the period) by reason."""
    entered = Elder.objects.for_user(user).filter(village__code__startswith=area.code, created_at__gte=period.since(),
                                                  created_at__lt=period.until()).count()
    changes = (ElderStatusChange.objects.for_user(user)
               .filter(elder__village__code__startswith=area.code, changed_on__gte=period.start,
                       changed_on__lte=period.on)
               .values("to_status").annotate(n=Count("pk")))
    by_status = {row["to_status"]: row["n"] for row in changes}
    rows = [[_("新登记"), entered]]
    rows += [[_("转为：%s") % label, by_status.get(value, 0)] for value, label in ElderStatus.choices]
    return Table(_("三、本期增减（按原因）"), [_("变动"), _("人数")], rows)


def _visits(totals):
    """Visits by method and outcome: the area's figures of the method × outcome metrics, summed
    from the visit rollup with the main table's 巡访次数 (a year of the county is ~56,000
    village-days instead of ~450,000 visits)."""
    rows = []
    for method, label in VisitMethod.choices:
        values = [totals[f"visits_{method}_{outcome}"] for outcome in VisitOutcome.values]
        rows.append([label, *values, sum(values)])
    totals = [sum(row[n] for row in rows) for n in range(1, len(VisitOutcome.values) + 2)]
    rows.append([_("合计"), *totals])
    return Table(_("四、巡访（按方式和结果）"), [_("方式"), *VisitOutcome.labels, _("合计")], rows)


def _relief(user, area, period):
    cases = ReliefCase.objects.for_user(user).with_clocks().filter(
        village__code__startswith=area.code, reported_at__gte=period.since(), reported_at__lt=period.until())
    counts = {row["case_type"]: row for row in cases.order_by().values("case_type").annotate(
        reported=Count("pk"), closed=Count("pk", filter=Q(status="closed")),
        closed_late=Count("pk", filter=Q(closed_late=True)), open_overdue=Count("pk", filter=Q(is_overdue=True)))}
    figures = compute([METRICS["cases_accepted"]], user, period, area.code, None)
    median = figures.medians.get("cases_accepted", {}).get("")
    rows = []
    for value, label in ReliefCaseType.choices:
        row = counts.get(value, {})
        rows.append([label, row.get("reported", 0), row.get("closed", 0), row.get("closed_late", 0),
                     row.get("open_overdue", 0)])
    rows.append([_("合计"), *[sum(r[n] for r in rows) for n in range(1, 5)]])
    rows.append([_("本期受理用时中位数(小时)"), round(median.total_seconds() / 3600, 1) if median else "—", "", "", ""])
    return Table(_("五、特殊情况救助（本期上报的个案）"),
                 [_("情况类型"), _("上报"), _("已办结"), _("其中超时办结"), _("未办结且超时")], rows)


def _health(user, area, period, totals):
    """Checks and contracts of the period, and the health figures of the main table's totals
    (`totals`: health_due, health_checked, contract_valid, active)."""
    checks = HealthCheck.objects.for_user(user).filter(elder__village__code__startswith=area.code,
                                                       checked_on__gte=period.start, checked_on__lte=period.on)
    signed = FamilyDoctorContract.objects.for_user(user).filter(elder__village__code__startswith=area.code,
                                                                signed_on__gte=period.start, signed_on__lte=period.on)
    figures = totals
    rows = [[_("本期体检人次"), checks.count()],
            [_("本期新签家庭医生"), signed.count()],
            [_("65岁以上应体检人数(今年)"), figures["health_due"]],
            [_("今年已体检(%)"), share(figures["health_checked"], figures["health_due"])],
            [_("家庭医生签约有效(%)"), share(figures["contract_valid"], figures["active"])]]
    return Table(_("六、健康管理"), [_("项目"), _("数值")], rows)


def _services(user, area, period):
    records = ServiceRecord.objects.for_user(user).filter(elder__village__code__startswith=area.code,
                                                          served_on__gte=period.start, served_on__lte=period.on)
    totals = records.aggregate(n=Count("pk"), elders=Count("elder", distinct=True),
                               minutes=Sum("duration_minutes", filter=Q(volunteer__isnull=False)),
                               volunteers=Count("volunteer", distinct=True))
    pairings = Pairing.objects.for_user(user).filter(elder__village__code__startswith=area.code).aggregate(
        current=Count("pk", filter=Q(Q(ended_on__isnull=True) | Q(ended_on__gt=period.on), started_on__lte=period.on)),
        started=Count("pk", filter=Q(started_on__gte=period.start, started_on__lte=period.on)))
    current, started = pairings["current"], pairings["started"]
    rows = [[_("服务记录"), totals["n"]], [_("受服务老人"), totals["elders"]],
            [_("参与志愿者"), totals["volunteers"]], [_("志愿服务时长(小时)"), round((totals["minutes"] or 0) / 60, 1)],
            [_("期末结对帮扶"), current], [_("本期新结对"), started]]
    return Table(_("七、关爱服务与结对帮扶"), [_("项目"), _("数值")], rows)


# --- Stored reports of closed periods ------------------------------------------------------


def report_for(user, area, period) -> Report:
    """The report to show: the stored copy for a closed period (stored now if there is none yet),
    else a live one."""
    from oversight.models import ReportSnapshot

    if not period.is_closed:
        return build_report(user, area, period)
    key = {"area_code": area.code, "kind": period.kind, "start": period.start}
    # The stored copy is read on the primary even when the page reads from the replica: one
    # stored a moment ago may not have been replayed there yet (and is not stored twice).
    stored = ReportSnapshot.objects.using(DEFAULT_DB_ALIAS).filter(**key).first()
    if stored is None:
        stored = freeze(user, area, period)
    return Report(stored.area_code, area.name, period.label, [Table(**t) for t in stored.tables],
                  frozen_at=f"{timezone.localtime(stored.frozen_at):%Y-%m-%d %H:%M}")


def freeze(user, area, period):
    """Store the report of a closed period for `area` (once: a second call returns the first copy)."""
    from oversight.models import ReportSnapshot

    report = build_report(user, area, period)
    try:
        with transaction.atomic():
            return ReportSnapshot.objects.create(area_code=area.code, kind=period.kind, start=period.start,
                                                 end=period.end, tables=[asdict(t) for t in report.tables])
    except IntegrityError:  # someone stored it meanwhile: theirs stands
        return ReportSnapshot.objects.using(DEFAULT_DB_ALIAS).get(area_code=area.code, kind=period.kind,
                                                                 start=period.start)


def periods_closed_on(day):
    """The periods whose last day is `day` (a month always; a quarter and a year at their ends)."""
    from oversight.periods import MONTH, QUARTER, YEAR, Period

    closed = [Period(MONTH, day)] if (day + timedelta(days=1)).day == 1 else []
    if closed and day.month % 3 == 0:
        closed.append(Period(QUARTER, day))
    if closed and day.month == 12:
        closed.append(Period(YEAR, day))
    return closed
