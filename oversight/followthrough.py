"""高风险跟进: the high-risk elders, their last intervention and what is due; the ones with no
intervention inside their interval first (the town's alert, also the menu badge)."""

from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from eldercare.access import scoped_view
from eldercare.choices import UserRole
from eldercare.panels import Panel
from oversight.interventions import high_risk_elders, high_risk_without_intervention
from registry.models import Elder

ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)


def without_intervention_badge(request) -> int:
    """Menu badge: 高-risk elders in reach with no intervention inside their interval (one query)."""
    return high_risk_without_intervention(Elder.objects.for_user(request.user)).count()


ALERT_ROWS = 200  # as the 提醒 page's other sections


def high_risk_alert(request):
    """The 提醒 page's section (registry:alerts, `alerts_panels`): 高-risk elders in reach with no
    intervention inside their interval — high_risk_without_intervention, the badge's rows — most
    overdue first. Two queries whatever the rows (the list, its count)."""
    user = request.user
    if not (user.is_superuser or user.role in ROLES):
        return None
    without = high_risk_without_intervention(Elder.objects.for_user(user))
    elders = list(without.select_related("village")
                  .order_by(F("next_due").asc(nulls_first=True), "village_id", "name", "pk")[:ALERT_ROWS])
    total = len(elders) if len(elders) < ALERT_ROWS else without.count()
    return Panel(title=_("高风险且巡访周期内无干预"), template="oversight/alerts_high_risk.html",
                 context={"elders": elders, "total": total}, order=10)


@scoped_view(roles=ROLES)
def high_risk(request):
    elders = (high_risk_elders(Elder.objects.for_user(request.user)).select_related("village")
              .order_by("intervened", F("next_due").asc(nulls_first=True), "village_id", "name", "pk"))
    page = Paginator(elders, 50).get_page(request.GET.get("page"))
    missing = high_risk_without_intervention(Elder.objects.for_user(request.user)).count()
    return render(request, "oversight/high_risk.html", {"page": page, "missing": missing})
