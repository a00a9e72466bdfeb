"""Stored reports of closed periods (see oversight.reports: how reports stay reproducible)."""

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from eldercare.scoping import ScopedQuerySet
from oversight.periods import PERIOD_KINDS
from oversight.rollup import KINDS
from visits.choices import VisitMethod, VisitOutcome


class ReportSnapshotQuerySet(ScopedQuerySet):
    area_path = "area_code"

    def restrict_role(self, queryset, user):
        # Reports are the town office's and the county's.
        if user.role in (UserRole.TOWN, UserRole.COUNTY):
            return queryset
        return queryset.none()


class ReportSnapshot(models.Model):
    """The tables of one area's report for one closed period, stored the first time it was made
    (by `freeze_reports` at the close, or by the first request after it) and never changed."""

    area_code = models.CharField(_("区划代码"), max_length=12)
    kind = models.CharField(_("周期"), max_length=10, choices=list(PERIOD_KINDS.items()))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    tables = models.JSONField(_("报表内容"))
    frozen_at = models.DateTimeField(_("封存时间"), auto_now_add=True)

    objects = ReportSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("统计报表(已封存)")
        verbose_name_plural = _("统计报表(已封存)")
        constraints = [
            # report_for: one stored copy per area and period (looked up by these three)
            models.UniqueConstraint(fields=["area_code", "kind", "start"], name="reportsnapshot_one_per_period",
                                    violation_error_message=_("该区域该期报表已封存。")),
        ]

    def __str__(self):
        return f"{self.area_code} {self.kind} {self.start}"


class ScorecardVersionQuerySet(ScopedQuerySet):
    """Weights and targets apply to every area: town and county staff read them all."""

    def for_user(self, user):
        if getattr(user, "is_superuser", False) or getattr(user, "role", None) in (UserRole.TOWN, UserRole.COUNTY):
            return self.all() if getattr(user, "is_active", False) else self.none()
        return self.none()

    def in_force_on(self, day):
        """The version a period starting on `day` is scored with: the latest that applies by then."""
        return self.filter(valid_from__lte=day).order_by("-valid_from").first()


