"""The visit timeline on the elder profile page (registry.panels)."""

from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from registry.models import Elder
from registry.panels import ElderPanel
from visits.models import Visit
from visits.schedule import annotate_schedule

PANEL_VISITS = 5


def timeline(request, elder) -> ElderPanel | None:
    """The latest five visits and the next due date; two queries whatever the history holds.
    Clinic and department officers do not see visit records."""
    user = request.user
    if not user.is_superuser and user.role in (UserRole.CLINIC, UserRole.DEPARTMENT):
        return None
    visits = list(Visit.objects.for_user(user).filter(elder=elder).select_related("visitor")[:PANEL_VISITS])
    schedule = annotate_schedule(Elder.objects.filter(pk=elder.pk)).first()
    return ElderPanel(title=_("巡访记录"), template="visits/panel_timeline.html", order=30,
                      context={"visits": visits, "schedule": schedule, "elder": elder})
