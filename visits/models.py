"""Patrol visits (定期巡访制度): the town's visit policy, the visits themselves and urgent requests.

The schedule (next due date, overdue) is not stored: it is one queryset annotation,
`visits.schedule.annotate_schedule`, computed from these rows.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.audit import tracked
from eldercare.choices import UserRole
from eldercare.scoping import ScopedQuerySet
from visits.choices import FamilyNoticeMethod, FamilyNoticeStatus, VisitCheck, VisitMethod, VisitOutcome

# A visit may be corrected by the village for this long after it was entered; later only the
# town's civil-affairs office may change it (the record has then been counted in reports).
EDIT_WINDOW = timedelta(hours=48)
# How far back a visit may be entered late (补录).
LATE_ENTRY_DAYS = 30
# Clock skew we tolerate between a phone and the server before calling a time "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)

# The town's defaults (days, hours), used until a town saves its own values. The care plan asks
# for regular visits and timely follow-up but names no number: these are the town's choices,
# editable on the 巡访周期 page, not rules of the policy.
DEFAULT_HIGH_DAYS = 7
DEFAULT_MEDIUM_DAYS = 15
DEFAULT_LOW_DAYS = 30
KEY_TARGET_MAX_DAYS = 15  # 重点对象: at least this often
DISABLED_ALONE_HOME_DAYS = 30  # 失能独居: a home visit at least this often
URGENT_HOURS = 24  # after a reported special situation or a hospital discharge
FAMILY_FOLLOWUP_DAYS = 7  # 通知子女: the family's response is due within this many days


class VisitPolicyQuerySet(ScopedQuerySet):
    area_path = "town__code"


class VisitPolicy(models.Model):
    """A town's visit intervals by risk level, with the policy's hard limits for key targets and
    disabled elders living alone. A town without a row uses the defaults."""

    town = models.OneToOneField("eldercare.Area", verbose_name=_("乡镇"), on_delete=models.PROTECT,
                                related_name="visit_policy")
    high_days = models.PositiveSmallIntegerField(
        _("高风险巡访间隔(天)"), default=DEFAULT_HIGH_DAYS, validators=[MinValueValidator(1), MaxValueValidator(90)])
    medium_days = models.PositiveSmallIntegerField(
        _("中风险巡访间隔(天)"), default=DEFAULT_MEDIUM_DAYS, validators=[MinValueValidator(1), MaxValueValidator(90)])
    low_days = models.PositiveSmallIntegerField(
        _("低风险巡访间隔(天)"), default=DEFAULT_LOW_DAYS, validators=[MinValueValidator(1), MaxValueValidator(90)])
    key_target_max_days = models.PositiveSmallIntegerField(
        _("重点对象最长间隔(天)"), default=KEY_TARGET_MAX_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("重点对象无论风险等级，至少多少天巡访一次。本镇默认 15 天。"))
    home_visit_days = models.PositiveSmallIntegerField(
        _("失能独居上门间隔(天)"), default=DISABLED_ALONE_HOME_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("失能独居老人至少多少天上门看望一次(电话不算)。本镇默认 30 天。"))
    urgent_hours = models.PositiveSmallIntegerField(
        _("特殊情况后巡访时限(小时)"), default=URGENT_HOURS, validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text=_("报告特殊情况或老人出院后，多少小时内上门巡访。本镇默认 24 小时。"))
    family_followup_days = models.PositiveSmallIntegerField(
        _("通知子女后回访期限(天)"), default=FAMILY_FOLLOWUP_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("巡访中通知子女后，多少天内要记下子女的答复，逾期列入村里的待办。本镇默认 7 天。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = VisitPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡访周期设置")
        verbose_name_plural = _("巡访周期设置")

    def __str__(self):
        return f"{self.town} {self.high_days}/{self.medium_days}/{self.low_days}"

    @classmethod
    def for_town(cls, town_code: str) -> "VisitPolicy":
        """The town's saved policy, or an unsaved one holding the defaults."""
        return cls.objects.filter(town_id=town_code).first() or cls(town_id=town_code)

    def clean(self):
        if self.high_days and self.medium_days and self.low_days and not (
                self.high_days <= self.medium_days <= self.low_days):
            raise ValidationError(_("间隔应满足：高风险 ≤ 中风险 ≤ 低风险。风险越高，巡访越勤。"))


