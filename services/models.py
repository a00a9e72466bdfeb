"""Service catalogue (关爱服务清单), providers, volunteers and pairing (结对帮扶), service records,
and the clinics' annual health management for elders aged 65 and over (健康管理)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, Func, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.audit import tracked
from eldercare.choices import UserRole
from eldercare.scoping import ReachingUpQuerySet, ScopedQuerySet
from registry.choices import ElderStatus
from services.choices import (
    ProviderKind,
    ServiceItemCategory,
    ServiceItemEligibility,
    ServiceItemFee,
    ServiceRequestSource,
    ServiceRequestStatus,
)

HEALTH_CHECK_AGE = 65  # 65岁及以上: the policy's annual health management
CONTRACT_EXPIRING_DAYS = 30  # a family-doctor contract "expires soon" within this many days
RECENT_SERVICE_DAYS = 365  # an elder "receives" an item when a record exists within this many days

# Eligibility flags, each defined ONCE as (Elder field or annotation, lookup, value). The queryset
# filter (`eligibility_q`) and the one-elder check (`elder_has_flag`) are both built from this.
ELIGIBILITY_FLAGS = {
    ServiceItemEligibility.VERY_OLD: ("is_very_old", "exact", True),
    ServiceItemEligibility.DISABLED: ("is_disabled", "exact", True),
    ServiceItemEligibility.TEKUN: ("tekun", "exact", True),
    ServiceItemEligibility.DIBAO: ("dibao", "exact", True),
    ServiceItemEligibility.ALONE: ("is_alone", "exact", True),
    ServiceItemEligibility.DISABLED_ALONE: ("is_disabled_alone", "exact", True),
    ServiceItemEligibility.HARDSHIP: ("is_hardship", "exact", True),
    ServiceItemEligibility.AGE_65: ("age", "gte", HEALTH_CHECK_AGE),
}
_PY_LOOKUPS = {"exact": lambda a, b: a == b, "gte": lambda a, b: a is not None and a >= b}


def eligibility_q(flags) -> Q:
    """Q over Elder (with its flag annotations) that holds when ALL `flags` hold; no flags: everyone."""
    q = Q()
    for flag in flags:
        field, lookup, value = ELIGIBILITY_FLAGS[flag]
        q &= Q(**{f"{field}__{lookup}": value})
    return q


def elder_has_flag(elder, flag) -> bool:
    """The same definition as `eligibility_q`, evaluated on one elder loaded with its annotations."""
    field, lookup, value = ELIGIBILITY_FLAGS[flag]
    return _PY_LOOKUPS[lookup](getattr(elder, field), value)


class ProviderQuerySet(ReachingUpQuerySet):
    def active(self):
        return self.filter(active=True)


@tracked()
class Provider(models.Model):
    """A service provider (老年协会, 社会组织, 志愿服务队, 卫生院 …) serving a town or a village."""

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类别"), max_length=30, choices=ProviderKind.choices)
    area = models.ForeignKey("eldercare.Area", verbose_name=_("服务区域"), on_delete=models.PROTECT,
                             related_name="providers", help_text=_("服务的乡镇或村"))
    contact_person = models.CharField(_("联系人"), max_length=30, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    purchase_qualified = models.BooleanField(_("政府购买服务合格承接方"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务提供方")
        verbose_name_plural = _("服务提供方")
        ordering = ["area_id", "name"]
        indexes = [
            # ProviderQuerySet.for_user: area_id LIKE 'prefix%' OR area_id IN (ancestors)
            models.Index(fields=["area"], name="provider_area_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.name


class ServiceItemQuerySet(ReachingUpQuerySet):
    area_path = "town__code"

    def published(self):
        return self.filter(published=True)


@tracked()
class ServiceItem(models.Model):
    """One item of a town's care-service catalogue (关爱服务清单).

    `eligibility` lists register flags that must ALL hold for an elder to be eligible; an
    empty list means every elder in the town.
    """

    town = models.ForeignKey("eldercare.Area", verbose_name=_("乡镇"), on_delete=models.PROTECT,
                             related_name="service_items")
    name = models.CharField(_("服务项目"), max_length=80)
    category = models.CharField(_("类别"), max_length=20, choices=ServiceItemCategory.choices)
    description = models.CharField(_("服务内容"), max_length=300, blank=True)
    providers = models.ManyToManyField(Provider, verbose_name=_("服务提供方"), blank=True,
                                       related_name="items")
    channel = models.CharField(_("获取方式"), max_length=200, blank=True, help_text=_("例如：向村委会申请、电话预约"))
    contact = models.CharField(_("联系方式"), max_length=60, blank=True)
    eligibility = ArrayField(models.CharField(max_length=20, choices=ServiceItemEligibility.choices),
                             verbose_name=_("服务对象条件"), default=list, blank=True,
                             help_text=_("须同时满足所选全部条件；不选表示全体留守老年人"))
    fee = models.CharField(_("收费"), max_length=20, choices=ServiceItemFee.choices, default=ServiceItemFee.FREE)
    published = models.BooleanField(_("已发布"), default=False)

    objects = ServiceItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("关爱服务项目")
        verbose_name_plural = _("关爱服务清单")
        ordering = ["town_id", "category", "name"]
        indexes = [
            # ServiceItemQuerySet.for_user / the town's published list
            models.Index(fields=["town"], name="serviceitem_town_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.town_id and self.town.level != "town":
            raise ValidationError({"town": _("服务清单属于乡镇，请选择一个乡镇。")})

    def eligibility_labels(self) -> list[str]:
        return [ServiceItemEligibility(f).label for f in self.eligibility]

    def eligible_elders(self, elders):
        """`elders` (an Elder queryset with flags) narrowed to those this item is for."""
        return elders.filter(eligibility_q(self.eligibility))

    def is_eligible(self, elder) -> bool:
        """Python twin of `eligible_elders` for one elder (ALL flags)."""
        return all(elder_has_flag(elder, flag) for flag in self.eligibility)


class VillageRowQuerySet(ScopedQuerySet):
    """Rows of one village that only village, town and county staff work with."""

    area_path = "village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


@tracked()
class Volunteer(models.Model):
    """A volunteer of a village, possibly in a team (志愿服务队) or provider."""

    name = models.CharField(_("姓名"), max_length=30)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    provider = models.ForeignKey(Provider, verbose_name=_("所属队伍/机构"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="volunteers")
    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.PROTECT,
                                related_name="volunteers")
    active = models.BooleanField(_("在岗"), default=True)

    objects = VillageRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["village_id", "name"]
        indexes = [
            models.Index(fields=["village"], name="volunteer_village_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.name


class ElderRowQuerySet(ScopedQuerySet):
    """Rows about one elder that clinic and department officers do not see."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset


