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