class ScorecardVersion(models.Model):
    """One version of the scorecard's weights and targets, applying to periods that start on or
    after `valid_from` (until a later version). Periods keep the version in force at their start,
    so a new version never rescores the past. `weights` = {item: [weight, target %]}."""

    valid_from = models.DateField(_("起用日期"), unique=True)
    name = models.CharField(_("版本说明"), max_length=100)
    weights = models.JSONField(_("权重与目标"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScorecardVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("评分标准版本")
        verbose_name_plural = _("评分标准版本")
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.valid_from} {self.name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from oversight.scorecard import ITEMS_BY_NAME

        weights = self.weights if isinstance(self.weights, dict) else {}
        missing = sorted(set(ITEMS_BY_NAME) - set(weights))
        unknown = sorted(set(weights) - set(ITEMS_BY_NAME))
        if missing or unknown:
            raise ValidationError({"weights": _("评分项不完整：缺少 %(missing)s；多出 %(unknown)s。") % {
                "missing": "、".join(missing) or "无", "unknown": "、".join(unknown) or "无"}})
        for name, pair in weights.items():
            if (not isinstance(pair, list | tuple) or len(pair) != 2
                    or not all(isinstance(v, int | float) for v in pair) or pair[0] < 0 or not 0 < pair[1] <= 100):
                raise ValidationError({"weights": _("评分项“%(item)s”应写成 [权重, 目标百分比]，权重不小于 0，目标在 1–100 之间。")
                                       % {"item": name}})


class CircularStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ISSUED = "issued", _("已印发")


class CircularQuerySet(ScopedQuerySet):
    """A town's circulars: its office and the county see them all; a village sees the issued
    circulars that name it; clinics and departments none."""

    area_path = "town__code"

    def jurisdiction_q(self, prefix):
        # A village's circulars are its town's: the town code is the first 9 digits of the village's.
        return super().jurisdiction_q(prefix) | models.Q(town__code=prefix[:9])

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.TOWN, UserRole.COUNTY):
            return queryset
        if user.role == UserRole.VILLAGE:
            named = CircularVillage.objects.filter(circular=models.OuterRef("pk"), village_id=user.area_id)
            return queryset.filter(models.Exists(named), status=CircularStatus.ISSUED)
        return queryset.none()


class Circular(models.Model):
    """A township's circular (通报) on one scoring period: the scores as they stood when drafted,
    the villages below target with their shortfalls, those that improved most, and the office's
    own text. Draft → issued (oversight.services); an issued circular never changes. `number`
    counts the town's circulars on the same period (a re-issue is a new circular)."""

    town = models.ForeignKey("eldercare.Area", verbose_name=_("乡镇"), on_delete=models.PROTECT,
                             related_name="circulars")
    kind = models.CharField(_("周期"), max_length=10, choices=list(PERIOD_KINDS.items()))
    start = models.DateField(_("评分期开始"))
    end = models.DateField(_("评分期截至"))
    number = models.PositiveSmallIntegerField(_("第几份"), default=1)
    title = models.CharField(_("标题"), max_length=100)
    status = models.CharField(_("状态"), max_length=10, choices=CircularStatus.choices, default=CircularStatus.DRAFT,
                              editable=False)
    scores = models.JSONField(_("评分"), default=dict, editable=False)
    text = models.TextField(_("工作要求"), blank=True)
    created_by = models.ForeignKey("eldercare.User", verbose_name=_("起草人"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("起草时间"), auto_now_add=True)
    issued_by = models.ForeignKey("eldercare.User", verbose_name=_("印发人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+", editable=False)
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True, editable=False)

    objects = CircularQuerySet.as_manager()

    class Meta:
        verbose_name = _("督导通报")
        verbose_name_plural = _("督导通报")
        ordering = ["-start", "-number"]
        constraints = [
            # one numbering per town and period (services.draft_circular takes the next number)
            models.UniqueConstraint(fields=["town", "kind", "start", "number"], name="circular_unique_number",
                                    violation_error_message=_("该期通报编号重复。")),
        ]

    def __str__(self):
        return self.title

    @property
    def is_issued(self) -> bool:
        return self.status == CircularStatus.ISSUED


class CircularVillage(models.Model):
    """A village a circular names: below target (with its shortfalls) or among the most improved."""

    circular = models.ForeignKey(Circular, verbose_name=_("通报"), on_delete=models.CASCADE, related_name="named")
    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.PROTECT,
                                related_name="+")
    below_target = models.BooleanField(_("未达标"), default=False)
    improved = models.BooleanField(_("进步明显"), default=False)

    class Meta:
        verbose_name = _("通报点名")
        verbose_name_plural = _("通报点名")
        constraints = [models.UniqueConstraint(fields=["circular", "village"], name="circularvillage_unique")]

    def __str__(self):
        return f"{self.circular} · {self.village}"


class RectificationQuerySet(ScopedQuerySet):
    area_path = "village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE):
            return queryset
        return queryset.none()


class Rectification(models.Model):
    """A village's answer to a circular's shortfall (整改情况), which the town office accepts."""

    circular = models.ForeignKey(Circular, verbose_name=_("通报"), on_delete=models.PROTECT,
                                 related_name="rectifications")
    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.PROTECT,
                                related_name="+")
    note = models.TextField(_("整改情况"))
    submitted_by = models.ForeignKey("eldercare.User", verbose_name=_("报送人"), on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(_("报送时间"), auto_now_add=True)
    accepted_by = models.ForeignKey("eldercare.User", verbose_name=_("确认人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改情况")
        verbose_name_plural = _("整改情况")
        ordering = ["submitted_at", "id"]

    def __str__(self):
        return f"{self.village} · {self.circular}"


class VisitDayQuerySet(ScopedQuerySet):
    area_path = "village__code"

    def restrict_role(self, queryset, user):
        # The same rule as the visits themselves: clinic and department officers see none.
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


class VisitDay(models.Model):
    """The visits of one village on one local day (the village is the elder's, as the live
    figures count it), in all, at home, and by method × outcome: the rollup the dashboards' visit
    figures and trends and the reports' 四、巡访 read instead of ~500,000 visits. Kept by database triggers on every write of a visit and every move of an
    elder to another village (oversight.rollup), rebuilt nightly by `rebuild_rollups`."""

    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.DO_NOTHING,
                                db_constraint=False, db_index=False, related_name="+")
    day = models.DateField(_("日期"))
    visits = models.IntegerField(_("巡访次数"), default=0)
    home_visits = models.IntegerField(_("其中上门"), default=0)
    # 流于形式的巡访 (oversight.rollup.EMPTY_VISIT_SQL): the scorecard's 巡访有实质内容
    empty_visits = models.IntegerField(_("流于形式的巡访"), default=0)

    objects = VisitDayQuerySet.as_manager()

    class Meta:
        verbose_name = _("每日巡访汇总")
        verbose_name_plural = _("每日巡访汇总")
        constraints = [models.UniqueConstraint(fields=["village", "day"], name="visitday_village_day")]
        indexes = [
            models.Index(fields=["day", "village"], name="visitday_day_village"),
            # VisitDayQuerySet.for_user and the figures of one town or county: village_id LIKE
            # 'prefix%' and a day range. The unique (village, day) index cannot serve a LIKE under
            # a collation other than "C" (C.UTF-8 included): at province scale (3.7 million
            # village-days) a town's 12-month trend was a sequential scan of the whole table.
            models.Index(fields=["village", "day"], name="visitday_village_prefix",
                         opclasses=["text_pattern_ops", "date_ops"]),
        ]

    def __str__(self):
        return f"{self.village_id} {self.day} {self.visits}"


# One column per visit method × outcome (e.g. `home_attention`: home visits that found 需关注), for
# the reports' 四、巡访; generated from the visits' choices, as the trigger SQL is (rollup.KINDS).
for _method, _outcome, _column in KINDS:
    VisitDay.add_to_class(_column, models.IntegerField(
        format_lazy("{}·{}", VisitMethod(_method).label, VisitOutcome(_outcome).label), default=0))