class PairingQuerySet(ElderRowQuerySet):
    def current(self):
        return self.filter(ended_on__isnull=True)

    def with_due(self, today=None):
        """Annotate `last_contact_on`, `due_on` and `is_overdue` — the ONE definition of overdue.

        The agreed contact is due `frequency_days` after the latest service record by this
        volunteer for this elder (or after the start of the pairing when there is none); a
        current pairing whose due date is before today is overdue.
        """
        today = today or timezone.localdate()
        last = ServiceRecord.objects.filter(elder_id=OuterRef("elder_id"), volunteer_id=OuterRef("volunteer_id"),
                                            served_on__gte=OuterRef("started_on"))
        last = last.order_by().values("elder_id").annotate(m=Max("served_on")).values("m")
        due = Func(Coalesce(Subquery(last, output_field=models.DateField()), F("started_on")), F("frequency_days"),
                   template="(%(expressions)s)", arg_joiner=" + ", output_field=models.DateField())
        return self.annotate(last_contact_on=Subquery(last, output_field=models.DateField()), due_on=due).annotate(
            is_overdue=models.ExpressionWrapper(Q(ended_on__isnull=True, due_on__lt=today),
                                                output_field=models.BooleanField()))

    def overdue(self, today=None):
        return self.with_due(today).filter(is_overdue=True)


@tracked()
class Pairing(models.Model):
    """A volunteer paired with an elder (结对帮扶), with the agreed contact frequency."""

    volunteer = models.ForeignKey(Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT,
                                  related_name="pairings")
    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="pairings")
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    frequency_days = models.PositiveSmallIntegerField(_("约定联系间隔(天)"), default=7)

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["-started_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(frequency_days__gte=1), name="pairing_frequency_positive",
                                   violation_error_message=_("约定联系间隔至少为 1 天。")),
        ]

    def __str__(self):
        return f"{self.volunteer} ↔ {self.elder}"

    def clean(self):
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": _("结束日期不能早于开始日期。")})
        if self.volunteer_id and self.elder_id and self.volunteer.village_id != self.elder.village_id:
            raise ValidationError({"volunteer": _("志愿者与老人须在同一个村。")})


