"""The supervision scorecard (督导评分): the policy's four failures, scored 0–100 per village and town.

三(四): 对底数不清、风险隐患排查不扎实、突发事件处置不及时、关爱服务流于形式的要严肃处理. Each dimension is a
weighted set of items; each item is a pair of metrics from `oversight.metrics` — the rows it is
about (`total`) and the rows that miss it (`miss`) — so an item's rate is (total − miss) / total
and its shortfall list is the `miss` metric's drill-down, whose row count IS the shortfall. An
item scores 100 when its rate reaches the target, else rate / target × 100; a dimension is the
weighted mean of its items. Weights and targets come from the `ScorecardVersion` in force on the
period's first day (docs/scorecard.md).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oversight.interventions import high_risk_elders
from oversight.metrics import (
    CASES_ACCEPTED,
    CASES_REPORTED,
    METRICS,
    REGISTER,
    SCHEDULE,
    VISITS,
    WITHIN,
    Metric,
    Source,
    compute,
    extension,
)
from registry.choices import ElderStatus
from registry.models import Elder, ElderGuardian, ElderStatusChange, Guardian, latest_birth_date
from relief.choices import CaseEventAction
from relief.models import CaseEvent, Referral, with_reassessment
from services.models import Pairing
from visits.choices import VisitOutcome

DIMENSIONS = [
    ("known", _("底数清"), "三(一)：准确掌握本辖区内农村留守老年人基本信息；三(四)：底数不清的要严肃处理"),
    ("screened", _("排查实"), "二(五)：对风险等级高的留守老年人及时进行干预；三(四)：风险隐患排查不扎实的要严肃处理"),
    ("prompt", _("处置快"), "二(五)：及时报告，相关部门实施关爱救助；三(四)：突发事件处置不及时的要严肃处理"),
    ("real", _("服务实"), "二(三)(五)：定期巡访、健康管理；三(四)：关爱服务流于形式的要严肃处理"),
]
CONFIRM_DAYS = 365  # a record is confirmed by a visit or an edit within 12 months
STATUS_RECORD_DAYS = 30  # a death or move is recorded within 30 days of the event
MIN_AGE = 60


def _year_ago():
    return timezone.now() - timedelta(days=CONFIRM_DAYS)


def _latest_birth_of_min_age():
    """Born after this day: under 60 today (age < 60 without every row's AGE(): latest_birth_date)."""
    return latest_birth_date(MIN_AGE, timezone.localdate())


# --- Sources of the scorecard's own rows --------------------------------------------------


def _register_checks(register, user, period):
    """The register's 在册 elders with what 底数清 looks at: duplicates on the register (same name
    and birth date in one village as another 在册 elder)."""
    active = Elder.objects.for_user(user).active()
    # The duplicates found once, by counting each (village, name, birth date) among the 在册
    # elders in reach (a twin is always in the same village, so in reach too), rather than one
    # search of the register per elder (the county's 30,705 searches were 3/4 of this query).
    twins = active.annotate(same=Window(Count("pk"), partition_by=[F("village_id"), F("name"), F("birth_date")])) \
        .filter(same__gt=1).values("pk")
    return register.annotate(has_twin=ExpressionWrapper(Q(pk__in=twins), output_field=BooleanField()))


def _guardians(user, period):
    """Guardians of 在册 elders."""
    linked = ElderGuardian.objects.filter(guardian=OuterRef("pk"), elder__status=ElderStatus.ACTIVE)
    return Guardian.objects.for_user(user).filter(Exists(linked))


def _status_changes(user, period):
    return ElderStatusChange.objects.for_user(user).filter(changed_on__gte=period.start, changed_on__lte=period.on)


def _risk_review(register, user, period):
    """The register's 在册 elders with their reassessment (relief's definition)."""
    return with_reassessment(register)


def _high_risk(user, period):
    """High-risk elders with their interventions in the period (oversight.interventions, the one
    definition: a visit within the interval, or a case or a service within the period)."""
    return high_risk_elders(Elder.objects.for_user(user), period=period)


def _no_agreement(user, period):
    return Elder.objects.for_user(user).disabled_alone_without_agreement()


def _referrals_received(user, period):
    return Referral.objects.for_user(user).with_clocks().filter(received_at__gte=period.since(),
                                                                received_at__lt=period.until())


def _returned(user, period):
    returns = (CaseEvent.objects.filter(case=OuterRef("pk"), action=CaseEventAction.RETURN).order_by()
               .values("case").annotate(n=Count("pk")).values("n"))
    return CASES_REPORTED.rows(user, period).annotate(times_returned=Subquery(returns))


def _pairings(user, period):
    return Pairing.objects.for_user(user).current().with_due()


# The register's rows (oversight.metrics.REGISTER), so their figures share its grouped query.
REGISTER_CHECKS = extension(REGISTER, "register_checks", _register_checks)
GUARDIANS = Source("guardians", _guardians, "village__code", "guardian", state=True)
STATUS_CHANGES = Source("status_changes", _status_changes, "elder__village__code", "status_change",
                        date_field="changed_on")
RISK_REVIEW = extension(REGISTER, "risk_review", _risk_review)
HIGH_RISK = Source("high_risk", _high_risk, "village__code", "elder", state=True)
NO_AGREEMENT = Source("no_agreement", _no_agreement, "village__code", "elder", state=True)
REFERRALS_RECEIVED = Source("referrals_received", _referrals_received, "case__village__code", "referral",
                            date_field="received_at")
RETURNED = Source("returned", _returned, "village__code", "case", date_field="reported_at")
PAIRINGS = Source("pairings", _pairings, "elder__village__code", "pairing", state=True)

# The rows of 流于形式的巡访; its figure is the rollup's empty_visits (oversight.rollup.EMPTY_VISIT_SQL).
_EMPTY_VISIT = Q(met_with="") | (~Q(outcome=VisitOutcome.NORMAL) & Q(notify_family=False, report_to_town=False,
                                                                        request_service=False))

SCORECARD_METRICS = [
    Metric("sc_incomplete", _("必填项不全的老人"), REGISTER_CHECKS,
           Q(living="") | Q(health="") | Q(self_care="") | Q(phones=[]) | Q(address="")),
    Metric("sc_guardians", _("在册老人的赡养人"), GUARDIANS, worse_when_higher=False),
    Metric("sc_guardian_no_phone", _("没有联系电话的赡养人"), GUARDIANS, Q(phone="")),
    Metric("sc_unconfirmed", _("12个月内未巡访也未更新的老人"), REGISTER_CHECKS,
           Q(updated_at__lt=_year_ago) & (Q(visit_state__last_visit_at__lt=_year_ago)
                                          | Q(visit_state__last_visit_at__isnull=True))),
    Metric("sc_status_changes", _("本期状态变更"), STATUS_CHANGES, semantics=WITHIN, worse_when_higher=False),
    Metric("sc_status_late", _("超过30天才登记的状态变更"), STATUS_CHANGES,
           Q(created_at__date__gt=F("changed_on") + timedelta(days=STATUS_RECORD_DAYS)), semantics=WITHIN),
    Metric("sc_implausible", _("不满60岁或重复登记的老人"), REGISTER_CHECKS,
           Q(birth_date__gt=_latest_birth_of_min_age) | Q(has_twin=True)),
    Metric("sc_risk_reviewed", _("在册老人(风险评估)"), RISK_REVIEW, worse_when_higher=False),
    Metric("sc_risk_not_current", _("未评估或须复评的老人"), RISK_REVIEW, Q(assessment_current=False)),
    Metric("sc_high_risk", _("高风险老人"), HIGH_RISK, worse_when_higher=False),
    Metric("sc_high_no_intervention", _("未及时干预的高风险老人"), HIGH_RISK, Q(intervened=False), semantics=WITHIN),
    Metric("sc_no_agreement", _("无有效委托照顾协议的失能独居老人"), NO_AGREEMENT),
    Metric("sc_accept_late", _("超时受理的个案"), CASES_ACCEPTED, Q(accepted_at__gt=F("accept_due")), semantics=WITHIN),
    Metric("sc_referrals", _("本期部门接收的转办"), REFERRALS_RECEIVED, semantics=WITHIN, worse_when_higher=False),
    Metric("sc_receipt_late", _("超时接收的转办"), REFERRALS_RECEIVED, Q(received_at__gt=F("receipt_due")),
           semantics=WITHIN),
    Metric("sc_returned_twice", _("退回补充两次以上的个案"), RETURNED, Q(times_returned__gte=2), semantics=WITHIN),
    Metric("sc_empty_visits", _("流于形式的巡访(未写见到谁或有问题未跟进)"), VISITS, _EMPTY_VISIT, semantics=WITHIN,
           rollup="empty_visits"),
    Metric("sc_unchecked", _("今年未体检的65岁以上老人"), METRICS["health_due"].source, Q(checked_this_year=False)),
    Metric("sc_pairings", _("结对帮扶"), PAIRINGS, worse_when_higher=False),
    Metric("sc_pairing_overdue", _("逾期未联系的结对"), PAIRINGS, Q(is_overdue=True)),
    Metric("sc_home_rule_missed", _("上门间隔未达标的失能独居老人"), SCHEDULE,
           Q(is_disabled_alone=True, home_due__lt=timezone.localdate)),
]
for _metric in SCORECARD_METRICS:
    assert _metric.name not in METRICS, _metric.name
    METRICS[_metric.name] = _metric  # the drill-down page lists them like any other metric


@dataclass(frozen=True)
class Item:
    """One scored item: the rows concerned (`total`) and the rows that miss (`miss`)."""

    name: str
    dimension: str
    label: str
    total: str
    miss: str


ITEMS = [
    Item("complete", "known", _("必填项齐全"), "active", "sc_incomplete"),
    Item("guardian_phone", "known", _("赡养人有联系电话"), "sc_guardians", "sc_guardian_no_phone"),
    Item("confirmed", "known", _("12个月内核实(巡访或更新)"), "active", "sc_unconfirmed"),
    Item("status_on_time", "known", _("状态变更30天内登记"), "sc_status_changes", "sc_status_late"),
    Item("plausible", "known", _("无不满60岁或重复登记"), "active", "sc_implausible"),
    Item("risk_current", "screened", _("风险评估现行有效"), "sc_risk_reviewed", "sc_risk_not_current"),
    Item("high_risk_intervened", "screened", _("高风险老人及时干预"), "sc_high_risk", "sc_high_no_intervention"),
    Item("disabled_alone_arranged", "screened", _("失能独居有委托照顾协议"), "disabled_alone", "sc_no_agreement"),
    Item("accepted_on_time", "prompt", _("按时受理"), "cases_accepted", "sc_accept_late"),
    Item("received_on_time", "prompt", _("部门按时接收"), "sc_referrals", "sc_receipt_late"),
    Item("closed_on_time", "prompt", _("按时办结"), "cases_closed", "cases_closed_late"),
    Item("not_returned_twice", "prompt", _("不反复退回"), "cases_new", "sc_returned_twice"),
    Item("visits_on_time", "real", _("巡访不逾期"), "scheduled", "overdue"),
    Item("home_visits", "real", _("失能独居按时上门"), "home_rule_due", "sc_home_rule_missed"),
    Item("visits_real", "real", _("巡访有实质内容"), "visits_done", "sc_empty_visits"),
    Item("health_checked", "real", _("65岁以上体检覆盖"), "health_due", "sc_unchecked"),
    Item("pairing_contact", "real", _("结对帮扶按时联系"), "sc_pairings", "sc_pairing_overdue"),
]
ITEMS_BY_NAME = {item.name: item for item in ITEMS}
# The first version's weights (points within a dimension) and targets (% of rows that must pass).
DEFAULT_WEIGHTS = {
    "complete": (30, 95), "guardian_phone": (20, 95), "confirmed": (20, 90), "status_on_time": (15, 100),
    "plausible": (15, 100),
    "risk_current": (40, 90), "high_risk_intervened": (40, 100), "disabled_alone_arranged": (20, 100),
    "accepted_on_time": (30, 100), "received_on_time": (25, 100), "closed_on_time": (30, 90),
    "not_returned_twice": (15, 100),
    "visits_on_time": (30, 95), "home_visits": (20, 100), "visits_real": (20, 95), "health_checked": (20, 90),
    "pairing_contact": (10, 90),
}


def item_score(total: int, miss: int, target: float) -> float:
    """100 when the pass rate reaches the target (or nothing is concerned), else rate / target × 100."""
    if not total:
        return 100.0
    rate = 100 * (total - miss) / total
    return round(min(100.0, 100 * rate / target), 1) if target else 100.0


def scores_of(values: dict, weights: dict) -> dict:
    """{"items": {item: {...}}, "dimensions": {dimension: score}, "total": mean of the four}."""
    items, dimensions = {}, {}
    for item in ITEMS:
        weight, target = weights[item.name]
        total, miss = values.get(item.total, 0), values.get(item.miss, 0)
        items[item.name] = {"total": total, "miss": miss, "weight": weight, "target": target,
                            "score": item_score(total, miss, target)}
    for key, _label, _policy in DIMENSIONS:
        mine = [i for i in ITEMS if i.dimension == key]
        weight = sum(items[i.name]["weight"] for i in mine)
        dimensions[key] = round(sum(items[i.name]["score"] * items[i.name]["weight"] for i in mine) / weight, 1) \
            if weight else 100.0
    return {"items": items, "dimensions": dimensions, "total": round(sum(dimensions.values()) / len(dimensions), 1)}


def weights_in_force(period):
    """The weights and targets a period is scored with — those of the `ScorecardVersion` in force
    on its first day — and that version (None: no version stored yet, the defaults apply)."""
    from oversight.models import ScorecardVersion

    version = ScorecardVersion.objects.in_force_on(period.start)
    return (version.weights if version else DEFAULT_WEIGHTS), version


def metrics_needed():
    names = dict.fromkeys(n for item in ITEMS for n in (item.total, item.miss))
    return [METRICS[name] for name in names]


def score(user, period, area_code: str, unit_length: int | None, weights: dict):
    """Scores of the area and of each unit under it, from one computation of the items' metrics."""
    figures = compute(metrics_needed(), user, period, area_code, unit_length)
    units = {code: scores_of(values, weights) for code, values in figures.units.items()}
    return scores_of(figures.total, weights), units
