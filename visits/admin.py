"""Admin pages of patrol visits: read-mostly (visits are recorded and corrected on the field
pages, where the 48-hour rule and idempotency apply)."""

from django.contrib import admin

from eldercare.admin import ScopedAdmin
from visits.models import UrgentVisitRequest, Visit, VisitPolicy


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    list_display = ["elder", "visited_at", "method", "outcome", "visitor"]
    list_filter = ["method", "outcome", "report_to_town"]
    list_select_related = ["elder", "visitor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # corrections go through the visit page (48-hour rule)


@admin.register(VisitPolicy)
class VisitPolicyAdmin(ScopedAdmin):
    list_display = ["town", "high_days", "medium_days", "low_days", "key_target_max_days", "home_visit_days"]
    list_select_related = ["town"]

    def has_add_permission(self, request):
        return False  # created on the policy page, for the staff member's own town


@admin.register(UrgentVisitRequest)
class UrgentVisitRequestAdmin(ScopedAdmin):
    list_display = ["elder", "reason", "requested_at", "due_by", "fulfilled_by"]
    list_select_related = ["elder", "fulfilled_by"]
    search_fields = ["elder__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
