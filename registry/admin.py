"""The register in the admin (town and county desks): scoped, masked lists, no hard delete."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from eldercare.admin import ScopedAdmin, ScopedInline
from eldercare.audit import record_access
from registry import services
from registry.choices import ElderStatus
from registry.forms import ElderForm
from registry.masking import is_clinic, mask_id_number, masked_phones
from registry.models import (
    RISK_FILTER_CHOICES,
    CareAgreement,
    CareHome,
    ContactEvent,
    DutyObservation,
    Elder,
    ElderGuardian,
    ElderStatusChange,
    Guardian,
    Supervision,
)
from registry.views import NO_CONTACT_DAYS, search_elders


class StatusFilter(admin.SimpleListFilter):
    """Status, 在册 by default (lists show the current register unless asked otherwise)."""

    title = _("状态")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ElderStatus.choices, ("all", _("全部"))]

    def value(self):
        return super().value() or ElderStatus.ACTIVE

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(status=self.value())


def flag_filter(field: str, label):
    """A yes/no list filter on one derived flag (generated column or with_flags() annotation)."""

    class FlagFilter(admin.SimpleListFilter):
        title = label
        parameter_name = field

        def lookups(self, request, model_admin):
            return [("1", _("是")), ("0", _("否"))]

        def queryset(self, request, queryset):
            if self.value() in ("1", "0"):
                return queryset.filter(**{field: self.value() == "1"})
            return queryset

    FlagFilter.__name__ = f"{field}_filter"
    return FlagFilter


class NoRecentContactFilter(admin.SimpleListFilter):
    title = _("亲属联系")
    parameter_name = "no_contact"

    def lookups(self, request, model_admin):
        return [("90", _("超过90天未联系"))]

    def queryset(self, request, queryset):
        if self.value() == "90":
            day = timezone.localdate() - timedelta(days=NO_CONTACT_DAYS)
            return queryset.filter(Q(last_contact_on__lt=day) | Q(last_contact_on__isnull=True))
        return queryset


class RiskLevelFilter(admin.SimpleListFilter):
    """当前风险: the 老人名册's risk filter (ElderQuerySet.at_risk_level, the one definition)."""

    title = _("当前风险等级")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return RISK_FILTER_CHOICES

    def queryset(self, request, queryset):
        return queryset.at_risk_level(self.value() or "")


class ElderGuardianInline(ScopedInline):
    """The elder's guardians; saved through registry.services (link_guardian / update_guardian_link)."""

    model = ElderGuardian
    fields = ["guardian", "relation", "is_primary"]
    autocomplete_fields = ["guardian"]


