"""Every figure of the dashboards (and, next, the reports and the scorecard), defined once.

A `Metric` names the rows it counts: `rows(user, period)` is a queryset read through the apps'
own scoped managers and definitions (`annotate_schedule` for overdue, `with_clocks` for the case
clocks, `with_health_status` for health coverage, the register's flag annotations …), never a
re-derivation. The dashboard figure is that queryset counted per village in ONE grouped query per
`Source` (several metrics of one source share the query as `COUNT(*) FILTER (WHERE …)`, which is
the count of `source.filter(q)`; a source that only annotates another's rows shares that one's); the drill-down list is `rows()` itself, so the figure and the
list cannot disagree. Town and county figures are the same query grouped by a shorter prefix of
the village code. A rate is a metric with a `denominator` (another metric).

Two kinds of period semantics (`Metric.semantics`):

- STATE: the state today (在册, 逾期, open cases …) — the apps keep current state, not history;
- WITHIN: events dated inside the period (visits done, cases reported / closed …), from the
  period's first day to its "as of" day inclusive — nothing dated after the "as of" day counts.

A dashboard "as of" a past day therefore shows the WITHIN figures as of that day and the
`current_only` ones (STATE metrics, and WITHIN metrics counted among today's rows, such as the
elders on the register today who were visited in the period) as today's, marked 当前 on the page.

docs/metrics.md lists every metric in plain Chinese with the policy sentence it serves.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oversight.models import VisitDay
from registry.choices import ElderRiskLevel, SupervisionResult
from registry.models import CareAgreement, Elder, Supervision
from relief.choices import ReliefCaseStatus
from relief.models import ReliefCase
from services.models import HealthCheck, health_check_due_elders, with_health_status
from visits.models import Visit
from visits.schedule import annotate_schedule

STATE, WITHIN = "state", "within"
VILLAGE_CODE_LENGTH = 12


class Median(models.Aggregate):
    """percentile_cont(0.5) of an interval or a number (PostgreSQL ordered-set aggregate)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.DurationField()


@dataclass(frozen=True)
class Source:
    """Rows of one kind that several metrics count with different conditions, in one query."""

    name: str
    rows: Callable  # (user, period) -> scoped queryset
    village: str  # lookup from a row to its 12-digit village code
    kind: str  # how the drill-down shows a row: elder / visit / case / agreement / supervision
    date_field: str = ""  # the event date of a WITHIN source (for monthly trends)
    # (user, period) -> rollup rows (`village_id`, `day`) of the source within the period, for the
    # metrics that name a rollup column (`Metric.rollup`); None: the source has no rollup.
    rollup: Callable | None = None
    # The rows are today's state (the register, the schedule, open cases …), whatever the period:
    # a figure from such a source cannot be read "as of" a past day (`Metric.current_only`).
    state: bool = False
    # A source whose rows are another source's (`extends`) with more annotations (`annotate`:
    # (queryset, user, period) -> that queryset annotated): its metrics are counted in the other's
    # grouped query, with the annotations of every such source the figures need, so the rows are
    # read once (the schedule and the scorecard's register checks are the register's 在册 elders).
    # Made by `extension()`, whose `rows` are exactly that: the drill-down is the same queryset.
    extends: "Source | None" = None
    annotate: Callable | None = None


def extension(base: Source, name: str, annotate: Callable) -> Source:
    """A source of `base`'s rows with `annotate`'s annotations (see `Source.extends`)."""
    return Source(name, lambda user, period: annotate(base.rows(user, period), user, period), base.village,
                  base.kind, base.date_field, state=base.state, extends=base, annotate=annotate)


