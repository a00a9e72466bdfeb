"""The elder register (动态管理数据库) and the guardians' obligations (赡养义务人主体责任)."""

import functools
import unicodedata
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Func, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.audit import tracked
from eldercare.choices import UserRole
from eldercare.idnumbers import IDNumberError, ParsedID, parse_id_number
from eldercare.scoping import ReachingUpQuerySet, ScopedQuerySet
from registry.choices import (
    ContactEventKind,
    DutyFulfilment,
    ElderDifficulty,
    ElderHealth,
    ElderIncomeSource,
    ElderLiving,
    ElderRiskLevel,
    ElderSelfCare,
    ElderSex,
    ElderStatus,
    GuardianDuty,
    GuardianRelation,
    SupervisionMethod,
    SupervisionResult,
)

VERY_OLD_AGE = 80  # 高龄

# The date-independent derived flags, each defined once as a stored generated column.
DISABLED = Q(self_care__in=[ElderSelfCare.PARTIAL, ElderSelfCare.DISABLED])  # 失能 (半失能 or 失能)
ALONE = Q(living=ElderLiving.ALONE)  # 独居
HARDSHIP = (  # 经济困难: 低保, 特困, 脱贫(监测)户, or economic hardship reported as a difficulty
    Q(dibao=True) | Q(tekun=True) | Q(poverty_monitored=True) | Q(difficulties__contains=[ElderDifficulty.ECONOMIC])
)


