"""Core models: areas (county / town / village), departments, staff users and access events."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from eldercare.audit import tracked
from eldercare.choices import AREA_CODE_LENGTH, AccessEventKind, AreaLevel, UserRole
from eldercare.scoping import ScopedQuerySet

PARENT_LEVEL = {AreaLevel.TOWN: AreaLevel.COUNTY, AreaLevel.VILLAGE: AreaLevel.TOWN}


class AreaQuerySet(ScopedQuerySet):
    area_path = "code"

    def villages(self):
        return self.filter(level=AreaLevel.VILLAGE)

    def towns(self):
        return self.filter(level=AreaLevel.TOWN)


class Area(models.Model):
    """A county, town or village, keyed by its national statistical division code (统计用区划代码).

    The code is the primary key, so a row's `village_id` is the village code itself and the
    jurisdiction filter (`village_id LIKE '511529100%'`) needs no join.
    """

    code = models.CharField(
        _("区划代码"), max_length=12, primary_key=True, validators=[RegexValidator(r"^\d{6}(\d{3}){0,2}$")]
    )
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("级别"), max_length=10, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [
            # AreaQuerySet.for_user: code LIKE 'prefix%' whatever the database collation
            models.Index(fields=["code"], name="area_code_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        expected = AREA_CODE_LENGTH.get(self.level)
        if expected and len(self.code or "") != expected:
            raise ValidationError({"code": _("%(level)s的区划代码应为 %(n)s 位数字。") % {
                "level": self.get_level_display(), "n": expected}})
        wanted_parent = PARENT_LEVEL.get(self.level)
        if wanted_parent is None:
            if self.parent_id:
                raise ValidationError({"parent": _("县级区划没有上级。")})
            return
        if self.parent is None or self.parent.level != wanted_parent:
            raise ValidationError({"parent": _("%(level)s的上级必须是%(parent)s。") % {
                "level": self.get_level_display(), "parent": AreaLevel(wanted_parent).label}})
        if not self.code.startswith(self.parent.code):
            raise ValidationError({"code": _("区划代码 %(code)s 不以上级 %(parent)s 的代码 %(pcode)s 开头。") % {
                "code": self.code, "parent": self.parent.name, "pcode": self.parent.code}})

    @property
    def town_code(self) -> str:
        return self.code[:9]


class DepartmentKind(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", _("民政办")
    CLINIC = "clinic", _("卫生院")
    POLICE = "police", _("派出所")
    JUSTICE = "justice", _("司法所")
    FINANCE = "finance", _("财政所")
    SOCIAL_AFFAIRS = "social_affairs", _("社事中心")
    HUMAN_RESOURCES = "human_resources", _("人社所")
    CULTURE = "culture", _("文化站")
    RURAL_REVITALISATION = "rural_revitalisation", _("乡村振兴办")
    OTHER = "other", _("其他")


class DepartmentQuerySet(ScopedQuerySet):
    area_path = "town__code"

    def restrict_role(self, queryset, user):
        if user.role == UserRole.DEPARTMENT:
            return queryset.filter(pk=user.department_id)
        return queryset


class Department(models.Model):
    """A township department that relief cases are referred to (派出所, 司法所, 卫生院 …)."""

    town = models.ForeignKey(Area, verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="departments")
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类别"), max_length=30, choices=DepartmentKind.choices)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["town", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="department_unique_name_per_town",
                                    violation_error_message=_("本乡镇已有同名部门。")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.town_id and self.town.level != AreaLevel.TOWN:
            raise ValidationError({"town": _("部门必须属于一个乡镇。")})


class UserQuerySet(ScopedQuerySet):
    area_path = "area__code"

    def restrict_role(self, queryset, user):
        # Only the offices that manage accounts see their colleagues; everyone else sees themself.
        if user.role in (UserRole.COUNTY, UserRole.TOWN):
            return queryset
        return queryset.filter(pk=user.pk)


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


# Which area level each role works at.
ROLE_AREA_LEVELS = {
    UserRole.COUNTY: {AreaLevel.COUNTY},
    UserRole.TOWN: {AreaLevel.TOWN},
    UserRole.VILLAGE: {AreaLevel.VILLAGE},
    UserRole.CLINIC: {AreaLevel.TOWN, AreaLevel.VILLAGE},
    UserRole.DEPARTMENT: {AreaLevel.TOWN},
}


@tracked(exclude=["password", "last_login"])
class User(AbstractUser):
    """A staff member. Their area is their jurisdiction; their role narrows what they see there."""

    role = models.CharField(_("角色"), max_length=20, choices=UserRole.choices, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("所属区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    real_name = models.CharField(_("姓名"), max_length=30, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    objects = ScopedUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        indexes = [
            # UserQuerySet.for_user: area_id LIKE 'prefix%'
            models.Index(fields=["area"], name="user_area_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.real_name or self.username

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "role" in update_fields:
            self.sync_role_group()

    def clean(self):
        super().clean()
        if self.is_superuser and not self.role:
            return
        if not self.role:
            raise ValidationError({"role": _("请选择角色。")})
        if self.area is None:
            raise ValidationError({"area": _("请选择所属区划。")})
        if self.area.level not in ROLE_AREA_LEVELS[self.role]:
            raise ValidationError({"area": _("%(role)s的所属区划不能是%(level)s。") % {
                "role": self.get_role_display(), "level": self.area.get_level_display()}})
        if self.role == UserRole.DEPARTMENT:
            if self.department is None:
                raise ValidationError({"department": _("部门工作人员必须选择所属部门。")})
            if self.department.town_id != self.area_id:
                raise ValidationError({"department": _("所属部门必须在所属乡镇内。")})
        elif self.role == UserRole.CLINIC and self.department_id:
            # A clinic is a department too: its staff receive the cases referred to their 卫生院.
            if self.department.kind != DepartmentKind.CLINIC:
                raise ValidationError({"department": _("卫生院工作人员的所属部门只能选本乡镇的卫生院。")})
            if self.department.town_id != self.area.code[:9]:
                raise ValidationError({"department": _("所属部门必须在所属乡镇内。")})
        elif self.department_id:
            raise ValidationError({"department": _("只有部门和卫生院工作人员才选择所属部门。")})

    @cached_property
    def jurisdiction(self) -> str | None:
        """The area-code prefix of this user's reach (None: nothing)."""
        from eldercare.scoping import jurisdiction_prefix

        return jurisdiction_prefix(self)

    def sync_role_group(self):
        """Membership follows the role: exactly the role's group (the admin permissions live there)."""
        from django.contrib.auth.models import Group

        from eldercare.roles import group_name

        groups = Group.objects.filter(name=group_name(self.role)) if self.role else Group.objects.none()
        self.groups.set(groups)

    def can_grant(self, role) -> bool:
        from eldercare.choices import GRANTABLE_ROLES

        return self.is_superuser or role in GRANTABLE_ROLES.get(self.role, [])


class AccessEventQuerySet(ScopedQuerySet):
    area_path = "area_code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.COUNTY, UserRole.TOWN):
            return queryset
        return queryset.filter(user=user)


class AccessEvent(models.Model):
    """An export, a reveal of a masked field or a download of a private file: who, when, what."""

    user = models.ForeignKey(User, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=20, choices=AccessEventKind.choices)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    area_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    field = models.CharField(_("字段"), max_length=60, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
