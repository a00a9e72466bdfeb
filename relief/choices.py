"""Closed vocabularies of risk assessment and relief cases (values are stable codes, labels Chinese)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReliefCaseType(models.TextChoices):
    VAGRANCY = "vagrancy", _("外出流浪乞讨")
    ILLEGAL_HARM = "illegal_harm", _("遭受非法侵害")
    CRITICAL_ILLNESS = "critical_illness", _("发生危重病情")
    SEVERE_MENTAL_ILLNESS = "mental_illness", _("患有严重精神疾病")
    MAJOR_HARDSHIP = "major_hardship", _("面临重大困境")
    GUARDIAN_REFUSAL = "guardian_refusal", _("赡养人拒不履行义务")
    OTHER = "other", _("其他")


# Case types whose narrative only town staff and the departments it is referred to may read.
SENSITIVE_CASE_TYPES = frozenset({ReliefCaseType.ILLEGAL_HARM, ReliefCaseType.SEVERE_MENTAL_ILLNESS})


class ReliefCaseUrgency(models.TextChoices):
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")


class ReliefCaseStatus(models.TextChoices):
    REPORTED = "reported", _("已上报")
    RETURNED = "returned", _("退回补充")
    ACCEPTED = "accepted", _("乡镇已受理")
    REFERRED = "referred", _("已转办")
    RECEIVED = "received", _("部门已接收")
    IN_PROGRESS = "in_progress", _("处置中")
    CLOSED = "closed", _("已办结")


class CaseEventAction(models.TextChoices):
    REPORT = "report", _("上报")
    RETURN = "return", _("退回补充")
    RESUBMIT = "resubmit", _("补充后重新上报")
    ACCEPT = "accept", _("乡镇受理")
    REFER = "refer", _("转办")
    RECEIVE = "receive", _("部门接收")
    START = "start", _("开始处置")
    CLOSE_REFERRAL = "close_referral", _("部门办结")
    CLOSE = "close", _("办结")


class ReferralState(models.TextChoices):
    """Where one department's part of a case stands (derived from its timestamps)."""

    WAITING = "waiting", _("待接收")
    RECEIVED = "received", _("已接收")
    IN_PROGRESS = "in_progress", _("处置中")
    DONE = "done", _("已办结")