@dataclass(frozen=True)
class Metric:
    """One figure: a label, the rows it counts (its source narrowed by `q`), its period semantics,
    the metric it is a share of (`denominator`) and the policy sentence it serves."""

    name: str
    label: str
    source: Source
    q: Q = field(default_factory=Q)
    semantics: str = STATE
    denominator: str | None = None
    worse_when_higher: bool = True  # for "worst first": a higher share is worse
    median_of: object = None  # a duration expression: the figure shown is its median over the rows
    policy: str = ""
    # The column of the source's rollup that holds this figure per village and day (the sum over
    # the period's days equals the count of `rows()`: oversight.rollup, tests/oversight/test_rollup.py).
    rollup: str = ""
    # The metric whose rows this one's are NOT (its `q` is that metric's negated): counted as the
    # source's rows minus that metric's, so the condition is computed once per row, not twice
    # (按时 and 逾期 each spelled out the whole schedule). That condition must never be NULL, as
    # `is_overdue` is not; tests/oversight check figure == drill-down at every level.
    complement_of: str = ""

    @property
    def current_only(self) -> bool:
        """The figure is today's, even on a dashboard "as of" a past day: a STATE metric, or one
        counted among today's rows (e.g. 本期探访到的在册老人: visited in the period, among the
        elders on the register today). The dashboard marks these as 当前 when `on` is past."""
        return self.semantics == STATE or self.source.state

    @property
    def from_rollup(self) -> bool:
        return bool(self.rollup and self.source.rollup)

    @property
    def is_median(self) -> bool:
        return self.median_of is not None


# --- Sources ------------------------------------------------------------------------------


def _register(user, period):
    """在册 elders with the register's flags, health status as of today and "visited in period"."""
    today = timezone.localdate()
    since, until = period.since(), period.until()
    visited = Exists(Visit.objects.filter(elder=OuterRef("pk"), visited_at__gte=since, visited_at__lt=until))
    if period.on == today:
        # A period ending today: the elder's latest visit (ElderVisitState, kept by the visit
        # services) falls in it — one join instead of a search of each elder's visits. Only a latest
        # visit after the period's end (entered with the few minutes' tolerance past midnight)
        # leaves the question to the visits themselves.
        last = "visit_state__last_visit_at"
        visited = ExpressionWrapper(Q(**{f"{last}__gte": since, f"{last}__lt": until})
                                    | Q(Q(**{f"{last}__gte": until}), visited), output_field=models.BooleanField())
    return with_health_status(Elder.objects.for_user(user).active(), today).annotate(visited_in_period=visited)


def _health_due(user, period):
    """65+ elders due an annual check this year (the services app's definition), with their status."""
    today = timezone.localdate()
    return with_health_status(health_check_due_elders(Elder.objects.for_user(user), today), today)


def _visits(user, period):
    return Visit.objects.for_user(user).filter(visited_at__gte=period.since(), visited_at__lt=period.until())


def _visit_days(user, period):
    return VisitDay.objects.for_user(user).filter(day__gte=period.start, day__lte=period.on)


def _cases(user, period):
    return ReliefCase.objects.for_user(user).with_clocks()


def _cases_between(field_name):
    def rows(user, period):
        return ReliefCase.objects.for_user(user).with_clocks().filter(
            **{f"{field_name}__gte": period.since(), f"{field_name}__lt": period.until()})
    return rows


def _checks(user, period):
    return HealthCheck.objects.for_user(user).filter(checked_on__gte=period.start, checked_on__lte=period.on)


def _agreements(user, period):
    return CareAgreement.objects.for_user(user).expiring()


def _refusals(user, period):
    return Supervision.objects.for_user(user).filter(result=SupervisionResult.REFUSED,
                                                     supervised_on__gte=period.start, supervised_on__lte=period.on)


REGISTER = Source("register", _register, "village__code", "elder", state=True)
HEALTH_DUE = Source("health_due", _health_due, "village__code", "elder", state=True)
# The schedule of the 在册 elders (annotate_schedule keeps only them): the register's rows.
SCHEDULE = extension(REGISTER, "schedule", lambda rows, user, period: annotate_schedule(rows))
VISITS = Source("visits", _visits, "elder__village__code", "visit", date_field="visited_at", rollup=_visit_days)
CASES = Source("cases", _cases, "village__code", "case", state=True)
CASES_REPORTED = Source("cases_reported", _cases_between("reported_at"), "village__code", "case", "reported_at")
CASES_CLOSED = Source("cases_closed", _cases_between("closed_at"), "village__code", "case", "closed_at")
CASES_ACCEPTED = Source("cases_accepted", _cases_between("accepted_at"), "village__code", "case", "accepted_at")
CHECKS = Source("checks", _checks, "elder__village__code", "check", date_field="checked_on")
AGREEMENTS = Source("agreements", _agreements, "elder__village__code", "agreement", state=True)
REFUSALS = Source("refusals", _refusals, "elder__village__code", "supervision", date_field="supervised_on")

