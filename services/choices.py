"""Closed vocabularies of the service catalogue, volunteers and health management."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderKind(models.TextChoices):
    ELDERS_ASSOCIATION = "elders_association", _("老年协会")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")
    CLINIC = "clinic", _("卫生院/村卫生室")
    DAY_CARE = "day_care", _("日间照料中心")
    CARE_HOME = "care_home", _("养老机构")
    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL = "individual", _("个人")


class ServiceItemCategory(models.TextChoices):
    DAILY_CARE = "daily_care", _("生活照料")
    HEALTH = "health", _("医疗健康")
    EMOTIONAL = "emotional", _("精神慰藉")
    RECREATION = "recreation", _("文体娱乐")
    LEGAL = "legal", _("法律援助")
    SAFETY = "safety", _("安全防护")
    OTHER = "other", _("其他")


class ServiceItemFee(models.TextChoices):
    FREE = "free", _("免费")
    SUBSIDISED = "subsidised", _("补贴")
    PAID = "paid", _("自费")


class ServiceItemEligibility(models.TextChoices):
    """Register flags a catalogue item can require (ALL of the listed flags must hold)."""

    VERY_OLD = "very_old", _("高龄")
    DISABLED = "disabled", _("失能")
    TEKUN = "tekun", _("特困")
    DIBAO = "dibao", _("低保")
    ALONE = "alone", _("独居")
    DISABLED_ALONE = "disabled_alone", _("失能独居")
    HARDSHIP = "hardship", _("经济困难")
    AGE_65 = "age_65", _("65岁以上")


class ServiceRequestSource(models.TextChoices):
    VISIT = "visit", _("巡访时申请")
    STATED_NEED = "stated_need", _("登记的服务需求")
    OTHER = "other", _("其他")


class ServiceRequestStatus(models.TextChoices):
    OPEN = "open", _("待派单")
    ASSIGNED = "assigned", _("已派单")
    CLOSED = "closed", _("已服务")
    DECLINED = "declined", _("不予服务")
