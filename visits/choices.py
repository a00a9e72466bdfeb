"""Closed vocabularies of patrol visits (values are stable codes, labels are Chinese)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitMethod(models.TextChoices):
    HOME = "home", _("上门")
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    PROXY = "proxy", _("委托他人代访")


class VisitCheck(models.TextChoices):
    """The answer to one checklist item."""

    NORMAL = "normal", _("正常")
    FAIR = "fair", _("一般")
    PROBLEM = "problem", _("有问题")


class VisitOutcome(models.TextChoices):
    NORMAL = "normal", _("正常")
    ATTENTION = "attention", _("需关注")
    HELP = "help", _("需帮扶")


class DueBucket(models.TextChoices):
    """Where an elder sits on the worklist (derived from the schedule annotation)."""

    OVERDUE = "overdue", _("已逾期")
    TODAY = "today", _("今天到期")
    WEEK = "week", _("本周到期")
    LATER = "later", _("以后")


class FamilyNoticeMethod(models.TextChoices):
    PHONE = "phone", _("电话")
    MESSAGE = "message", _("短信/微信")
    IN_PERSON = "in_person", _("当面")


class FamilyNoticeStatus(models.TextChoices):
    OPEN = "open", _("待子女答复")
    RESPONDED = "responded", _("子女已答复")
    ESCALATED = "escalated", _("已转督促")