# --- Metrics ------------------------------------------------------------------------------

P_REGISTER = "二(一)：建立动态管理数据库，准确掌握农村留守老年人的数量规模、经济来源、家庭结构、健康状况、照料情况；三(一)：重点排查经济困难家庭的高龄、失能留守老年人"
P_RISK = "二(五)：探索建立留守老年人风险评估制度，制定风险等级标准，对风险等级高的留守老年人及时进行干预"
P_VISITS = "二(三)：建立定期巡访制度，采取电话问候、上门看望等方式，定期探访留守老年人"
P_HOME = "二(二)：避免让生活不能自理的老年人单独居住生活；二(三)：上门看望"
P_RELIEF = "二(五)：发现特殊情况要及时报告，相关单位和部门依据分工实施关爱救助；三(四)：突发事件处置不及时的要严肃处理"
P_HEALTH = "二(五)：每年为辖区内65岁及以上的留守老年人提供1次健康管理服务；优先做好做实家庭医生签约服务"
P_AGREEMENT = "二(二)：赡养义务人可签订委托照顾协议，相关情况向村(居)民委员会报备"
P_GUARDIAN = "二(二)：对赡养人不履行赡养义务的，村(居)民委员会应当监督其履行；情节严重的依法追究法律责任"

S = ReliefCaseStatus
OVERDUE = Q(is_overdue=True)  # never NULL (visits.schedule): 按时 is its complement
OPEN_STAGES = [S.REPORTED, S.RETURNED, S.ACCEPTED, S.REFERRED, S.RECEIVED, S.IN_PROGRESS]