def save_guardian_links(request, elder, formset):
    """The inline's rows through the register's write path: new links are linked, changed ones
    updated (a linked guardian is not swapped for another: add the other instead)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        if not form.has_changed() or not form.cleaned_data or form.cleaned_data.get("DELETE"):
            continue
        link = form.instance
        data = form.cleaned_data
        if link.pk is None:
            formset.new_objects.append(services.link_guardian(
                elder, guardian=data["guardian"], relation=data["relation"], is_primary=data["is_primary"],
                acting_user=request.user))
        elif "guardian" in form.changed_data:
            raise ValidationError(_("已关联的赡养人不能更换为另一个人；请另行添加这位赡养人。"))
        else:
            services.update_guardian_link(link, relation=data["relation"], is_primary=data["is_primary"],
                                          acting_user=request.user)
            formset.changed_objects.append((link, form.changed_data))


FLAG_LABELS = (("is_disabled_alone", _("失能独居")), ("is_key_target", _("重点对象")), ("is_very_old", _("高龄")),
               ("is_disabled", _("失能")), ("is_alone", _("独居")), ("is_hardship", _("经济困难")))


@admin.action(description=_("显示完整身份证号和电话（仅限选中的一位，会被记录）"))
def reveal_identifiers(modeladmin, request, queryset):
    elders = list(queryset[:2])
    if len(elders) != 1:
        modeladmin.message_user(request, _("请只选择一位老人。"), messages.WARNING)
        return None
    elder = elders[0]
    record_access(user=request.user, kind="reveal", obj=elder, area_code=elder.village_id, field="id_number,phones")
    modeladmin.message_user(request, format_html("{}：{} {}", elder.name, elder.id_number, "、".join(elder.phones)),
                            messages.INFO)
    return None


@admin.register(Elder)
class ElderAdmin(ScopedAdmin):
    list_display = ["name", "village", "village_group", "sex", "age_display", "masked_id", "masked_phone",
                    "flags", "last_contact", "status", "residence"]
    list_display_links = ["name"]
    list_filter = ["village", StatusFilter, flag_filter("is_disabled_alone", _("失能独居")),
                   flag_filter("is_key_target", _("重点对象")), flag_filter("is_very_old", _("高龄")),
                   flag_filter("is_disabled", _("失能")), flag_filter("is_alone", _("独居")),
                   flag_filter("is_hardship", _("经济困难")), RiskLevelFilter, NoRecentContactFilter]
    list_select_related = ["village", "care_home"]
    search_fields = ["name"]
    search_help_text = _("姓名、拼音首字母、电话后4位，或完整的18位身份证号")
    # The status and the home change through 状态变更 (registry.services.change_status) only.
    readonly_fields = ["birth_date", "sex", "status", "status_changed_on", "residence", "risk_level"]
    exclude = ["responsible_worker"]
    # Facts clinic staff may not see (经济困难, and 重点对象, which is defined from it).
    economic_fields = ["income_sources", "monthly_income", "dibao", "tekun", "poverty_monitored", "difficulties"]
    economic_flags = ["is_hardship", "is_key_target"]
    inlines = [ElderGuardianInline]
    actions = [reveal_identifiers]
    ordering = ["village_id", "village_group", "name", "id"]
    change_list_template = "admin/registry/elder/change_list.html"
    form = ElderForm  # the page's form: the same checks and the same words (an ID registered elsewhere …)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class UserElderForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return UserElderForm

    def write(self, request, obj, form, change):
        services.save_elder(obj, acting_user=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is ElderGuardian:
            save_guardian_links(request, form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def get_queryset(self, request):
        return super().get_queryset(request).with_last_contact()

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_clinic(request.user):
            filters = [f for f in filters if getattr(f, "parameter_name", None) not in self.economic_flags]
        return filters

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if obj is not None:
            exclude.append("id_number")  # shown masked; the full number only through the recorded reveal
        if is_clinic(request.user):
            exclude += self.economic_fields
        return exclude

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return ["masked_id", *fields] if obj is not None else fields

    def get_search_results(self, request, queryset, search_term):
        # Exact ID only: the default icontains would let a partial number probe the register.
        return search_elders(queryset, search_term), False

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.export_view), name="registry_elder_export"),
                *super().get_urls()]

    def export_view(self, request):
        from registry.ledger import export_response

        return export_response(self, request)

    @admin.display(description=_("年龄"), ordering="birth_date")
    def age_display(self, obj):
        return obj.age

    @admin.display(description=_("电话"))
    def masked_phone(self, obj):
        return masked_phones(obj.phones)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [("health_flags" if name == "flags" else name) for name in shown] if is_clinic(request.user) else shown

    @admin.display(description=_("标记"))
    def flags(self, obj):
        return "、".join(str(label) for flag, label in FLAG_LABELS if getattr(obj, flag))

    @admin.display(description=_("标记"))
    def health_flags(self, obj):
        return "、".join(str(label) for flag, label in FLAG_LABELS
                        if getattr(obj, flag) and flag not in self.economic_flags)

    @admin.display(description=_("公民身份号码"))
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("入住养老机构"))
    def residence(self, obj):
        if obj.status != ElderStatus.INSTITUTION:
            return "—"
        home = obj.care_home.name if obj.care_home_id else _("未登记机构")
        return format_html("{}（{} {}）", home, obj.moved_in_on or "—", _("入住"))

    @admin.display(description=_("最近亲属联系"), ordering="last_contact_on")
    def last_contact(self, obj):
        return obj.last_contact_on or "—"

    def view_on_site(self, obj):
        return reverse("registry:elder", args=[obj.pk])


@admin.register(Guardian)
class GuardianAdmin(ScopedAdmin):
    list_display = ["name", "village", "masked_phone", "whereabouts"]
    list_filter = ["village"]
    list_select_related = ["village"]
    search_fields = ["name"]

    def write(self, request, obj, form, change):
        services.save_guardian(obj, acting_user=request.user)

    @admin.display(description=_("电话"))
    def masked_phone(self, obj):
        return masked_phones([obj.phone] if obj.phone else [])

    def get_exclude(self, request, obj=None):
        # The ID number of a registered guardian is shown masked, like the elder's.
        return [*(super().get_exclude(request, obj) or []), *(["id_number"] if obj is not None else [])]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return ["masked_id", *fields] if obj is not None else fields

    @admin.display(description=_("公民身份号码"))
    def masked_id(self, obj):
        return mask_id_number(obj.id_number) if obj.id_number else "—"


class ElderRecordAdmin(ScopedAdmin):
    """Records hanging off an elder: elder chosen by autocomplete, listed with the elder."""

    autocomplete_fields = ["elder"]
    list_select_related = ["elder"]
    search_fields = ["elder__name"]


@admin.register(ContactEvent)
class ContactEventAdmin(ElderRecordAdmin):
    list_display = ["elder", "guardian", "kind", "occurred_on"]
    list_filter = ["kind"]
    list_select_related = ["elder", "guardian"]
    autocomplete_fields = ["elder", "guardian"]
    readonly_fields = ["recorded_by"]
    recorded_by_field = "recorded_by"

    def write(self, request, obj, form, change):
        services.save_contact_event(obj, acting_user=request.user)


@admin.register(CareAgreement)
class CareAgreementAdmin(ElderRecordAdmin):
    list_display = ["elder", "caregiver_name", "start_date", "end_date", "filed_on"]
    list_select_related = ["elder"]
    autocomplete_fields = ["elder", "guardian"]
    readonly_fields = ["document", "created_by"]  # uploads go through the checked form on the elder page

    def write(self, request, obj, form, change):
        services.save_care_agreement(obj, acting_user=request.user)


@admin.register(Supervision)
class SupervisionAdmin(ElderRecordAdmin):
    list_display = ["elder", "guardian", "supervised_on", "method", "result"]
    list_filter = ["result", "method"]
    list_select_related = ["elder", "guardian"]

    def has_add_permission(self, request):
        return False  # recorded on the elder page, through the service

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DutyObservation)
class DutyObservationAdmin(ElderRecordAdmin):
    list_display = ["elder", "guardian", "duty", "fulfilment", "observed_on"]
    list_filter = ["duty", "fulfilment"]
    list_select_related = ["elder", "guardian"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ElderStatusChange)
class ElderStatusChangeAdmin(ElderRecordAdmin):
    """Status changes: added through registry.services.change_status (the page's rules: the
    transition map, the date, 入住养老机构's home within reach), never edited."""

    list_display = ["elder", "from_status", "to_status", "care_home", "changed_on", "changed_by"]
    list_filter = ["to_status"]
    list_select_related = ["elder", "changed_by", "care_home"]
    autocomplete_fields = ["elder"]
    fields = ["elder", "to_status", "care_home", "changed_on", "reason"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "care_home" and formfield is not None:
            formfield.queryset = formfield.queryset.filter(active=True)
        return formfield

    def write(self, request, obj, form, change):
        stored = services.change_status(obj.elder, to_status=obj.to_status, changed_on=obj.changed_on,
                                        reason=obj.reason, care_home=obj.care_home, acting_user=request.user)
        obj.pk, obj.from_status, obj.changed_by = stored.pk, stored.from_status, stored.changed_by
        obj._state.adding = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CareHome)
class CareHomeAdmin(ScopedAdmin):
    """养老机构: registered by the town (its own and its villages' homes) and the county; village
    staff see the homes serving them, to choose one on 变更状态."""

    list_display = ["name", "area", "phone", "active"]
    list_filter = ["active"]
    list_select_related = ["area"]
    search_fields = ["name"]

    def write(self, request, obj, form, change):
        services.save_care_home(obj, acting_user=request.user)
