"""The risk factor table (风险等级标准): factors → points → score → level 低 / 中 / 高.

This module is the ONE place the scoring rules live; docs/risk.md explains them to users.
Change a rule → bump VERSION: every stored assessment records the version that scored it, so
older assessments stay explainable after the table changes.

`score_factors(facts)` is pure (facts in, factor results out) so the table is tested without a
database; `gather_facts(elder)` reads what the register, the relief cases and (when the visits
app is installed) the last visit already know; `propose_assessment(elder)` puts both together.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from registry.choices import (
    DutyFulfilment,
    ElderDifficulty,
    ElderHealth,
    ElderLiving,
    ElderRiskLevel,
    ElderSelfCare,
    SupervisionResult,
)
from visits.choices import VisitCheck
from visits.models import CHECKLIST, Visit

VERSION = "2026.2"  # 2026.2: the last visit's checklist feeds 精神状况 and 住房及用火用电安全

# Score thresholds: score >= HIGH_FROM → 高, >= MEDIUM_FROM → 中, else 低.
MEDIUM_FROM = 4
HIGH_FROM = 8

# How far back recent facts count.
RECENT_SITUATION_DAYS = 90
DUTY_LOOKBACK_DAYS = 365
CONTACT_WARN_DAYS = 90
CONTACT_BAD_DAYS = 180


@dataclass
class Facts:
    """What is known about one elder on `today`, as plain values (no model instances)."""

    today: date
    age: int | None = None
    self_care: str = ""
    living: str = ""
    health: str = ""
    diseases: str = ""
    dibao: bool = False
    tekun: bool = False
    poverty_monitored: bool = False
    difficulties: list = field(default_factory=list)
    last_contact_on: date | None = None
    has_guardian: bool = True
    worst_duty_fulfilment: str = ""  # "not" / "partly" / "" in the look-back window
    supervision_refused: bool = False
    mental_illness_case: bool = False
    recent_case_urgency: str = ""  # urgency of the latest case reported in the recent window
    last_visit_outcome: str = ""  # normal / attention / help, when the visits app knows
    last_visit_mental: str = ""  # the last visit's 精神状态 answer: normal / fair / problem
    last_visit_safety: dict = field(default_factory=dict)  # 居住安全 item label → fair / problem


@dataclass
class FactorResult:
    """One row of an assessment: which factor, how many points, and why in plain Chinese."""

    code: str
    label: str
    points: int
    reason: str

    def as_dict(self):
        return asdict(self)


def _age(f: Facts):
    if f.age is None:
        return 0, "出生日期不详"
    if f.age >= 90:
        return 3, f"{f.age} 岁（90 岁及以上）"
    if f.age >= 80:
        return 2, f"{f.age} 岁（80–89 岁，高龄）"
    if f.age >= 70:
        return 1, f"{f.age} 岁（70–79 岁）"
    return 0, f"{f.age} 岁（70 岁以下）"


def _self_care(f: Facts):
    if f.self_care == ElderSelfCare.DISABLED:
        return 4, "失能，日常生活需要他人照料"
    if f.self_care == ElderSelfCare.PARTIAL:
        return 2, "半失能，部分生活需要帮助"
    if f.self_care == ElderSelfCare.INDEPENDENT:
        return 0, "生活能自理"
    return 0, "自理能力未登记"


def _living_alone(f: Facts):
    if f.living == ElderLiving.ALONE:
        return 2, "独自居住，身边无人照应"
    if f.living == ElderLiving.WITH_GRANDCHILDREN:
        return 1, "与未成年孙辈同住，无成年人照应"
    return 0, "不是独居" if f.living else "居住情况未登记"


def _hardship(f: Facts):
    if f.tekun or f.dibao:
        return 2, "特困供养人员" if f.tekun else "享受低保"
    if f.poverty_monitored or ElderDifficulty.ECONOMIC in f.difficulties:
        return 1, "脱贫(监测)户" if f.poverty_monitored else "登记有经济困难"
    return 0, "未登记经济困难"


def _illness(f: Facts):
    if f.health == ElderHealth.ILL_DEPENDENT:
        return 3, "患病且不能自理"
    if f.health == ElderHealth.ILL_SELF_CARING:
        return 2, f"患病（{f.diseases}）" if f.diseases else "患病，能自理"
    if f.diseases:
        return 1, f"有慢性病：{f.diseases}"
    return 0, "未登记患病"


def _mental(f: Facts):
    if f.mental_illness_case:
        return 3, "有“患有严重精神疾病”的救助个案"
    if f.last_visit_mental == VisitCheck.PROBLEM:
        return 2, "最近一次巡访发现精神状态有问题"
    if f.last_visit_mental == VisitCheck.FAIR:
        return 1, "最近一次巡访精神状态一般"
    if ElderDifficulty.LONELINESS in f.difficulties:
        return 1, "登记有精神孤独"
    return 0, "未发现精神方面的问题"


def _housing(f: Facts):
    problems = [label for label, answer in f.last_visit_safety.items() if answer == VisitCheck.PROBLEM]
    if problems:
        return 2, f"最近一次巡访发现{'、'.join(problems)}有问题"
    if ElderDifficulty.SAFETY in f.difficulties:
        return 2, "登记有住房或用火用电安全隐患"
    fair = [label for label, answer in f.last_visit_safety.items() if answer == VisitCheck.FAIR]
    if fair:
        return 1, f"最近一次巡访{'、'.join(fair)}一般"
    return 0, "未发现安全隐患"


def _contact(f: Facts):
    if not f.has_guardian:
        return 2, "没有登记赡养人"
    if f.last_contact_on is None:
        return 2, "没有赡养人联系记录"
    days = (f.today - f.last_contact_on).days
    if days > CONTACT_BAD_DAYS:
        return 2, f"赡养人已 {days} 天未联系（超过 {CONTACT_BAD_DAYS} 天）"
    if days > CONTACT_WARN_DAYS:
        return 1, f"赡养人已 {days} 天未联系（超过 {CONTACT_WARN_DAYS} 天）"
    return 0, f"赡养人 {days} 天前联系过"


def _duties(f: Facts):
    if f.supervision_refused:
        return 3, "赡养人经督促仍拒不履行义务"
    if f.worst_duty_fulfilment == DutyFulfilment.NOT:
        return 2, "一年内观察到赡养人未履行义务"
    if f.worst_duty_fulfilment == DutyFulfilment.PARTLY:
        return 1, "一年内观察到赡养人只部分履行义务"
    return 0, "未发现赡养人不履行义务"


def _special(f: Facts):
    if f.recent_case_urgency == "urgent":
        return 3, f"{RECENT_SITUATION_DAYS} 天内上报过紧急特殊情况"
    if f.recent_case_urgency:
        return 2, f"{RECENT_SITUATION_DAYS} 天内上报过特殊情况"
    if f.last_visit_outcome == "help":
        return 2, "最近一次巡访结论为“需帮扶”"
    if f.last_visit_outcome == "attention":
        return 1, "最近一次巡访结论为“需关注”"
    return 0, "近期没有特殊情况"


# The factor table: (code, label, rule). Order is the order shown to staff.
FACTORS = [
    ("age", "年龄段", _age),
    ("self_care", "自理能力", _self_care),
    ("living_alone", "独居", _living_alone),
    ("hardship", "经济困难", _hardship),
    ("illness", "慢性病或重病", _illness),
    ("mental", "精神状况", _mental),
    ("housing", "住房及用火用电安全", _housing),
    ("contact", "赡养人联系", _contact),
    ("duties", "赡养义务履行", _duties),
    ("special", "近期特殊情况", _special),
]


def level_for(score: int) -> str:
    """The level a score gives (thresholds above)."""
    if score >= HIGH_FROM:
        return ElderRiskLevel.HIGH
    if score >= MEDIUM_FROM:
        return ElderRiskLevel.MEDIUM
    return ElderRiskLevel.LOW


@dataclass
class Proposal:
    """The system's proposed assessment: every factor with its points and reason, the score, the level."""

    version: str
    factors: list
    score: int
    level: str

    @property
    def level_label(self):
        return ElderRiskLevel(self.level).label

    def factors_json(self):
        return [f.as_dict() for f in self.factors]


