"""Risk assessments, relief cases (特殊情况报告与关爱救助), referrals to departments, the case
timeline and the response-clock policy of each town."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.audit import tracked
from eldercare.choices import REFERRAL_ROLES, UserRole
from eldercare.scoping import ScopedQuerySet
from registry.choices import ElderRiskLevel
from relief.choices import (
    SENSITIVE_CASE_TYPES,
    CaseEventAction,
    ReferralState,
    ReliefCaseStatus,
    ReliefCaseType,
    ReliefCaseUrgency,
)

OPEN_STATUSES = [s for s in ReliefCaseStatus.values if s != ReliefCaseStatus.CLOSED]


# --- Response clocks ------------------------------------------------------------------------


class ClockPolicyQuerySet(ScopedQuerySet):
    area_path = "town__code"

    def restrict_role(self, queryset, user):
        # The town office sets its clocks; the county compares them. Nobody else needs them.
        if user.role in (UserRole.TOWN, UserRole.COUNTY):
            return queryset
        return queryset.none()


class ClockPolicy(models.Model):
    """A town's response clocks. Clocks run through nights and weekends (no working hours).

    A town without a row uses the defaults below (`DEFAULT_LIMITS`).
    """

    town = models.OneToOneField("eldercare.Area", verbose_name=_("乡镇"), on_delete=models.PROTECT,
                                related_name="clock_policy")
    accept_urgent = models.DurationField(_("乡镇受理时限(紧急)"), default=timedelta(hours=2))
    accept_normal = models.DurationField(_("乡镇受理时限(一般)"), default=timedelta(hours=24))
    receipt_urgent = models.DurationField(_("部门接收时限(紧急)"), default=timedelta(hours=2))
    receipt_normal = models.DurationField(_("部门接收时限(一般)"), default=timedelta(hours=48))
    resolve_urgent = models.DurationField(_("办结时限(紧急)"), default=timedelta(days=3))
    resolve_normal = models.DurationField(_("办结时限(一般)"), default=timedelta(days=15))

    objects = ClockPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("响应时限")
        verbose_name_plural = _("响应时限")

    def __str__(self):
        return f"{self.town} 响应时限"

    def clean(self):
        if self.town_id and self.town.level != "town":
            raise ValidationError({"town": _("响应时限必须设在乡镇。")})
        for name in ("accept_urgent", "accept_normal", "receipt_urgent", "receipt_normal", "resolve_urgent",
                     "resolve_normal"):
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValidationError({name: _("时限必须大于 0。")})


DEFAULT_LIMITS = {f.name: f.default for f in ClockPolicy._meta.concrete_fields if isinstance(f, models.DurationField)}


def clock_limit(clock: str, *, urgency_path: str, policy_path: str):
    """The limit of one clock ('accept' / 'receipt' / 'resolve') for a row, by its urgency.

    `policy_path` leads from the row to its town's ClockPolicy (a LEFT JOIN; the defaults apply
    when the town has none); `urgency_path` to the case's urgency.
    """
    urgent = Coalesce(F(f"{policy_path}__{clock}_urgent"), Value(DEFAULT_LIMITS[f"{clock}_urgent"]))
    normal = Coalesce(F(f"{policy_path}__{clock}_normal"), Value(DEFAULT_LIMITS[f"{clock}_normal"]))
    return Case(When(**{urgency_path: ReliefCaseUrgency.URGENT}, then=urgent), default=normal,
                output_field=models.DurationField())


def _plus(start, limit):
    return ExpressionWrapper(F(start) + limit, output_field=models.DateTimeField())


def _flag(condition):
    """A yes/no annotation that is never NULL. A clock that has not started has a NULL deadline,
    `NULL < now` is NULL, and PostgreSQL sorts NULL first in a descending order: every case not
    yet accepted would rank above the overdue ones."""
    return Coalesce(ExpressionWrapper(condition, output_field=models.BooleanField()), Value(False))


# How a queue ranks its cases: overdue first, urgent before normal, then the nearest deadline
# (cases without a running clock last), the newest report first among equals.
def _urgent_first(urgency_path="urgency"):
    return Case(When(**{urgency_path: ReliefCaseUrgency.URGENT}, then=Value(0)), default=Value(1))


QUEUE_ORDER = [F("is_overdue").desc(), _urgent_first(), F("next_due").asc(nulls_last=True), "-reported_at", "-id"]


# --- Relief cases ---------------------------------------------------------------------------


class ReliefCaseQuerySet(ScopedQuerySet):
    """Cases within reach. Village staff: their village; town: their town; county: the county;
    department officers and clinic staff: only cases referred to their department (a clinic
    account's department is its 卫生院; without one it sees no case)."""

    area_path = "village__code"

    def restrict_role(self, queryset, user):
        if user.role in REFERRAL_ROLES:
            return queryset.filter(Exists(Referral.objects.filter(case=OuterRef("pk"),
                                                                  department_id=user.department_id)))
        return queryset

    def with_clocks(self, now=None):
        """Annotate each case's deadlines and overdue flags — the one definition of "overdue".

        accept_due: submitted_at + acceptance limit (runs while 已上报);
        receipt_due: referred_at + receipt limit (runs while a referral is not yet received);
        resolve_due: accepted_at + resolution target (runs until 已办结);
        next_due: the deadline of the clock running now; is_overdue: any running clock passed.
        Queues, badges, the inbox and (later) supervision counts all read these annotations.
        """
        now = now or timezone.now()
        policy = {"urgency_path": "urgency", "policy_path": "village__parent__clock_policy"}
        unreceived = Referral.objects.filter(case=OuterRef("pk"), received_at__isnull=True)
        qs = self.annotate(
            accept_due=_plus("submitted_at", clock_limit("accept", **policy)),
            receipt_due=_plus("referred_at", clock_limit("receipt", **policy)),
            resolve_due=_plus("accepted_at", clock_limit("resolve", **policy)),
        )
        qs = qs.annotate(
            accept_overdue=_flag(Q(status=ReliefCaseStatus.REPORTED, accept_due__lt=now)),
            receipt_overdue=_flag(
                Q(status__in=[ReliefCaseStatus.REFERRED, ReliefCaseStatus.RECEIVED, ReliefCaseStatus.IN_PROGRESS],
                  receipt_due__lt=now) & Q(Exists(unreceived))),
            resolve_overdue=_flag(Q(status__in=OPEN_STATUSES, resolve_due__lt=now)),
            closed_late=_flag(Q(status=ReliefCaseStatus.CLOSED, closed_at__gt=F("resolve_due"))),
            next_due=Case(
                When(status=ReliefCaseStatus.REPORTED, then=F("accept_due")),
                When(status=ReliefCaseStatus.REFERRED, then=F("receipt_due")),
                When(status__in=[ReliefCaseStatus.ACCEPTED, ReliefCaseStatus.RECEIVED, ReliefCaseStatus.IN_PROGRESS],
                     then=F("resolve_due")),
                default=None, output_field=models.DateTimeField()),
        )
        return qs.annotate(is_overdue=_flag(Q(accept_overdue=True) | Q(receipt_overdue=True) | Q(resolve_overdue=True)))

    def in_queue_order(self):
        """Rank `with_clocks()` rows for a queue (QUEUE_ORDER)."""
        return self.order_by(*QUEUE_ORDER)

    def open(self):
        return self.exclude(status=ReliefCaseStatus.CLOSED)

    def overdue(self, now=None):
        return self.with_clocks(now).filter(is_overdue=True)


@tracked()
class ReliefCase(models.Model):
    """A special situation (特殊情况) reported for one elder, escalated village → town → departments.

    The status only changes through relief.services (an explicit transition map); every change
    writes a CaseEvent. `village` is the elder's village when reported: the case stays with the
    committee that reported it. Never deleted.
    """

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="relief_cases")
    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.PROTECT,
                                related_name="relief_cases", editable=False)
    case_type = models.CharField(_("情况类型"), max_length=30, choices=ReliefCaseType.choices)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=ReliefCaseUrgency.choices,
                               default=ReliefCaseUrgency.NORMAL)
    narrative = models.TextField(_("情况说明"))
    status = models.CharField(_("状态"), max_length=20, choices=ReliefCaseStatus.choices,
                              default=ReliefCaseStatus.REPORTED, editable=False)
    outcome = models.TextField(_("办理结果"), blank=True, editable=False)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上报人"), on_delete=models.PROTECT,
                                    related_name="+")
    reported_at = models.DateTimeField(_("上报时间"), default=timezone.now)
    # The clocks: acceptance runs from the latest (re)submission, resolution from acceptance.
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True, editable=False)
    referred_at = models.DateTimeField(_("转办时间"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, editable=False)
    # Where the case came from (a visit marked 上报乡镇, or a 拒不履行 supervision record).
    source_visit_id = models.BigIntegerField(_("来源巡访记录"), null=True, blank=True, editable=False)
    source_supervision = models.ForeignKey("registry.Supervision", verbose_name=_("来源督促记录"), null=True,
                                           blank=True, on_delete=models.PROTECT, related_name="relief_cases",
                                           editable=False)
    # The report form's one-time key: a retry, a double tap or the phone's outbox sending the same
    # report again stores one case (relief.services.report_case). Empty on cases made elsewhere.
    submission_key = models.UUIDField(_("提交编号"), null=True, blank=True, unique=True, editable=False)

    objects = ReliefCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("救助个案")
        verbose_name_plural = _("救助个案")
        ordering = ["-reported_at", "-id"]
        indexes = [
            # ReliefCaseQuerySet.for_user (village_id LIKE 'prefix%') and the queues by status
            models.Index(fields=["village", "status"], name="reliefcase_village_status",
                         opclasses=["text_pattern_ops", "text_pattern_ops"]),
            # the elder's cases (profile panel, risk facts, reassessment due)
            models.Index(fields=["elder", "-reported_at"], name="reliefcase_elder_latest"),
        ]

    def __str__(self):
        return f"{self.elder} · {self.get_case_type_display()} · {timezone.localtime(self.reported_at):%Y-%m-%d}"

    @property
    def is_sensitive(self) -> bool:
        return self.case_type in SENSITIVE_CASE_TYPES

    def narrative_visible_to(self, user) -> bool:
        """Field privacy: narratives of 遭受非法侵害 / 严重精神疾病 cases are for town staff and the
        departments the case is referred to only (the village sees status and outcome)."""
        if not self.is_sensitive or user.is_superuser:
            return True
        return user.role in (UserRole.TOWN, *REFERRAL_ROLES)  # a department only reaches its own cases

    @property
    def is_urgent(self) -> bool:
        return self.urgency == ReliefCaseUrgency.URGENT

    @property
    def missed_clocks(self) -> list[tuple[str, object]]:
        """(label, deadline) of each running clock already passed, on a `with_clocks()` row. The
        queue's 时限 is the clock running now; this names an earlier one that was missed (a case
        referred in time after its resolution deadline passed is overdue beside a future 时限)."""
        clocks = [(self.accept_overdue, _("受理时限"), self.accept_due),
                  (self.receipt_overdue, _("部门接收时限"), self.receipt_due),
                  (self.resolve_overdue, _("办结时限"), self.resolve_due)]
        return [(label, due) for overdue, label, due in clocks if overdue]

    @property
    def upcoming_due(self):
        """The running clock's deadline when it is not one of the missed ones, else None."""
        missed = {due for _label, due in self.missed_clocks}
        return self.next_due if self.next_due and self.next_due not in missed else None


class ReferralQuerySet(ScopedQuerySet):
    """Referrals within reach: department officers and clinic staff see their department's; the
    village none."""

    area_path = "case__village__code"

    def restrict_role(self, queryset, user):
        if user.role in REFERRAL_ROLES:
            return queryset.filter(department_id=user.department_id)
        if user.role == UserRole.VILLAGE:
            return queryset.none()
        return queryset

    def with_clocks(self, now=None):
        """receipt_due / receipt_overdue per referral, and the case's resolution clock."""
        now = now or timezone.now()
        policy = {"urgency_path": "case__urgency", "policy_path": "case__village__parent__clock_policy"}
        qs = self.annotate(receipt_due=_plus("referred_at", clock_limit("receipt", **policy)),
                           resolve_due=_plus("case__accepted_at", clock_limit("resolve", **policy)))
        return qs.annotate(
            receipt_overdue=_flag(Q(received_at__isnull=True, receipt_due__lt=now)),
            resolve_overdue=_flag(Q(closed_at__isnull=True, resolve_due__lt=now)),
        ).annotate(is_overdue=_flag(Q(receipt_overdue=True) | Q(resolve_overdue=True)))

    def in_queue_order(self):
        """Rank `with_clocks()` referrals: open before closed, then as a case queue ranks cases."""
        return self.order_by(F("closed_at").desc(nulls_first=True), F("is_overdue").desc(),
                             _urgent_first("case__urgency"),
                             "receipt_due", "-id")

    def open(self):
        return self.filter(closed_at__isnull=True)


@tracked()
class Referral(models.Model):
    """A case referred to one department (转办): receipt, action and the department's result."""

    case = models.ForeignKey(ReliefCase, verbose_name=_("个案"), on_delete=models.PROTECT, related_name="referrals")
    department = models.ForeignKey("eldercare.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="referrals")
    referred_at = models.DateTimeField(_("转办时间"), default=timezone.now)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("转办人"), on_delete=models.PROTECT,
                                    related_name="+")
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("开始处置时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("办结人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    result = models.TextField(_("部门办理结果"), blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("转办")
        verbose_name_plural = _("转办")
        ordering = ["referred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="referral_unique_department",
                                    violation_error_message=_("该个案已转办给这个部门。")),
        ]
        indexes = [
            # department queue and inbox: open referrals of one department
            models.Index(fields=["department", "closed_at"], name="referral_department_open"),
        ]

    def __str__(self):
        return f"{self.case} → {self.department}"

    @property
    def state(self) -> str:
        if self.closed_at:
            return ReferralState.DONE
        if self.started_at:
            return ReferralState.IN_PROGRESS
        if self.received_at:
            return ReferralState.RECEIVED
        return ReferralState.WAITING

    def get_state_display(self):
        return ReferralState(self.state).label


class CaseEventQuerySet(ScopedQuerySet):
    """Timeline rows within reach; a department sees only the rows of its own referral."""

    area_path = "case__village__code"

    def restrict_role(self, queryset, user):
        if user.role in REFERRAL_ROLES:
            return queryset.filter(referral__department_id=user.department_id)
        return queryset


# Event notes the reporting village may read even on a sensitive case: what it must act on
# (the reason a report came back) and the outcome. For the village only: the county reads no
# note of a sensitive case (docs/relief.md, "Who sees what").
NOTES_FOR_VILLAGE = {CaseEventAction.RETURN, CaseEventAction.CLOSE}


class CaseEvent(models.Model):
    """One step of a case's timeline: who, when, from → to, and a note. Append-only."""

    case = models.ForeignKey(ReliefCase, verbose_name=_("个案"), on_delete=models.PROTECT, related_name="timeline")
    referral = models.ForeignKey(Referral, verbose_name=_("转办"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="timeline")
    action = models.CharField(_("操作"), max_length=20, choices=CaseEventAction.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=ReliefCaseStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=ReliefCaseStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.get_action_display()}"

    def note_visible_to(self, user) -> bool:
        """Whoever may read the case's narrative reads every note; on a sensitive case the
        reporting village also reads the return reasons and the outcome, and nobody else more."""
        if self.case.narrative_visible_to(user):
            return True
        return user.role == UserRole.VILLAGE and self.action in NOTES_FOR_VILLAGE


# --- Risk assessment ------------------------------------------------------------------------


class RiskAssessmentQuerySet(ScopedQuerySet):
    """Assessments within reach (village, town, county). Clinic and department officers: none."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


@tracked()
class RiskAssessment(models.Model):
    """A confirmed risk assessment: the factors (points and reasons) as scored by `version`, the
    proposed level and the level staff confirmed (with a reason when they differ).

    The elder's current level (Elder.risk_level) is the latest one's `level`.
    """

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="risk_assessments")
    version = models.CharField(_("评估标准版本"), max_length=20)
    factors = models.JSONField(_("评估因素"), default=list)
    score = models.PositiveSmallIntegerField(_("得分"))
    proposed_level = models.CharField(_("系统建议等级"), max_length=10, choices=ElderRiskLevel.choices)
    level = models.CharField(_("确认等级"), max_length=10, choices=ElderRiskLevel.choices)
    adjusted_reason = models.CharField(_("调整理由"), max_length=300, blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评估人"), on_delete=models.PROTECT,
                                    related_name="+")
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)

    objects = RiskAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("风险评估")
        verbose_name_plural = _("风险评估")
        ordering = ["-confirmed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=F("proposed_level")) | ~Q(adjusted_reason=""),
                name="riskassessment_adjustment_has_reason",
                violation_error_message=_("确认等级与系统建议不同时，请填写调整理由。")),
        ]
        indexes = [
            # the elder's latest assessment (profile panel, reassessment due: with_reassessment's
            # ORDER BY confirmed_at DESC, id DESC LIMIT 1 reads the first entry, no sort per elder)
            models.Index(fields=["elder", "-confirmed_at", "-id"], name="riskassessment_elder_latest"),
        ]

    def __str__(self):
        return f"{self.elder} {self.get_level_display()} ({timezone.localtime(self.confirmed_at):%Y-%m-%d})"

    @property
    def was_adjusted(self) -> bool:
        return self.level != self.proposed_level


REASSESS_AFTER = timedelta(days=365)
CHANGE_OUTCOMES = ("attention", "help")  # visit outcomes 需关注 / 需帮扶 mean "something changed"


def with_reassessment(elders, now=None):
    """Annotate elders with their last assessment and whether a reassessment is due — the one
    definition of "due": 12 months after the last, after a special situation reported since, or
    after a visit since that reported 需关注 / 需帮扶 (when the visits app is installed).

    Adds `last_assessed_at`, `last_level`; the reasons `due_expired`, `due_case`, `due_visit`;
    `reassessment_due` (assessed, and at least one reason applies) and `assessment_current`
    (assessed, and none applies: the scorecard's 风险评估现行有效). Never assessed: all False.

    Each reason is a condition on the elder's latest assessment row, evaluated inside ONE
    subquery that finds that row: the latest assessment is looked up once per flag, not once per
    reference (written as conditions on `last_assessed_at`, Django inlined its subquery at every
    reference, five times per elder in the scorecard's count), and the reasons are tried in order
    of cost, the visits last (docs/performance.md, "Oversight").
    """
    from django.apps import apps
    from django.db.models import Subquery

    now = now or timezone.now()
    latest = RiskAssessment.objects.filter(elder=OuterRef("pk")).order_by("-confirmed_at", "-id")
    # Conditions on an assessment row (OuterRef: the assessment's elder and confirmed_at).
    expired = Q(confirmed_at__lt=now - REASSESS_AFTER)
    case_since = Q(Exists(ReliefCase.objects.filter(elder=OuterRef("elder_id"), reported_at__gt=OuterRef("confirmed_at"))))
    try:
        Visit = apps.get_model("visits", "Visit")
        visit_since = Q(Exists(Visit._default_manager.filter(elder=OuterRef("elder_id"), outcome__in=CHANGE_OUTCOMES,
                                                             visited_at__gt=OuterRef("confirmed_at"))))
    except LookupError:
        visit_since = Q(Value(False, output_field=models.BooleanField()))
    due = expired | case_since | visit_since

    def of_latest(condition):
        """`condition` on the elder's latest assessment; False when never assessed."""
        flag = latest.annotate(flag=ExpressionWrapper(condition, output_field=models.BooleanField())).values("flag")[:1]
        return Coalesce(Subquery(flag, output_field=models.BooleanField()), Value(False))

    return elders.annotate(
        last_assessed_at=Subquery(latest.values("confirmed_at")[:1]),
        last_level=Subquery(latest.values("level")[:1]),
        due_expired=of_latest(expired),
        due_case=of_latest(case_since),
        due_visit=of_latest(visit_since),
        reassessment_due=of_latest(due),
        assessment_current=of_latest(~due),
    )