METRICS_LIST = [
    # 底数 — the register
    Metric("active", _("在册老人"), REGISTER, worse_when_higher=False, policy=P_REGISTER),
    Metric("very_old", _("高龄(80岁以上)"), REGISTER, Q(is_very_old=True), denominator="active", policy=P_REGISTER),
    Metric("disabled", _("失能(含半失能)"), REGISTER, Q(is_disabled=True), denominator="active", policy=P_REGISTER),
    Metric("hardship", _("经济困难"), REGISTER, Q(is_hardship=True), denominator="active", policy=P_REGISTER),
    Metric("alone", _("独居"), REGISTER, Q(is_alone=True), denominator="active", policy=P_REGISTER),
    Metric("disabled_alone", _("失能独居"), REGISTER, Q(is_disabled_alone=True), denominator="active",
           policy=P_HOME),
    Metric("key_target", _("重点对象"), REGISTER, Q(is_key_target=True), denominator="active", policy=P_REGISTER),
    Metric("risk_high", _("高风险"), REGISTER, Q(risk_level=ElderRiskLevel.HIGH), denominator="active", policy=P_RISK),
    Metric("risk_medium", _("中风险"), REGISTER, Q(risk_level=ElderRiskLevel.MEDIUM), denominator="active",
           policy=P_RISK),
    Metric("risk_low", _("低风险"), REGISTER, Q(risk_level=ElderRiskLevel.LOW), denominator="active",
           worse_when_higher=False, policy=P_RISK),
    Metric("risk_none", _("未评估风险"), REGISTER, Q(risk_level=""), denominator="active", policy=P_RISK),
    # 巡访 — visits
    Metric("visits_done", _("巡访次数"), VISITS, semantics=WITHIN, worse_when_higher=False, policy=P_VISITS,
           rollup="visits"),
    Metric("visits_home", _("其中上门"), VISITS, Q(method="home"), semantics=WITHIN, denominator="visits_done",
           worse_when_higher=False, policy=P_VISITS, rollup="home_visits"),
    Metric("visited", _("本期探访到的在册老人"), REGISTER, Q(visited_in_period=True), semantics=WITHIN,
           denominator="active", worse_when_higher=False, policy=P_VISITS),
    Metric("on_schedule", _("按时(当前未逾期)"), SCHEDULE, ~OVERDUE, denominator="scheduled",
           worse_when_higher=False, policy=P_VISITS, complement_of="overdue"),
    Metric("scheduled", _("应巡访老人"), SCHEDULE, worse_when_higher=False, policy=P_VISITS),
    Metric("overdue", _("巡访已逾期"), SCHEDULE, OVERDUE, denominator="scheduled", policy=P_VISITS),
    Metric("never_visited", _("从未巡访"), SCHEDULE, Q(last_visit_at__isnull=True), denominator="scheduled",
           policy=P_VISITS),
    Metric("home_rule_due", _("失能独居(须上门)"), SCHEDULE, Q(is_disabled_alone=True), worse_when_higher=False,
           policy=P_HOME),
    Metric("home_rule_met", _("上门间隔达标"), SCHEDULE, Q(is_disabled_alone=True, home_due__gte=timezone.localdate),
           denominator="home_rule_due", worse_when_higher=False, policy=P_HOME),
    # 救助 — relief cases
    *[Metric(f"open_{stage}", stage.label, CASES, Q(status=stage), policy=P_RELIEF) for stage in OPEN_STAGES],
    Metric("cases_overdue", _("时限已超"), CASES, Q(is_overdue=True), policy=P_RELIEF),
    Metric("cases_new", _("新上报个案"), CASES_REPORTED, semantics=WITHIN, worse_when_higher=False, policy=P_RELIEF),
    Metric("cases_closed", _("办结个案"), CASES_CLOSED, semantics=WITHIN, worse_when_higher=False, policy=P_RELIEF),
    Metric("cases_closed_late", _("其中超时办结"), CASES_CLOSED, Q(closed_late=True), semantics=WITHIN,
           denominator="cases_closed", policy=P_RELIEF),
    Metric("cases_accepted", _("受理个案(受理用时中位数)"), CASES_ACCEPTED, semantics=WITHIN,
           median_of=F("accepted_at") - F("submitted_at"), policy=P_RELIEF),
    # 健康 — health
    Metric("health_due", _("65岁以上应体检"), HEALTH_DUE, worse_when_higher=False, policy=P_HEALTH),
    Metric("health_checked", _("今年已体检"), HEALTH_DUE, Q(checked_this_year=True), denominator="health_due",
           worse_when_higher=False, policy=P_HEALTH),
    Metric("checks_done", _("体检人次"), CHECKS, semantics=WITHIN, worse_when_higher=False, policy=P_HEALTH),
    Metric("contract_valid", _("家庭医生签约有效"), REGISTER, Q(has_valid_contract=True),
           denominator="active", worse_when_higher=False, policy=P_HEALTH),
    # 协议与赡养人
    Metric("agreements_expiring", _("协议30天内到期"), AGREEMENTS, policy=P_AGREEMENT),
    Metric("guardian_refusals", _("赡养人拒不履行(督促记录)"), REFUSALS, semantics=WITHIN, policy=P_GUARDIAN),
]
METRICS = {m.name: m for m in METRICS_LIST}
assert len(METRICS) == len(METRICS_LIST), "metric names must be unique"
for _metric in METRICS_LIST:
    if _metric.complement_of:
        _other = METRICS[_metric.complement_of]
        assert _other.source == _metric.source and _metric.q == ~_other.q, _metric.name


def _resolve(q: Q) -> Q:
    """Q with callables (e.g. `timezone.localdate`) evaluated now: conditions on "today"."""
    children = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(_resolve(child))
        else:
            key, value = child
            children.append((key, value() if callable(value) else value))
    resolved = Q()
    resolved.children, resolved.connector, resolved.negated = children, q.connector, q.negated
    return resolved


def rows_of(metric: Metric, user, period, area_code: str = ""):
    """The drill-down rows of `metric` within `area_code` (the same queryset the figure counts)."""
    rows = metric.source.rows(user, period).filter(_resolve(metric.q))
    if area_code:
        rows = rows.filter(**{f"{metric.source.village}__startswith": area_code})
    return rows


# --- Computing figures ----------------------------------------------------------------------


@dataclass
class Figures:
    """Figures of many metrics for one area and its units (its villages, or its towns)."""

    units: dict  # unit code -> {metric name: value}
    total: dict  # metric name -> value for the whole area
    medians: dict  # metric name -> {unit code or "": timedelta | None}


