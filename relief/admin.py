"""Admin of the relief app: read-only views of cases, referrals and assessments for the town
office and the county (all case steps go through relief.services via the pages), and each
town's response clocks. Field privacy holds here too: a narrative the user may not read is
left out of the form."""

from django.contrib import admin

from eldercare.admin import ScopedAdmin, ScopedInline
from eldercare.choices import UserRole
from relief.models import CaseEvent, ClockPolicy, Referral, ReliefCase, RiskAssessment

OFFICES = (UserRole.TOWN, UserRole.COUNTY)


class OfficeOnlyAdmin(ScopedAdmin):
    """Visible to town and county staff (and maintainers); read-only for everyone."""

    def _office(self, request):
        return request.user.is_superuser or request.user.role in OFFICES

    def has_module_permission(self, request):
        return self._office(request)

    def has_view_permission(self, request, obj=None):
        return self._office(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseEventInline(ScopedInline):
    model = CaseEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "referral"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.role in OFFICES


@admin.register(ReliefCase)
class ReliefCaseAdmin(OfficeOnlyAdmin):
    list_display = ["elder", "case_type", "urgency", "status", "village", "reported_at"]
    list_filter = ["status", "case_type", "urgency"]
    list_select_related = ["elder", "village"]
    search_fields = ["elder__name"]
    date_hierarchy = "reported_at"
    inlines = [CaseEventInline]
    base_fields = ["elder", "village", "case_type", "urgency", "status", "narrative", "outcome", "reported_by",
                   "reported_at", "submitted_at", "accepted_at", "referred_at", "closed_at"]

    def get_fields(self, request, obj=None):
        if obj is not None and not obj.narrative_visible_to(request.user):
            return [f for f in self.base_fields if f != "narrative"]
        return self.base_fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def history_view(self, request, object_id, extra_context=None):
        # The row history carries the narrative's before/after: hidden where the narrative is.
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is not None and not obj.narrative_visible_to(request.user):
            extra_context = {**(extra_context or {}), "can_see_history": False}
        return super().history_view(request, object_id, extra_context)


@admin.register(Referral)
class ReferralAdmin(OfficeOnlyAdmin):
    list_display = ["case", "department", "referred_at", "received_at", "closed_at"]
    list_filter = ["department"]
    list_select_related = ["case__elder", "department"]
    search_fields = ["case__elder__name"]


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(OfficeOnlyAdmin):
    list_display = ["elder", "level", "proposed_level", "score", "version", "confirmed_at", "assessed_by"]
    list_filter = ["level", "version"]
    list_select_related = ["elder", "assessed_by"]
    search_fields = ["elder__name"]


@admin.register(ClockPolicy)
class ClockPolicyAdmin(ScopedAdmin):
    """Town staff set their town's clocks; the county reads them."""

    list_display = ["town", "accept_urgent", "accept_normal", "receipt_urgent", "receipt_normal", "resolve_urgent",
                    "resolve_normal"]

    def has_module_permission(self, request):
        return request.user.is_superuser or request.user.role in OFFICES

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return request.user.is_superuser or request.user.role == UserRole.TOWN

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.role == UserRole.TOWN