def age_on(birth_date: date, day: date) -> int:
    """Completed years between `birth_date` and `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def latest_birth_date(age: int, day: date) -> date:
    """The latest birth date of someone `age` or older on `day`: age_on(b, day) >= age exactly when
    b <= this date. It is `day` `age` years earlier; a 29 February in a year without one is the
    28th (born 1 March that year, one is still a year short on the 29th).

    Comparing birth dates with it answers "aged at least `age`" without computing every row's age
    (PostgreSQL's AGE() per elder was a fifth of the register's grouped queries)."""
    try:
        return day.replace(year=day.year - age)
    except ValueError:
        return day.replace(year=day.year - age, day=28)


ELDER_MINIMUM_AGE = 60  # 留守老年人: 60 周岁及以上 on the day of registration


def registration_age_error(birth_date: date, registered_on: date, when: str = "登记时") -> str | None:
    """The one rule for who is an elder: aged 60 or more on the day of registration.

    The message when `birth_date` makes someone younger than that on `registered_on` (None when
    old enough). The page form and the admin (through Elder.clean), the census import and the
    register's rule check (ElderQuerySet.registered_under_age) all use this rule; `when` names
    the day in the message ("调查时" when the survey date counts, "目前" for an undated row).
    """
    age = age_on(birth_date, registered_on)
    if age >= ELDER_MINIMUM_AGE:
        return None
    return (f"按身份证号，{when}年龄为 {age} 岁，未满 {ELDER_MINIMUM_AGE} 周岁，不属于留守老年人关爱对象；"
            "如身份证号录错请改正")


NOT_ASSESSED = "none"  # the risk filter's value for 未评估
# The current-risk filter's choices, highest first (ElderQuerySet.at_risk_level).
RISK_FILTER_CHOICES = [(ElderRiskLevel.HIGH, ElderRiskLevel.HIGH.label), (ElderRiskLevel.MEDIUM, ElderRiskLevel.MEDIUM.label),
                       (ElderRiskLevel.LOW, ElderRiskLevel.LOW.label), (NOT_ASSESSED, _("未评估"))]


class ElderQuerySet(ScopedQuerySet):
    """Elders within reach; `with_flags()` adds the date-dependent flags (age, 高龄, 重点对象)."""

    area_path = "village__code"

    def restrict_role(self, queryset, user):
        # Department officers reach elders only through the relief cases referred to them.
        if user.role == UserRole.DEPARTMENT:
            return queryset.none()
        return queryset

    def with_flags(self, today: date | None = None):
        """Annotate `age`, `is_very_old` (高龄) and `is_key_target` (重点对象) as of `today`.

        This is the one definition of those flags: lists, counts, filters, exports and the
        profile page all read these annotations (the default manager always adds them).
        """
        today = today or timezone.localdate()
        age = Func(
            Func(Value(today, output_field=models.DateField()), F("birth_date"), function="AGE"),
            template="EXTRACT(YEAR FROM %(expressions)s)::integer",
            output_field=models.IntegerField(),
        )
        return self.annotate(age=age).annotate(
            # age >= 80, as a comparison with one date rather than every row's AGE() (exactly the
            # same rows: latest_birth_date), inlined twice per elder in the register's counts.
            is_very_old=ExpressionWrapper(Q(birth_date__lte=latest_birth_date(VERY_OLD_AGE, today)),
                                          output_field=models.BooleanField()),
        ).annotate(
            # 重点对象: the policy's 经济困难家庭的高龄、失能 elders, plus every 失能独居 elder.
            is_key_target=ExpressionWrapper(
                ((Q(is_very_old=True) | Q(is_disabled=True)) & Q(is_hardship=True)) | Q(is_disabled_alone=True),
                output_field=models.BooleanField(),
            ),
        )

    def with_last_contact(self):
        """Annotate `last_contact_on`: the date of the latest guardian contact event (or None)."""
        latest = ContactEvent.objects.filter(elder=models.OuterRef("pk")).order_by("-occurred_on").values(
            "occurred_on")[:1]
        return self.annotate(last_contact_on=models.Subquery(latest, output_field=models.DateField()))

    def no_contact_since(self, day: date):
        """Elders whose last guardian contact is before `day`, or who never had one."""
        return self.with_last_contact().filter(Q(last_contact_on__lt=day) | Q(last_contact_on__isnull=True))

    def with_valid_agreement(self, today: date | None = None):
        """Annotate `has_valid_agreement`: an entrusted-care agreement covers `today`."""
        today = today or timezone.localdate()
        valid = CareAgreement.objects.filter(elder=models.OuterRef("pk")).valid_on(today)
        return self.annotate(has_valid_agreement=models.Exists(valid))

    def disabled_alone_without_agreement(self, today: date | None = None):
        """在册 elders who are 失能独居 and have no valid entrusted-care agreement (an alert)."""
        return self.with_valid_agreement(today).filter(status=ElderStatus.ACTIVE, is_disabled_alone=True,
                                                       has_valid_agreement=False)

    def active(self):
        return self.filter(status=ElderStatus.ACTIVE)

    def registered_under_age(self):
        """Elders younger than 60 on their registration day (the survey date, else the day the row
        was created): rows that break the rule of registration_age_error, kept for the town to
        fix (correct the ID number or change the status), never changed silently."""
        registered_on = models.functions.Coalesce(
            "surveyed_on", models.functions.TruncDate("created_at"), output_field=models.DateField())
        limit = Func(registered_on, template=f"(%(expressions)s - interval '{ELDER_MINIMUM_AGE} years')::date",
                     output_field=models.DateField())
        return self.alias(latest_birth=limit).filter(birth_date__gt=F("latest_birth"))

    def key_targets(self):
        return self.filter(is_key_target=True)

    def at_risk_level(self, level: str):
        """The current-risk filter, defined once for the 老人名册 (?risk=) and the admin's changelist:
        the latest confirmed assessment's level (高/中/低), or NOT_ASSESSED (未评估) when the elder has
        none. Any other value leaves the queryset as it is."""
        if level in ElderRiskLevel.values:
            return self.filter(risk_level=level)
        if level == NOT_ASSESSED:
            return self.filter(risk_level="")
        return self


class CareHomeQuerySet(ReachingUpQuerySet):
    """Care homes serving the user's area: a village's staff see their town's and county's homes
    (a township 敬老院 takes in the whole town), a town's staff also the homes in its villages."""

    def active(self):
        return self.filter(active=True)