def compute(metrics, user, period, area_code: str, unit_length: int | None) -> Figures:
    """Count `metrics` for `user` within `area_code`, per unit (codes cut to `unit_length`
    digits; None: the area only). One grouped query per source, whatever the number of rows."""
    by_source, rolled = {}, []
    # A source's metrics are read from its rollup when all of them can be; when one needs the
    # rows themselves (e.g. the scorecard's 流于形式的巡访), they share that one live query.
    live_sources = {m.source for m in metrics if not m.from_rollup}
    for metric in metrics:
        if metric.from_rollup and metric.source not in live_sources:
            rolled.append(metric)
        else:  # an extension's metrics are counted in the query of the source it extends
            by_source.setdefault(metric.source.extends or metric.source, []).append(metric)
    units, total, medians = {}, {m.name: 0 for m in metrics}, {}
    by_rollup = {}
    for metric in rolled:
        by_rollup.setdefault(metric.source, []).append(metric)
    for source, group in by_rollup.items():  # one query per rollup: sums of its columns
        rows = source.rollup(user, period).filter(village__code__startswith=area_code)
        unit = Substr("village__code", 1, unit_length) if unit_length else models.Value("")
        sums = {m.name: Sum(m.rollup) for m in group}
        for row in rows.order_by().annotate(unit=unit).values("unit").annotate(**sums):
            values = units.setdefault(row["unit"], {})
            for m in group:
                values[m.name] = row[m.name] or 0
                total[m.name] += values[m.name]
    for source, group in by_source.items():
        rows = source.rows(user, period)
        for extended in dict.fromkeys(m.source for m in group if m.source.extends):
            rows = extended.annotate(rows, user, period)
        rows = rows.filter(**{f"{source.village}__startswith": area_code})
        aggregates = {}
        for m in group:
            if m.complement_of:  # the source's rows minus the other metric's (see Metric)
                aggregates["__rows"] = Count("pk")
                other = METRICS[m.complement_of]
                aggregates.setdefault(other.name, Count("pk", filter=_resolve(other.q)))
                continue
            condition = _resolve(m.q) if m.q else None
            aggregates[m.name] = Count("pk", filter=condition)
            if m.is_median:
                aggregates[f"{m.name}__median"] = Median(m.median_of, filter=condition)
        unit = Substr(source.village, 1, unit_length) if unit_length else models.Value("")
        for row in rows.order_by().annotate(unit=unit).values("unit").annotate(**aggregates):
            values = units.setdefault(row["unit"], {})
            for m in group:
                count = row["__rows"] - row[m.complement_of] if m.complement_of else row[m.name]
                values[m.name] = count
                total[m.name] += count
                if m.is_median:
                    medians.setdefault(m.name, {})[row["unit"]] = row[f"{m.name}__median"]
        for m in group:
            if m.is_median:  # a median does not add up: the whole area's is its own aggregate
                condition = _resolve(m.q) if m.q else None
                whole = rows.aggregate(v=Median(m.median_of, filter=condition))["v"] if unit_length else \
                    medians.get(m.name, {}).get("")
                medians.setdefault(m.name, {})[""] = whole
    return Figures(units=units, total=total, medians=medians)


def monthly(metric: Metric, user, period, area_code: str) -> dict:
    """{first day of month: count} of a WITHIN metric over the 12 months ending with `period`.

    The rows are the metric's own rows over the whole window, grouped by the month of their
    event date (local time), in one query."""
    window = period.trend_window()
    if metric.from_rollup:
        days = metric.source.rollup(user, window).filter(village__code__startswith=area_code)
        counts = days.order_by().annotate(month=TruncMonth("day")).values("month").annotate(n=Sum(metric.rollup))
        return {row["month"]: row["n"] for row in counts}
    rows = rows_of(metric, user, window, area_code)
    date_field = metric.source.date_field
    month = TruncMonth(date_field, tzinfo=timezone.get_current_timezone()) if date_field.endswith("_at") \
        else TruncMonth(date_field)
    counts = rows.order_by().annotate(month=month).values("month").annotate(n=Count("pk"))
    result = {}
    for row in counts:
        key = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        result[key] = row["n"]
    return result


def share(numerator: int, denominator: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return round(100 * numerator / denominator, 1)