def score_factors(facts: Facts) -> Proposal:
    """Score `facts` with the current table (pure: no database)."""
    results = []
    for code, label, rule in FACTORS:
        points, reason = rule(facts)
        results.append(FactorResult(code=code, label=label, points=points, reason=reason))
    score = sum(r.points for r in results)
    return Proposal(version=VERSION, factors=results, score=score, level=level_for(score))


# The 居住安全 items of the visit checklist (visits.models.CHECKLIST) that feed the housing factor.
SAFETY_CHECKS = [(name, label) for name, label in CHECKLIST if name in ("housing_check", "fire_check", "weather_check")]


def last_visit(elder):
    """The elder's latest visit, or None."""
    return Visit.objects.filter(elder=elder).order_by("-visited_at").first()


def gather_facts(elder, today: date | None = None) -> Facts:
    """Read what the register, the relief cases and the last visit know about `elder`."""
    from registry.models import ContactEvent, DutyObservation, ElderGuardian, Supervision, age_on
    from relief.choices import ReliefCaseType
    from relief.models import ReliefCase

    today = today or timezone.localdate()
    # Unscoped reads on purpose: the caller already holds an elder within the user's reach.
    last_contact = (ContactEvent.objects.filter(elder=elder).order_by("-occurred_on")
                    .values_list("occurred_on", flat=True).first())
    since = today - timedelta(days=DUTY_LOOKBACK_DAYS)
    fulfilments = set(DutyObservation.objects.filter(elder=elder, observed_on__gte=since)
                      .values_list("fulfilment", flat=True))
    cases = ReliefCase.objects.filter(elder=elder)
    recent = (cases.filter(reported_at__date__gte=today - timedelta(days=RECENT_SITUATION_DAYS))
              .order_by("-reported_at").values_list("urgency", flat=True).first())
    visit = last_visit(elder)
    return Facts(
        today=today,
        age=age_on(elder.birth_date, today) if elder.birth_date else None,
        self_care=elder.self_care, living=elder.living, health=elder.health, diseases=elder.diseases,
        dibao=bool(elder.dibao), tekun=bool(elder.tekun), poverty_monitored=bool(elder.poverty_monitored),
        difficulties=list(elder.difficulties or []),
        last_contact_on=last_contact,
        has_guardian=ElderGuardian.objects.filter(elder=elder).exists(),
        worst_duty_fulfilment=(DutyFulfilment.NOT if DutyFulfilment.NOT in fulfilments
                               else DutyFulfilment.PARTLY if DutyFulfilment.PARTLY in fulfilments else ""),
        supervision_refused=Supervision.objects.filter(elder=elder, result=SupervisionResult.REFUSED,
                                                       supervised_on__gte=since).exists(),
        mental_illness_case=cases.filter(case_type=ReliefCaseType.SEVERE_MENTAL_ILLNESS).exists(),
        recent_case_urgency=recent or "",
        last_visit_outcome=getattr(visit, "outcome", "") or "",
        last_visit_mental=getattr(visit, "mental_check", "") or "",
        last_visit_safety={str(label): getattr(visit, name) for name, label in SAFETY_CHECKS} if visit else {},
    )


def propose_assessment(elder, today: date | None = None) -> Proposal:
    """The system's proposal for `elder`: each factor with points and why, the score and the level."""
    return score_factors(gather_facts(elder, today))
