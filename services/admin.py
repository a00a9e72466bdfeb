"""Admin of the services app; every page scoped through `ScopedAdmin` (HealthCheck rows are
invisible to village and department staff through HealthCheckQuerySet.restrict_role)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from eldercare.admin import ScopedAdmin
from services import services
from services.models import (
    FamilyDoctorContract,
    HealthCheck,
    Pairing,
    Provider,
    ServiceItem,
    ServiceRecord,
    Volunteer,
)


@admin.register(Provider)
class ProviderAdmin(ScopedAdmin):
    list_display = ["name", "kind", "area", "contact_person", "phone", "purchase_qualified", "active"]
    list_filter = ["kind", "purchase_qualified", "active"]
    search_fields = ["name"]
    list_select_related = ["area"]


@admin.register(ServiceItem)
class ServiceItemAdmin(ScopedAdmin):
    list_display = ["name", "category", "town", "fee", "published"]
    list_filter = ["category", "fee", "published"]
    search_fields = ["name"]
    filter_horizontal = ["providers"]
    list_select_related = ["town"]


@admin.register(Volunteer)
class VolunteerAdmin(ScopedAdmin):
    list_display = ["name", "phone", "provider", "village", "active"]
    search_fields = ["name"]
    list_select_related = ["provider", "village"]


@admin.register(Pairing)
class PairingAdmin(ScopedAdmin):
    list_display = ["volunteer", "elder", "started_on", "ended_on", "frequency_days"]
    search_fields = ["elder__name", "volunteer__name"]
    raw_id_fields = ["elder"]
    list_select_related = ["volunteer", "elder"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ScopedAdmin):
    list_display = ["elder", "item", "served_on", "duration_minutes", "volunteer", "provider"]
    search_fields = ["elder__name"]
    raw_id_fields = ["elder"]
    readonly_fields = ["recorded_by"]
    recorded_by_field = "recorded_by"
    list_select_related = ["elder", "item", "volunteer", "provider"]

    def write(self, request, obj, form, change):
        services.save_service_record(obj, acting_user=request.user)


@admin.register(HealthCheck)
class HealthCheckAdmin(ScopedAdmin):
    list_display = ["elder", "checked_on", "clinic_name", "systolic", "diastolic", "glucose", "follow_up_needed"]
    list_filter = ["follow_up_needed"]
    search_fields = ["elder__name"]
    raw_id_fields = ["elder"]
    readonly_fields = ["recorded_by", "bmi_display"]
    recorded_by_field = "recorded_by"
    list_select_related = ["elder"]

    def write(self, request, obj, form, change):
        services.record_health_check(check=obj, acting_user=request.user)

    @admin.display(description=_("体重指数(BMI)"))
    def bmi_display(self, obj):
        return obj.bmi if obj.bmi is not None else "—"


@admin.register(FamilyDoctorContract)
class FamilyDoctorContractAdmin(ScopedAdmin):
    list_display = ["elder", "doctor_name", "clinic_name", "signed_on", "valid_until"]
    search_fields = ["elder__name", "doctor_name"]
    raw_id_fields = ["elder"]
    readonly_fields = ["recorded_by"]
    recorded_by_field = "recorded_by"
    list_select_related = ["elder"]
