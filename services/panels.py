"""The services section of the elder profile, bounded by role.

Village staff: checked this year yes/no, contract status and the services not yet received —
never medical details. Clinic staff: the health summary. Town/county: both. Departments: nothing.
Fixed query count: at most three queries whatever the elder's history.
"""

from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from registry.models import Elder
from registry.panels import ElderPanel
from services.models import HealthCheck, with_health_status
from services.services import items_not_yet_received

MEDICAL_ROLES = (UserRole.CLINIC, UserRole.TOWN, UserRole.COUNTY)
CATALOGUE_ROLES = (UserRole.VILLAGE, UserRole.TOWN, UserRole.COUNTY)


def elder_services(request, elder):
    """Health status and eligible-but-not-received catalogue items of one elder."""
    user = request.user
    role = None if user.is_superuser else user.role
    if role not in MEDICAL_ROLES + CATALOGUE_ROLES and not user.is_superuser:
        return None
    context = {"show_health": True, "items": None, "latest_check": None}
    # The family-doctor status comes from the contracts only; the census's 家庭医生签约 is a claim,
    # shown as "待核实" when no contract backs it (services.models.contract_claims_to_verify).
    context["elder_health"] = with_health_status(Elder.objects.filter(pk=elder.pk)).values(
        "checked_this_year", "contract_valid_until", "family_doctor").first()
    if role is None or role in MEDICAL_ROLES:
        context["latest_check"] = HealthCheck.objects.for_user(user).filter(elder_id=elder.pk).first()
    if role is None or role in CATALOGUE_ROLES:
        context["items"] = items_not_yet_received(elder)
    return ElderPanel(title=_("关爱服务与健康管理"), template="services/panel.html", context=context, order=60)
