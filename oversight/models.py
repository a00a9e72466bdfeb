"""Stored reports of closed periods (see oversight.reports: how reports stay reproducible)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from eldercare.scoping import ScopedQuerySet
from oversight.periods import PERIOD_KINDS


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