@tracked()
class CareHome(models.Model):
    """A care home (养老机构: 敬老院, 区域性养老服务中心, 民办养老院 …) elders may live in.

    The register's own organisation, not the service catalogue's provider: where an elder lives
    is a fact of the register (status 入住养老机构, the home, the move-in date), and the register
    is the layer below the services app (DESIGN.md), so it cannot point at services.Provider. A
    home that also delivers catalogue services is registered as a provider there as well."""

    name = models.CharField(_("名称"), max_length=80)
    area = models.ForeignKey("eldercare.Area", verbose_name=_("所在地"), on_delete=models.PROTECT,
                             related_name="care_homes", help_text=_("机构所在的县、乡镇或村；乡镇敬老院选乡镇"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True, help_text=_("停办的机构不再供选择，已入住的记录保留"))

    objects = CareHomeQuerySet.as_manager()

    class Meta:
        verbose_name = _("养老机构")
        verbose_name_plural = _("养老机构")
        ordering = ["area_id", "name"]
        indexes = [
            # CareHomeQuerySet.for_user: area_id LIKE 'prefix%' OR area_id IN (ancestors)
            models.Index(fields=["area"], name="carehome_area_prefix", opclasses=["text_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="carehome_unique_name_per_area",
                                    violation_error_message=_("该地已登记同名的养老机构。")),
        ]

    def __str__(self):
        return self.name


class ElderManager(models.Manager.from_queryset(ElderQuerySet)):
    def get_queryset(self):
        return super().get_queryset().with_flags()


@tracked()
class Elder(models.Model):
    """One left-behind elder, keyed by the 18-digit resident ID. Never deleted: status changes."""

    # Where and who
    # Indexed by elder_village_prefix and elder_register_order below (equality and prefix): the
    # foreign key's own two indexes would only cost every insert.
    village = models.ForeignKey("eldercare.Area", verbose_name=_("村(社区)"), on_delete=models.PROTECT,
                                related_name="elders", db_index=False)
    village_group = models.CharField(_("村民小组"), max_length=20, blank=True)
    name = models.CharField(_("姓名"), max_length=30)
    name_initials = models.CharField(_("姓名拼音首字母"), max_length=30, blank=True, editable=False)
    id_number = models.CharField(_("公民身份号码"), max_length=18)
    birth_date = models.DateField(_("出生日期"), editable=False)
    sex = models.CharField(_("性别"), max_length=6, choices=ElderSex.choices, editable=False)
    ethnicity = models.CharField(_("民族"), max_length=10, blank=True)
    phones = ArrayField(models.CharField(max_length=20), verbose_name=_("联系电话"), default=list, blank=True)
    address = models.CharField(_("现居住地址"), max_length=200, blank=True)

    # Situation
    living = models.CharField(_("居住情况"), max_length=20, choices=ElderLiving.choices, blank=True)
    health = models.CharField(_("健康状况"), max_length=20, choices=ElderHealth.choices, blank=True)
    self_care = models.CharField(_("自理能力"), max_length=20, choices=ElderSelfCare.choices, blank=True)
    diseases = models.CharField(_("慢性病"), max_length=200, blank=True)
    income_sources = ArrayField(models.CharField(max_length=20, choices=ElderIncomeSource.choices),
                                verbose_name=_("经济来源"), default=list, blank=True)
    monthly_income = models.DecimalField(_("月收入(元)"), max_digits=9, decimal_places=2, null=True, blank=True)
    dibao = models.BooleanField(_("低保"), null=True, blank=True)
    tekun = models.BooleanField(_("特困"), null=True, blank=True)
    poverty_monitored = models.BooleanField(_("脱贫(监测)户"), null=True, blank=True)
    difficulties = ArrayField(models.CharField(max_length=20, choices=ElderDifficulty.choices),
                              verbose_name=_("主要困难"), default=list, blank=True)
    needs = models.CharField(_("服务需求"), max_length=300, blank=True)
    family_doctor = models.BooleanField(_("家庭医生签约"), null=True, blank=True)

    # Who looks after the record
    cadre = models.CharField(_("帮扶责任人"), max_length=30, blank=True)
    responsible_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("巡访责任人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="assigned_elders", db_index=False,  # elder_responsible_worker
    )
    surveyed_by = models.CharField(_("调查人"), max_length=30, blank=True)
    surveyed_on = models.DateField(_("调查日期"), null=True, blank=True)
    # No index: nothing looks elders up by their import (imports are never deleted: the admin
    # and the services keep them), and it cost every imported elder an index entry.
    source_import = models.ForeignKey("registry.CensusImport", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("来源导入"), db_index=False)
    notes = models.CharField(_("备注"), max_length=500, blank=True)

    # Dynamic management
    status = models.CharField(_("状态"), max_length=20, choices=ElderStatus.choices, default=ElderStatus.ACTIVE)
    status_changed_on = models.DateField(_("状态变更日期"), null=True, blank=True)
    # Where an elder of status 入住养老机构 lives; set and cleared by registry.services.change_status
    # only (never by the edit form or the admin's elder form). The move-in date is status_changed_on.
    care_home = models.ForeignKey(CareHome, verbose_name=_("入住养老机构"), null=True, blank=True, editable=False,
                                  on_delete=models.PROTECT, related_name="residents",
                                  db_index=False)  # elder_care_home below
    # The latest confirmed risk assessment's level (written by the relief app); empty until assessed.
    risk_level = models.CharField(_("风险等级"), max_length=10, choices=ElderRiskLevel.choices, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Derived, date-independent flags: stored generated columns, so filters and counts use them.
    is_disabled = models.GeneratedField(expression=DISABLED, output_field=models.BooleanField(),
                                        db_persist=True, verbose_name=_("失能"))
    is_alone = models.GeneratedField(expression=ALONE, output_field=models.BooleanField(),
                                     db_persist=True, verbose_name=_("独居"))
    is_hardship = models.GeneratedField(expression=HARDSHIP, output_field=models.BooleanField(),
                                        db_persist=True, verbose_name=_("经济困难"))
    is_disabled_alone = models.GeneratedField(expression=DISABLED & ALONE, output_field=models.BooleanField(),
                                              db_persist=True, verbose_name=_("失能独居"))

    objects = ElderManager()

    class Meta:
        verbose_name = _("留守老年人")
        verbose_name_plural = _("留守老年人")
        ordering = ["village_id", "village_group", "name"]
        indexes = [
            # ElderQuerySet.for_user: village_id LIKE 'prefix%'
            models.Index(fields=["village", "status"], name="elder_village_prefix",
                         opclasses=["text_pattern_ops", "text_pattern_ops"]),
            # lists in register order: an index scan stops after one page (LIMIT 50), so per-row
            # subqueries (last contact) run for that page only
            models.Index(fields=["village", "village_group", "name", "id"], name="elder_register_order"),
            # changelist search by pinyin initials and by name
            models.Index(fields=["name_initials"], name="elder_initials"),
            models.Index(fields=["name"], name="elder_name"),
            # search by the last 4 digits of a phone number
            GinIndex(fields=["phones"], name="elder_phones"),
            # a worker's elders; most have none assigned (imported rows), which need no entry
            models.Index(fields=["responsible_worker"], name="elder_responsible_worker",
                         condition=Q(responsible_worker__isnull=False)),
            # the 老人名册's care-home filter and PROTECT's check; most elders live at home
            models.Index(fields=["care_home"], name="elder_care_home", condition=Q(care_home__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(care_home__isnull=True) | Q(status=ElderStatus.INSTITUTION),
                                   name="elder_care_home_only_in_institution",
                                   violation_error_message=_("只有状态为“入住养老机构”的老人才登记入住的养老机构。")),
            # A constraint, not unique=True on the field: that would add a second,
            # varchar_pattern_ops index on the number (for LIKE), which no query here uses.
            models.UniqueConstraint(fields=["id_number"], name="registry_elder_id_number_key"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.derive_fields()
        super().save(*args, **kwargs)

    def clean(self):
        try:
            parsed = parse_id_number(self.id_number)
        except IDNumberError as error:
            raise ValidationError({"id_number": str(error)}) from None
        self.id_number = parsed.number
        if self.village_id and self.village.level != "village":
            raise ValidationError({"village": _("请选择一个村(社区)。")})
        self._check_registration_age(parsed)

    def _check_registration_age(self, parsed) -> None:
        """The one rule for who is an elder, on registering and whenever the ID number or the
        survey date changes. A row stored before the rule, edited otherwise, is left as it is:
        the alerts page lists it for the town to fix (ElderQuerySet.registered_under_age)."""
        stored = None
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("id_number", "surveyed_on").first()
        id_changed = stored is None or stored[0] != self.id_number
        if not id_changed and stored[1] == self.surveyed_on:
            return
        if self.surveyed_on:
            registered_on, when = self.surveyed_on, "调查时"
        else:
            registered_on = timezone.localtime(self.created_at).date() if self.created_at else timezone.localdate()
            when = "登记时"
        error = registration_age_error(parsed.birth_date, registered_on, when)
        if error:
            raise ValidationError({"id_number" if id_changed else "surveyed_on": error})

    def derive_fields(self):
        """Fill what the ID number and the name determine: birth date, sex, pinyin initials."""
        for attname, value in fields_from_id(parse_id_number(self.id_number)).items():
            setattr(self, attname, value)
        self.name_initials = name_initials(self.name)

    @property
    def town_code(self) -> str:
        return self.village_id[:9]

    @property
    def off_register_reason(self) -> str:
        """Why nothing new (a visit, a special-situation report) is stored for an elder no longer
        on the register, naming the status; empty while the elder is 在册. The phone's outbox
        hands it back to the worker as the reason an item was refused."""
        reasons = {
            ElderStatus.MOVED: _("该老人已迁出，未保存。"),
            ElderStatus.DECEASED: _("该老人已去世，未保存。"),
            ElderStatus.NOT_LEFT_BEHIND: _("该老人已不属留守老人，未保存。"),
            ElderStatus.INSTITUTION: _("该老人已入住养老机构，未保存。"),
        }
        return "" if self.status == ElderStatus.ACTIVE else str(reasons.get(self.status, _("该老人已不在册，未保存。")))

    @property
    def moved_in_on(self):
        """The day an elder of status 入住养老机构 moved into their home (that status change's date)."""
        return self.status_changed_on if self.status == ElderStatus.INSTITUTION else None


# An ID number registered in a village the user cannot see: refused, and nothing said of where
# (the elder form and the census import say the same).
ID_REGISTERED_ELSEWHERE = _("该身份证号已在其他辖区登记，请联系乡镇民政办")


def fields_from_id(parsed: ParsedID) -> dict:
    """The Elder fields an ID number determines (Elder.derive_fields; the census import's bulk
    writes, which bypass save(), take them from here too)."""
    return {"id_number": parsed.number, "birth_date": parsed.birth_date, "sex": parsed.sex}


def name_initials(name: str) -> str:
    """Pinyin initials of a Chinese name, lower case ('张三丰' → 'zsf'), for search.

    Character by character from a cache when no character's initial depends on its reading (a
    census import derives 200,000 of these). A name with such a character (单 dān/shàn, 曾
    zēng/céng …) is read in context, as pypinyin reads it (_initials_in_words)."""
    initials = []
    for char in name:
        initial = _char_initial(char)
        if initial is None:
            return _initials_in_words(name)
        initials.append(initial)
    return "".join(initials)


@functools.lru_cache(maxsize=65536)  # names repeat (张伟, 王秀英 …): a county census has many twins
def _initials_in_words(name: str) -> str:
    """What `_initials_in_context(name)` gives, word by word: pypinyin cuts the text into words
    with its own segmenter (the phrases it knows, else single characters) and reads each word on
    its own, so the initials of a text are those of its words joined. Cutting is cheap; reading
    (≈100 µs a name) is done once per word — a few hundred distinct words in a county census."""
    return "".join(_initials_in_context(word) for word in _pinyin_reader().seg(name))


@functools.cache
def _pinyin_reader():
    """pypinyin's reader as lazy_pinyin builds it: its `seg` is the cut lazy_pinyin makes."""
    from pypinyin.converter import UltimateConverter
    from pypinyin.core import Pinyin

    return Pinyin(UltimateConverter())


@functools.lru_cache(maxsize=65536)
def _initials_in_context(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


@functools.cache
def _char_initial(char: str) -> str | None:
    """The initial of a character whose readings all start with the same letter (张 zhāng/zhàng
    → 'z'; '' for a non-Chinese character); None when they differ (单 dān/shàn/chán)."""
    from pypinyin.pinyin_dict import pinyin_dict

    readings = pinyin_dict.get(ord(char))
    if readings is not None and len({unicodedata.normalize("NFD", r)[:1] for r in readings.split(",")}) > 1:
        return None
    return _initials_in_context(char)


class ElderRecordQuerySet(ScopedQuerySet):
    """Rows that belong to one elder: scoped through the elder's village.

    Clinic and department officers do not see guardians' obligation records, supervision or
    agreements (health-relevant fields only; relief cases only).
    """

    area_path = "elder__village__code"
    hidden_from_roles = (UserRole.CLINIC, UserRole.DEPARTMENT)

    def restrict_role(self, queryset, user):
        if user.role in self.hidden_from_roles:
            return queryset.none()
        return queryset


class ElderFactQuerySet(ElderRecordQuerySet):
    """Facts clinic staff may also see (status history, guardians' contact)."""

    hidden_from_roles = (UserRole.DEPARTMENT,)


class ElderStatusChange(models.Model):
    """One change of an elder's status (迁出, 死亡 …) with its date and reason; never edited."""

    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(_("原状态"), max_length=20, choices=ElderStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=20, choices=ElderStatus.choices)
    changed_on = models.DateField(_("变更日期"))
    reason = models.CharField(_("原因"), max_length=300)
    care_home = models.ForeignKey(CareHome, verbose_name=_("入住养老机构"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="status_changes",
                                  help_text=_("变更为“入住养老机构”时必选；变更日期即入住日期"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ElderFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["-changed_on", "-created_at"]

    def __str__(self):
        return f"{self.elder} {self.get_from_status_display()} → {self.get_to_status_display()}"


class GuardianQuerySet(ScopedQuerySet):
    area_path = "village__code"

    def restrict_role(self, queryset, user):
        # Clinic staff may reach guardians by phone; departments see guardians only via cases.
        if user.role == UserRole.DEPARTMENT:
            return queryset.none()
        return queryset


@tracked()
class Guardian(models.Model):
    """A supporter (赡养人/扶养人). One person, linked to every elder they support."""

    village = models.ForeignKey("eldercare.Area", verbose_name=_("登记村"), on_delete=models.PROTECT,
                                related_name="guardians", db_index=False)  # guardian_village_prefix below
    name = models.CharField(_("姓名"), max_length=30)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    id_number = models.CharField(_("公民身份号码"), max_length=18, blank=True)
    whereabouts = models.CharField(_("务工地/居住地"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = GuardianQuerySet.as_manager()

    class Meta:
        verbose_name = _("赡养人")
        verbose_name_plural = _("赡养人")
        ordering = ["name"]
        indexes = [
            # GuardianQuerySet.for_user: village_id LIKE 'prefix%'
            models.Index(fields=["village"], name="guardian_village_prefix", opclasses=["text_pattern_ops"]),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.id_number:
            try:
                self.id_number = parse_id_number(self.id_number).number
            except IDNumberError as error:
                raise ValidationError({"id_number": str(error)}) from None


class ElderGuardianQuerySet(ScopedQuerySet):
    area_path = "elder__village__code"

    def restrict_role(self, queryset, user):
        if user.role == UserRole.DEPARTMENT:
            return queryset.none()
        return queryset


@tracked()
class ElderGuardian(models.Model):
    """The link between an elder and one of their guardians, with the relation."""

    # Indexed by elder_guardian_unique (elder, guardian) below.
    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="guardian_links",
                              db_index=False)
    guardian = models.ForeignKey(Guardian, verbose_name=_("赡养人"), on_delete=models.PROTECT,
                                 related_name="elder_links")
    relation = models.CharField(_("与老人关系"), max_length=20, choices=GuardianRelation.choices)
    is_primary = models.BooleanField(_("主要赡养人"), default=False)

    objects = ElderGuardianQuerySet.as_manager()

    class Meta:
        verbose_name = _("赡养关系")
        verbose_name_plural = _("赡养关系")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["elder", "guardian"], name="elder_guardian_unique",
                                    violation_error_message=_("该赡养人已与这位老人关联。")),
            models.UniqueConstraint(fields=["elder"], condition=Q(is_primary=True), name="elder_one_primary_guardian",
                                    violation_error_message=_("每位老人只能有一位主要赡养人。")),
        ]

    def __str__(self):
        return f"{self.guardian} ({self.get_relation_display()}) → {self.elder}"


@tracked()
class ContactEvent(models.Model):
    """A guardian got in touch with the elder (看望 / 电话 / 视频 / 汇款或物资)."""

    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="contact_events")
    guardian = models.ForeignKey(Guardian, verbose_name=_("赡养人"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="contact_events")
    kind = models.CharField(_("方式"), max_length=10, choices=ContactEventKind.choices)
    occurred_on = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ElderFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            # the elder's last contact date (profile, lists, "no contact for 90 days" filter)
            models.Index(fields=["elder", "-occurred_on"], name="contact_elder_latest"),
        ]

    def __str__(self):
        return f"{self.elder} {self.get_kind_display()} {self.occurred_on}"

    def clean(self):
        if self.occurred_on and self.occurred_on > timezone.localdate():
            raise ValidationError({"occurred_on": _("联系日期不能晚于今天。")})


@tracked()
class DutyObservation(models.Model):
    """How a guardian fulfils one of the three duties, as observed by staff on a given day."""

    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="duty_observations")
    guardian = models.ForeignKey(Guardian, verbose_name=_("赡养人"), on_delete=models.PROTECT,
                                 related_name="duty_observations")
    duty = models.CharField(_("义务"), max_length=20, choices=GuardianDuty.choices)
    fulfilment = models.CharField(_("履行情况"), max_length=20, choices=DutyFulfilment.choices)
    observed_on = models.DateField(_("观察日期"))
    observed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("观察人"), on_delete=models.PROTECT,
                                    related_name="+")
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ElderRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("义务履行情况")
        verbose_name_plural = _("义务履行情况")
        ordering = ["-observed_on", "-id"]

    def __str__(self):
        return f"{self.guardian} {self.get_duty_display()}：{self.get_fulfilment_display()}"


@tracked()
class Supervision(models.Model):
    """A supervision (督促) of a guardian who does not fulfil a duty; 拒不履行 becomes a relief case."""

    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="supervisions")
    guardian = models.ForeignKey(Guardian, verbose_name=_("赡养人"), on_delete=models.PROTECT,
                                 related_name="supervisions")
    observation = models.ForeignKey(DutyObservation, verbose_name=_("起因"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="supervisions")
    supervised_on = models.DateField(_("督促日期"))
    method = models.CharField(_("督促方式"), max_length=20, choices=SupervisionMethod.choices)
    guardian_response = models.CharField(_("赡养人表态"), max_length=500, blank=True)
    result = models.CharField(_("结果"), max_length=20, choices=SupervisionResult.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ElderRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("督促记录")
        verbose_name_plural = _("督促记录")
        ordering = ["-supervised_on", "-id"]

    def __str__(self):
        return f"{self.guardian} {self.supervised_on} {self.get_result_display()}"

    @property
    def is_refusal(self) -> bool:
        return self.result == SupervisionResult.REFUSED


AGREEMENT_DOCUMENT_TYPES = ["pdf", "jpg", "jpeg", "png"]


AGREEMENT_EXPIRY_WARNING_DAYS = 30


class CareAgreementQuerySet(ElderRecordQuerySet):
    def valid_on(self, day: date):
        """Agreements in force on `day` (open start or end counts as in force)."""
        return self.filter(Q(start_date__isnull=True) | Q(start_date__lte=day),
                           Q(end_date__isnull=True) | Q(end_date__gte=day))

    def expiring(self, today: date | None = None):
        """Agreements in force today that end within the next 30 days (在册 elders only)."""
        today = today or timezone.localdate()
        return self.valid_on(today).filter(
            end_date__isnull=False, end_date__lte=today + timedelta(days=AGREEMENT_EXPIRY_WARNING_DAYS),
            elder__status=ElderStatus.ACTIVE)


@tracked()
class CareAgreement(models.Model):
    """An entrusted-care agreement (委托照顾协议), filed with the village committee."""

    elder = models.ForeignKey(Elder, verbose_name=_("老人"), on_delete=models.PROTECT, related_name="agreements")
    guardian = models.ForeignKey(Guardian, verbose_name=_("委托人(赡养人)"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="agreements")
    caregiver_name = models.CharField(_("受托人"), max_length=30)
    caregiver_relation = models.CharField(_("受托人与老人关系"), max_length=30, blank=True)
    caregiver_phone = models.CharField(_("受托人电话"), max_length=20, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    filed_on = models.DateField(_("报备日期"), null=True, blank=True)
    document = models.FileField(_("协议扫描件"), upload_to="agreements/%Y/", blank=True,
                                validators=[FileExtensionValidator(AGREEMENT_DOCUMENT_TYPES)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = CareAgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("委托照顾协议")
        verbose_name_plural = _("委托照顾协议")
        ordering = ["-end_date", "-id"]

    def __str__(self):
        return f"{self.elder} ← {self.caregiver_name}"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("结束日期不能早于开始日期。")})
from registry.census.models import *  # noqa: E402,F401,F403
