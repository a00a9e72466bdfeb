"""The village's own figures on the home page of village staff (the `home_panels` hook)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from eldercare.panels import Panel
from oversight.metrics import METRICS, compute, share
from oversight.periods import period_from

VILLAGE_FIGURES = ["active", "key_target", "visits_done", "visited", "overdue", "never_visited", "home_rule_met",
                   "cases_overdue", "health_checked", "agreements_expiring"]


def village_figures(request) -> Panel | None:
    """This month's figures of the user's village, each a link to its list; village staff only.
    Their 今日待访 stays the first button of the page (this panel comes after the menu)."""
    user = request.user
    if user.role != UserRole.VILLAGE or user.area is None:
        return None
    period = period_from({})
    metrics = [METRICS[name] for name in VILLAGE_FIGURES]
    denominators = {METRICS[m.denominator] for m in metrics if m.denominator} - set(metrics)
    figures = compute([*metrics, *denominators], user, period, user.area.code, None).total
    items = []
    for metric in metrics:
        count = figures.get(metric.name, 0)
        denominator = figures.get(metric.denominator, 0) if metric.denominator else None
        items.append({"label": metric.label, "count": count, "denominator": denominator,
                      "rate": share(count, denominator) if metric.denominator else None,
                      "link": f"{reverse('oversight:rows', args=[metric.name])}?area={user.area.code}&{period.query()}"})
    return Panel(title=_("本村情况（%(label)s）") % {"label": period.label}, template="oversight/village_panel.html",
                 context={"items": items})
