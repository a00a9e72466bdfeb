"""Vocabularies of the core: area levels and staff roles."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    COUNTY = "county", _("县")
    TOWN = "town", _("乡镇")
    VILLAGE = "village", _("村(社区)")


# Length of the statistical division code at each level: its jurisdiction prefix.
AREA_CODE_LENGTH = {AreaLevel.COUNTY: 6, AreaLevel.TOWN: 9, AreaLevel.VILLAGE: 12}


class UserRole(models.TextChoices):
    COUNTY = "county", _("县民政局")
    TOWN = "town", _("乡镇民政办")
    VILLAGE = "village", _("村(居)委会")
    CLINIC = "clinic", _("卫生院/村卫生室")
    DEPARTMENT = "department", _("部门")


# Roles that receive relief cases referred to a department: department officers, and clinic
# staff, whose account names their clinic's department (卫生院) — one account, not a second one.
REFERRAL_ROLES = (UserRole.DEPARTMENT, UserRole.CLINIC)

# Who may grant which role: nobody hands out a role above their own.
GRANTABLE_ROLES = {
    UserRole.COUNTY: [UserRole.TOWN, UserRole.VILLAGE, UserRole.CLINIC, UserRole.DEPARTMENT],
    UserRole.TOWN: [UserRole.VILLAGE, UserRole.CLINIC, UserRole.DEPARTMENT],
}


class AccessEventKind(models.TextChoices):
    REVEAL = "reveal", _("查看完整信息")
    EXPORT = "export", _("导出")
    DOWNLOAD = "download", _("下载附件")