class VisitQuerySet(ScopedQuerySet):
    """Visits within reach. Clinic and department officers do not see visit records (they hold
    the elder's situation at home and the family's conduct, not health data)."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


def check_field(label):
    return models.CharField(label, max_length=10, choices=VisitCheck.choices, default=VisitCheck.NORMAL)


# The structured checklist, in the order of the form: (field name, label).
CHECKLIST = [
    ("health_check", _("身体状况")),
    ("mental_check", _("精神状态")),
    ("housing_check", _("居住安全·房屋")),
    ("fire_check", _("居住安全·用火用电")),
    ("weather_check", _("居住安全·防寒防暑")),
    ("diet_check", _("生活照料·饮食")),
    ("hygiene_check", _("生活照料·卫生")),
    ("family_check", _("子女联系情况")),
]


@tracked()
class Visit(models.Model):
    """One patrol visit (上门 / 电话 / 视频 / 委托代访) to an elder, with the checklist, the
    outcome and the follow-ups. `submission_key` makes a double tap or a retry store one row."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="visits")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("巡访人"), on_delete=models.PROTECT,
                                related_name="visits")
    visited_at = models.DateTimeField(_("巡访时间"))
    method = models.CharField(_("巡访方式"), max_length=10, choices=VisitMethod.choices, default=VisitMethod.PHONE)
    met_with = models.CharField(_("见到/通话的人"), max_length=100, blank=True)

    health_check = check_field(_("身体状况"))
    mental_check = check_field(_("精神状态"))
    housing_check = check_field(_("居住安全·房屋"))
    fire_check = check_field(_("居住安全·用火用电"))
    weather_check = check_field(_("居住安全·防寒防暑"))
    diet_check = check_field(_("生活照料·饮食"))
    hygiene_check = check_field(_("生活照料·卫生"))
    family_check = check_field(_("子女联系情况"))
    checklist_note = models.CharField(_("问题说明"), max_length=500, blank=True)

    needs_raised = models.CharField(_("提出的需求"), max_length=500, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    photo = models.FileField(_("照片"), upload_to="visits/%Y/%m/", blank=True)
    outcome = models.CharField(_("巡访结果"), max_length=10, choices=VisitOutcome.choices,
                               default=VisitOutcome.NORMAL)

    # Follow-ups. 通知子女 is staff telling the family, not the family contacting the elder, so it
    # is kept here on the visit rather than as a registry ContactEvent (see docs/visits.md).
    notify_family = models.BooleanField(_("通知子女"), default=False)
    report_to_town = models.BooleanField(_("上报乡镇"), default=False)
    request_service = models.BooleanField(_("申请服务"), default=False)

    submission_key = models.UUIDField(_("提交编号"), unique=True, editable=False)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡访记录")
        verbose_name_plural = _("巡访记录")
        ordering = ["-visited_at", "-id"]
        indexes = [
            # schedule: the elder's latest visit (last_visit_at) and the timeline, newest first
            models.Index(fields=["elder", "-visited_at"], name="visit_elder_latest"),
            # schedule: the elder's latest home visit (失能独居 home-visit rule)
            models.Index(fields=["elder", "-visited_at"], name="visit_elder_latest_home",
                         condition=models.Q(method=VisitMethod.HOME)),
            # relief.models.with_reassessment: a visit since the last assessment that reported
            # 需关注/需帮扶 (the risk list, the scorecard's 风险评估现行有效: one probe per elder)
            models.Index(fields=["elder", "-visited_at"], name="visit_elder_change",
                         condition=models.Q(outcome__in=[VisitOutcome.ATTENTION, VisitOutcome.HELP])),
        ]

    def __str__(self):
        return f"{self.elder} {self.get_method_display()} {timezone.localtime(self.visited_at):%Y-%m-%d}"

    @property
    def problems(self):
        """Checklist items answered other than 正常, as (label, answer label)."""
        return [(label, VisitCheck(getattr(self, name)).label) for name, label in CHECKLIST
                if getattr(self, name) != VisitCheck.NORMAL]

    def clean(self):
        # The result sums up the checklist: an item found 有问题 cannot end in 正常 (a phone or an
        # old offline form may post that; the server is where the rule holds).
        found = [str(label) for name, label in CHECKLIST if getattr(self, name) == VisitCheck.PROBLEM]
        if found and self.outcome == VisitOutcome.NORMAL:
            raise ValidationError({"outcome": _(
                "%(items)s为“有问题”，巡访结果不能是“正常”：请选“需关注”或“需帮扶”，"
                "或者把检查项改回实际情况。") % {"items": "、".join(found)}})

    def editable_by(self, user, now=None) -> bool:
        """The 48-hour rule: the village may correct a visit for 48 hours, town staff always."""
        if user.is_superuser or user.role == UserRole.TOWN:
            return True
        if user.role != UserRole.VILLAGE:
            return False
        return (now or timezone.now()) - self.created_at <= EDIT_WINDOW


class UrgentVisitRequestQuerySet(ScopedQuerySet):
    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset

    def open(self):
        return self.filter(fulfilled_by__isnull=True)

    def fulfilled_by_visit_at(self, visited_at):
        """Open requests a visit made at `visited_at` fulfils: those made before it, compared at
        the precision people enter times (whole minutes). A visit entered for 17:36 fulfils a
        request made at 17:36:42; a visit at 17:35 does not (docs/visits.md, rule 3)."""
        next_minute = visited_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return self.open().filter(requested_at__lt=next_minute)


@tracked()
class UrgentVisitRequest(models.Model):
    """A reported special situation or hospital discharge: the next visit is due within 24 hours.

    Open until a visit made in the same minute or later fulfils it (`fulfilled_by`)."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="urgent_visit_requests")
    reason = models.CharField(_("原因"), max_length=300)
    requested_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    due_by = models.DateTimeField(_("最迟巡访时间"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT,
                                     related_name="+")
    fulfilled_by = models.ForeignKey(Visit, verbose_name=_("完成巡访"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="fulfilled_requests")

    objects = UrgentVisitRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("紧急巡访要求")
        verbose_name_plural = _("紧急巡访要求")
        ordering = ["due_by"]
        indexes = [
            # schedule: the elder's earliest open request
            models.Index(fields=["elder", "due_by"], name="urgent_open_by_elder",
                         condition=models.Q(fulfilled_by__isnull=True)),
        ]

    def __str__(self):
        return f"{self.elder} {self.reason}"


class FamilyNoticeQuerySet(ScopedQuerySet):
    """Notices to families within reach: village and town staff (and the county, reading);
    clinic and department officers see none."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset

    def open(self):
        """Waiting for the family's answer: the village's follow-up worklist."""
        return self.filter(status=FamilyNoticeStatus.OPEN)

    def with_overdue(self, today=None):
        """Annotate `is_overdue`: the answer was due before `today` (the one definition)."""
        today = today or timezone.localdate()
        return self.annotate(is_overdue=models.ExpressionWrapper(
            models.Q(status=FamilyNoticeStatus.OPEN, due_on__lt=today), output_field=models.BooleanField()))


@tracked()
class FamilyNotice(models.Model):
    """通知子女: staff told a guardian about the elder — who, how, what was asked — and the
    family's answer is due by `due_on` (the town's 通知子女后回访期限). Open, it is on the village's
    follow-up worklist until the answer is recorded (子女已答复) or it is escalated to a
    supervision (已转督促; a 拒不履行 supervision then becomes a relief case)."""

    visit = models.ForeignKey(Visit, verbose_name=_("巡访记录"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="family_notices")
    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="family_notices")
    guardian = models.ForeignKey("registry.Guardian", verbose_name=_("通知的赡养人"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="family_notices")
    method = models.CharField(_("通知方式"), max_length=10, choices=FamilyNoticeMethod.choices,
                              default=FamilyNoticeMethod.PHONE)
    asked = models.CharField(_("请子女做什么"), max_length=300)
    notified_on = models.DateField(_("通知日期"))
    due_on = models.DateField(_("答复期限"))
    status = models.CharField(_("状态"), max_length=10, choices=FamilyNoticeStatus.choices,
                              default=FamilyNoticeStatus.OPEN)
    response = models.CharField(_("子女答复"), max_length=500, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    supervision = models.ForeignKey("registry.Supervision", verbose_name=_("督促记录"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="family_notices")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("通知人"), on_delete=models.PROTECT,
                                    related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("办结人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = FamilyNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知子女")
        verbose_name_plural = _("通知子女")
        ordering = ["due_on", "id"]
        indexes = [
            # the follow-up worklist and its menu badge: open notices, earliest due first
            models.Index(fields=["due_on"], name="family_notice_open", condition=models.Q(status="open")),
        ]

    def __str__(self):
        return f"{self.elder} {self.notified_on:%Y-%m-%d} {self.get_status_display()}"


class ElderVisitStateQuerySet(ScopedQuerySet):
    area_path = "elder__village__code"


class ElderVisitState(models.Model):
    """Per elder: the latest visit, the latest home visit and the earliest open urgent deadline.

    Kept by the services that record visits and urgent requests (`refresh_visit_state`, which
    recomputes it from the rows, never increments), so the schedule annotation reads three
    columns through one join instead of searching ~30 visits per elder at every reference —
    the difference between milliseconds and seconds for a town or the county.
    """

    elder = models.OneToOneField("registry.Elder", verbose_name=_("老人"), primary_key=True,
                                 on_delete=models.CASCADE, related_name="visit_state")
    last_visit_at = models.DateTimeField(_("最近巡访"), null=True, blank=True)
    last_home_visit_at = models.DateTimeField(_("最近上门巡访"), null=True, blank=True)
    urgent_due_by = models.DateTimeField(_("紧急巡访期限"), null=True, blank=True)

    objects = ElderVisitStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡访状态")
        verbose_name_plural = _("巡访状态")

    def __str__(self):
        return str(self.elder_id)
