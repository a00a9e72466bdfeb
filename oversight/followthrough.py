"""高风险跟进: the high-risk elders, their last intervention and what is due; the ones with no
intervention inside their interval first (the town's alert, also the menu badge)."""

from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import render

from eldercare.access import scoped_view
from eldercare.choices import UserRole
from oversight.interventions import high_risk_elders, high_risk_without_intervention
from registry.models import Elder

ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)


def without_intervention_badge(request) -> int:
    """Menu badge: 高-risk elders in reach with no intervention inside their interval (one query)."""
    return high_risk_without_intervention(Elder.objects.for_user(request.user)).count()


@scoped_view(roles=ROLES)
def high_risk(request):
    elders = (high_risk_elders(Elder.objects.for_user(request.user)).select_related("village")
              .order_by("intervened", F("next_due").asc(nulls_first=True), "village_id", "name", "pk"))
    page = Paginator(elders, 50).get_page(request.GET.get("page"))
    missing = high_risk_without_intervention(Elder.objects.for_user(request.user)).count()
    return render(request, "oversight/high_risk.html", {"page": page, "missing": missing})
