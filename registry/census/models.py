"""The census import job (调查表导入): one uploaded workbook, its preview, its run and its outcome.

Loaded into the `registry` app by the last line of registry/models.py, so the app label is
`registry` and the migrations live in registry/migrations.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.scoping import ScopedQuerySet
from registry.census.choices import CensusImportStatus

__all__ = ["CensusImport", "CensusImportQuerySet", "IllegalTransition", "TRANSITIONS"]

S = CensusImportStatus

# The import workflow. Anything else raises IllegalTransition.
TRANSITIONS: dict[str, set[str]] = {
    S.UPLOADED: {S.PREVIEWING, S.FAILED, S.CANCELLED},
    S.PREVIEWING: {S.PREVIEWED, S.FAILED, S.CANCELLED},
    S.PREVIEWED: {S.QUEUED, S.CANCELLED, S.PREVIEWING},
    S.QUEUED: {S.RUNNING, S.CANCELLED, S.FAILED},
    S.RUNNING: {S.DONE, S.FAILED, S.CANCELLED},
    S.DONE: set(),
    S.FAILED: set(),
    S.CANCELLED: set(),
}
ACTIVE_STATUSES = (S.UPLOADED, S.PREVIEWING, S.QUEUED, S.RUNNING)


class IllegalTransition(Exception):
    """A status change the import workflow does not allow."""


class CensusImportQuerySet(ScopedQuerySet):
    """Imports within reach: by the importing user's area code (town staff see their town's,
    village staff their own village's, county all). Clinic and department officers see none."""

    area_path = "area_code"

    def restrict_role(self, queryset, user):
        from eldercare.choices import UserRole

        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


class CensusImport(models.Model):
    """One census workbook upload: stored privately, previewed, confirmed, run in the background.

    `area_code` is the importing user's jurisdiction at upload time; the import writes only
    inside it and is visible only within it.
    """

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT,
                                    related_name="+")
    area_code = models.CharField(_("辖区代码"), max_length=12, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200)
    stored_path = models.CharField(_("存储位置"), max_length=300, blank=True, editable=False)
    file_size = models.BigIntegerField(_("文件大小"), default=0)
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=CensusImportStatus.choices,
                              default=CensusImportStatus.UPLOADED)
    new_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("无变化"), default=0)
    rejected_count = models.PositiveIntegerField(_("退回"), default=0)
    warning_count = models.PositiveIntegerField(_("提示"), default=0)
    rows_processed = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    preview = models.JSONField(_("检查结果"), default=dict, blank=True)
    rejected_path = models.CharField(_("退回行文件"), max_length=300, blank=True, editable=False)
    error = models.TextField(_("错误信息"), blank=True)
    worker_pid = models.IntegerField(_("进程号"), null=True, blank=True, editable=False)
    worker_host = models.CharField(_("主机"), max_length=100, blank=True, editable=False)
    # The queued preview or run (django-tasks-db), to tell a job waiting in the queue from one
    # whose task died (services.refresh_stale).
    task_id = models.CharField(_("后台任务编号"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    files_purged_at = models.DateTimeField(_("文件清理时间"), null=True, blank=True)

    objects = CensusImportQuerySet.as_manager()

    class Meta:
        app_label = "registry"
        verbose_name = _("调查表导入")
        verbose_name_plural = _("调查表导入")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area_code"], name="census_import_area_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.file_name}（{timezone.localtime(self.created_at):%Y-%m-%d %H:%M}）" if self.created_at else self.file_name

    def move_to(self, status: str) -> None:
        """Change status along the workflow (not saved); raises IllegalTransition otherwise."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"{self.status} → {status}")
        self.status = status

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def waiting_long(self) -> bool:
        """Queued for longer than the stale limit without starting: the worker may not be running
        (the page says so; a job still in the queue is not failed, it starts when a worker does)."""
        from datetime import timedelta

        since = self.confirmed_at or self.created_at
        return (self.status in (S.UPLOADED, S.QUEUED) and since is not None
                and since < timezone.now() - timedelta(seconds=settings.CENSUS_STALE_SECONDS))

    @property
    def can_cancel(self) -> bool:
        return S.CANCELLED in TRANSITIONS[self.status]

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == S.DONE else 0
        return min(100, round(100 * self.rows_processed / self.rows_total))
