"""Vocabularies of the census import."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CensusImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    PREVIEWING = "previewing", _("正在检查")
    PREVIEWED = "previewed", _("待确认")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("正在导入")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")