class ServiceRecordQuerySet(ElderRowQuerySet):
    def hours_ledger(self):
        """Hours per volunteer per month (time bank), aggregated by the database in one query."""
        from django.db.models import Sum
        from django.db.models.functions import TruncMonth

        return (self.filter(volunteer__isnull=False).annotate(month=TruncMonth("served_on"))
                .values("volunteer_id", "volunteer__name", "volunteer__village__name", "month")
                .annotate(minutes=Sum("duration_minutes"), records=models.Count("id"))
                .order_by("-month", "volunteer__name"))


MAX_SERVICE_MINUTES = 24 * 60  # one record is one day's service at most


@tracked()
class ServiceRecord(models.Model):
    """One delivery of a catalogue item to one elder (by a provider and/or a volunteer)."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="service_records")
    item = models.ForeignKey(ServiceItem, verbose_name=_("服务项目"), on_delete=models.PROTECT,
                             related_name="records")
    provider = models.ForeignKey(Provider, verbose_name=_("服务提供方"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="records")
    volunteer = models.ForeignKey(Volunteer, verbose_name=_("志愿者"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="records")
    served_on = models.DateField(_("服务日期"))
    duration_minutes = models.PositiveIntegerField(_("服务时长(分钟)"), default=60)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-served_on", "-id"]
        indexes = [
            # Pairing.with_due: latest record of (elder, volunteer); "receives item" on the profile
            models.Index(fields=["elder", "volunteer", "-served_on"], name="servicerecord_elder_volunteer"),
            models.Index(fields=["elder", "item", "-served_on"], name="servicerecord_elder_item"),
        ]

    def __str__(self):
        return f"{self.elder} {self.item} {self.served_on}"

    def clean(self):
        if self.served_on and self.served_on > timezone.localdate():
            raise ValidationError({"served_on": _("服务日期不能晚于今天。")})
        if self.duration_minutes is not None and not 1 <= self.duration_minutes <= MAX_SERVICE_MINUTES:
            raise ValidationError({"duration_minutes": _("服务时长应在 1 到 1440 分钟(一天)之间。")})


class ServiceRequestQuerySet(ElderRowQuerySet):
    """Service requests within reach (village, town, county; not clinic or department)."""

    def unresolved(self):
        """待派单 or 已派单: the town's and the village's list of open requests."""
        return self.filter(status__in=[ServiceRequestStatus.OPEN, ServiceRequestStatus.ASSIGNED])

    def with_age(self, today=None):
        """Annotate `age_days`: days since the request was made (the one definition of its age)."""
        today = today or timezone.localdate()
        # date - date is a whole number of days in PostgreSQL
        return self.annotate(age_days=Func(models.Value(today, output_field=models.DateField()), F("requested_on"),
                                           template="(%(expressions)s)", arg_joiner=" - ",
                                           output_field=models.IntegerField()))


@tracked()
class ServiceRequest(models.Model):
    """A need that must reach a provider: 申请服务 on a visit or a need stated in the register
    (Elder.needs). The town matches it against its catalogue (items the elder is eligible for),
    assigns an item and a provider (已派单) and closes it with the service record (已服务), or
    declines it with a reason. Open requests are listed per village with their age."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="service_requests")
    source = models.CharField(_("来源"), max_length=20, choices=ServiceRequestSource.choices)
    # The visit marked 申请服务 (visits sits beside services, so an id, as relief's source_visit_id):
    # one request per visit, however often the visit is edited.
    source_visit_id = models.BigIntegerField(_("来源巡访记录"), null=True, blank=True, editable=False)
    need = models.CharField(_("需求"), max_length=300)
    requested_on = models.DateField(_("申请日期"))
    status = models.CharField(_("状态"), max_length=10, choices=ServiceRequestStatus.choices,
                              default=ServiceRequestStatus.OPEN)
    item = models.ForeignKey(ServiceItem, verbose_name=_("服务项目"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="requests")
    provider = models.ForeignKey(Provider, verbose_name=_("服务提供方"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="requests")
    assigned_on = models.DateField(_("派单日期"), null=True, blank=True)
    record = models.OneToOneField(ServiceRecord, verbose_name=_("服务记录"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="request")
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    decline_reason = models.CharField(_("不予服务的原因"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务申请")
        verbose_name_plural = _("服务申请")
        ordering = ["requested_on", "id"]
        indexes = [
            # the open-requests list and its menu badge, oldest first
            models.Index(fields=["requested_on"], name="servicerequest_unresolved",
                         condition=Q(status__in=["open", "assigned"])),
        ]
        constraints = [
            # request_service(source_visit_id=…) looks it up before inserting; this holds under races
            models.UniqueConstraint(fields=["source_visit_id"], condition=Q(source_visit_id__isnull=False),
                                    name="servicerequest_one_per_visit",
                                    violation_error_message=_("这次巡访已经申请过服务。")),
        ]

    def __str__(self):
        return f"{self.elder} {self.need}"


class HealthCheckQuerySet(ScopedQuerySet):
    """Medical detail rows: clinic, town and county staff only (never village or department)."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role in (UserRole.VILLAGE, UserRole.DEPARTMENT):
            return queryset.none()
        return queryset

    def in_year(self, year: int):
        return self.filter(checked_on__year=year)


# Plausibility ranges: (field, low, high). Messages name the field and the range.
PLAUSIBLE_RANGES = {
    "systolic": (60, 260),
    "diastolic": (30, 160),
    "glucose": (Decimal("1.0"), Decimal("35.0")),
    "height_cm": (100, 220),
    "weight_kg": (25, 200),
}


@tracked()
class HealthCheck(models.Model):
    """The annual health check of an elder aged 65+ (the policy's four parts, plus the result)."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="health_checks")
    checked_on = models.DateField(_("体检日期"))
    # Free text rather than a Department FK: village clinics (村卫生室) are not departments.
    clinic_name = models.CharField(_("体检机构"), max_length=60)
    lifestyle_assessment = models.TextField(_("生活方式和健康状况评估"), blank=True)
    systolic = models.PositiveSmallIntegerField(_("收缩压(mmHg)"), null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(_("舒张压(mmHg)"), null=True, blank=True)
    glucose = models.DecimalField(_("空腹血糖(mmol/L)"), max_digits=4, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("身高(cm)"), max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(_("体重(kg)"), max_digits=4, decimal_places=1, null=True, blank=True)
    auxiliary_exams = models.TextField(_("辅助检查"), blank=True)
    guidance = models.TextField(_("健康指导"), blank=True)
    summary = models.CharField(_("体检结论"), max_length=300, blank=True)
    follow_up_needed = models.BooleanField(_("需要随访"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = HealthCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("健康体检")
        verbose_name_plural = _("健康体检")
        ordering = ["-checked_on", "-id"]
        indexes = [
            # "checked this year" (worklist, coverage, profile): EXISTS per elder and date range
            models.Index(fields=["elder", "checked_on"], name="healthcheck_elder_date"),
        ]

    def __str__(self):
        return f"{self.elder} {self.checked_on}"

    @property
    def bmi(self) -> Decimal | None:
        """Body-mass index from height and weight (kg/m²), one decimal."""
        if not self.height_cm or not self.weight_kg:
            return None
        metres = Decimal(self.height_cm) / 100
        return (Decimal(self.weight_kg) / (metres * metres)).quantize(Decimal("0.1"))

    def clean(self):
        errors = {}
        for field, (low, high) in PLAUSIBLE_RANGES.items():
            value = getattr(self, field)
            if value is not None and not (low <= value <= high):
                label = self._meta.get_field(field).verbose_name
                errors[field] = _("%(field)s %(value)s 不在合理范围 %(low)s–%(high)s 内，请核对后重新填写。") % {
                    "field": label, "value": value, "low": low, "high": high}
        if (self.systolic is not None and self.diastolic is not None and "systolic" not in errors
                and "diastolic" not in errors and self.diastolic >= self.systolic):
            errors["diastolic"] = _("舒张压(mmHg) %(d)s 应低于收缩压 %(s)s，请核对是否填反。") % {
                "d": self.diastolic, "s": self.systolic}
        if self.checked_on:
            if self.checked_on > timezone.localdate():
                errors["checked_on"] = _("体检日期不能晚于今天。")
            elif self.elder_id and not health_check_age_reached(self.elder.birth_date, self.checked_on):
                errors["checked_on"] = _("老人在体检那一年年底还不满 %(age)s 岁，不属于65岁及以上老年人健康管理对象。") % {
                    "age": HEALTH_CHECK_AGE}
        if errors:
            raise ValidationError(errors)


class ContractQuerySet(ScopedQuerySet):
    """Family-doctor contracts: the status is for village staff too; departments see none."""

    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role == UserRole.DEPARTMENT:
            return queryset.none()
        return queryset

    def valid_on(self, day):
        return self.filter(signed_on__lte=day, valid_until__gte=day)

    def expiring(self, today=None):
        """Valid today and ending within CONTRACT_EXPIRING_DAYS days."""
        today = today or timezone.localdate()
        return self.valid_on(today).filter(valid_until__lte=today + timedelta(days=CONTRACT_EXPIRING_DAYS))


@tracked()
class FamilyDoctorContract(models.Model):
    """A family-doctor contract (家庭医生签约) of an elder, with its term."""

    elder = models.ForeignKey("registry.Elder", verbose_name=_("老人"), on_delete=models.PROTECT,
                              related_name="doctor_contracts")
    doctor_name = models.CharField(_("签约医生"), max_length=30)
    clinic_name = models.CharField(_("签约机构"), max_length=60)
    signed_on = models.DateField(_("签约日期"))
    valid_until = models.DateField(_("有效期至"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭医生签约")
        verbose_name_plural = _("家庭医生签约")
        ordering = ["-valid_until", "-id"]
        indexes = [models.Index(fields=["elder", "valid_until"], name="contract_elder_valid")]

    def __str__(self):
        return f"{self.elder} · {self.doctor_name}"

    def clean(self):
        if self.signed_on and self.valid_until and self.valid_until < self.signed_on:
            raise ValidationError({"valid_until": _("有效期至不能早于签约日期。")})


def with_health_status(elders, today=None):
    """Annotate Elder rows with `checked_this_year` (yes/no), `contract_valid_until` (or None) and
    `has_valid_contract` (yes/no: `contract_valid_until` is set).

    The one definition of "checked this year" (calendar year of `today`, Asia/Shanghai local date)
    used by the worklist, the coverage figure, the profile panel and the village's yes/no view.
    `has_valid_contract` is for counting: it asks whether a valid contract exists rather than
    which one runs longest (the county's 签约有效 count: no ordered search per elder).
    """
    today = today or timezone.localdate()
    checks = HealthCheck.objects.filter(elder_id=OuterRef("pk"), checked_on__year=today.year)
    valid = FamilyDoctorContract.objects.filter(elder_id=OuterRef("pk")).valid_on(today)
    contract = valid.order_by("-valid_until").values("valid_until")[:1]
    return elders.annotate(checked_this_year=Exists(checks),
                           contract_valid_until=Subquery(contract, output_field=models.DateField()),
                           has_valid_contract=Exists(valid))


def contract_claims_to_verify(elders, today=None):
    """One health truth: the family-doctor status is the contracts' (`with_health_status`). The
    census's 家庭医生签约 = 是 is only a claim; where no valid contract backs it, the clinic must
    verify it (sign the contract, or find the claim wrong): these 在册 elders are its list."""
    return with_health_status(elders.active(), today).filter(family_doctor=True, contract_valid_until__isnull=True)


def health_check_age_reached(birth_date, day) -> bool:
    """The one rule for the 65+ annual health management: it covers the calendar year in which
    someone turns 65 (aged 65 on 31 December of `day`'s year), so the worklist, which lists
    everyone turning 65 this year, and the check form, which accepts them, agree."""
    return birth_date <= _latest_birth_for_check(day.year)


def _latest_birth_for_check(year: int):
    from datetime import date

    return date(year - HEALTH_CHECK_AGE, 12, 31)


# Who stays in the clinic's 65+ health management: 在册 elders, and elders who moved into a care
# home (入住养老机构) — policy 二(五): the clinic provides their chronic-disease management there.
HEALTH_MANAGED_STATUSES = (ElderStatus.ACTIVE, ElderStatus.INSTITUTION)


def health_check_due_elders(elders, today=None):
    """Elders who must get a check this year: 在册 or in a care home (HEALTH_MANAGED_STATUSES),
    reaching 65 this year (health_check_age_reached)."""
    today = today or timezone.localdate()
    return elders.filter(status__in=HEALTH_MANAGED_STATUSES, birth_date__lte=_latest_birth_for_check(today.year))
