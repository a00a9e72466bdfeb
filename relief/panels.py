"""The elder profile section of the relief app: current risk level with its factors, and the cases."""

from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from registry.panels import ElderPanel
from relief.models import ReliefCase, RiskAssessment

PANEL_CASES = 10


def risk_and_cases(request, elder):
    """Two queries whatever the elder's history: the latest assessment and the latest cases.

    Both read through `.for_user()`, so clinic and department officers get nothing (None), and the
    panel shows case status and outcome only — never a narrative.
    """
    user = request.user
    if not user.is_superuser and user.role not in (UserRole.VILLAGE, UserRole.TOWN, UserRole.COUNTY):
        return None
    assessment = RiskAssessment.objects.for_user(user).filter(elder=elder).first()
    cases = list(ReliefCase.objects.for_user(user).with_clocks().filter(elder=elder)
                 .order_by("-reported_at")[:PANEL_CASES])
    return ElderPanel(title=_("风险等级与救助个案"), template="relief/panel.html", order=40, context={
        "elder": elder, "assessment": assessment, "cases": cases, "show_risk": True,
        "can_assess": user.is_superuser or user.role in (UserRole.VILLAGE, UserRole.TOWN),
    })
