"""Oversight pages: the town / county dashboard, and the drill-down list behind every figure.

Every figure comes from `oversight.metrics`; every figure links to `metric_rows`, which lists
the same metric's rows for the same area and period, so the list shows exactly that many rows.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eldercare.access import scoped_view
from eldercare.choices import AreaLevel, UserRole
from eldercare.models import Area
from oversight import charts
from oversight.metrics import METRICS, METRICS_LIST, WITHIN, compute, monthly, rows_of, share
from oversight.periods import PERIOD_KINDS, Period, PeriodError, period_from

DASHBOARD_ROLES = (UserRole.TOWN, UserRole.COUNTY)
LIST_ROLES = (UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE)
PAGE_SIZE = 50
CHILD_LEVEL = {AreaLevel.COUNTY: (AreaLevel.TOWN, 9), AreaLevel.TOWN: (AreaLevel.VILLAGE, 12)}

# The dashboard's tiles: (group title, [metric names]); a metric with a denominator shows its share.
TILE_GROUPS = [
    (gettext_lazy("底数（当前在册）"), ["active", "very_old", "disabled", "hardship", "alone", "disabled_alone",
                                "key_target"]),
    (gettext_lazy("风险等级（当前）"), ["risk_high", "risk_medium", "risk_low", "risk_none"]),
    (gettext_lazy("巡访"), ["visits_done", "visits_home", "visited", "on_schedule", "overdue", "never_visited",
                          "home_rule_met"]),
    (gettext_lazy("救助个案"), ["open_reported", "open_returned", "open_accepted", "open_referred", "open_received",
                            "open_in_progress", "cases_overdue", "cases_new", "cases_closed", "cases_closed_late",
                            "cases_accepted"]),
    (gettext_lazy("健康管理（今年）"), ["health_checked", "checks_done", "contract_valid"]),
    (gettext_lazy("协议与赡养人"), ["agreements_expiring", "guardian_refusals"]),
]
# The per-village (per-town) table: the same figures, one row per unit.
TABLE_COLUMNS = ["active", "key_target", "risk_high", "risk_none", "visits_done", "visited", "on_schedule",
                 "overdue", "never_visited", "home_rule_met", "cases_overdue", "cases_new", "health_checked",
                 "contract_valid", "agreements_expiring", "guardian_refusals"]
DEFAULT_SORT = "overdue"  # worst first: the highest share of elders overdue for a visit
TREND_METRICS = ["visits_done", "cases_new", "cases_closed", "checks_done"]


def _period(request) -> Period:
    try:
        return period_from(request.GET)
    except PeriodError as error:
        messages.error(request, str(error))
        return period_from({})


def _area(request) -> Area:
    """The area asked for (`?area=`) if within the user's reach, else the user's own area."""
    areas = Area.objects.for_user(request.user)
    code = request.GET.get("area")
    if code:
        return get_object_or_404(areas, code=code)
    if request.user.area is not None:
        return request.user.area
    county = areas.filter(level=AreaLevel.COUNTY).first()  # a superuser: the first county
    if county is None:
        raise Http404
    return county


def _cell(metric, values, medians, code, link):
    """What one figure shows: the count, its share of the denominator, or a median."""
    count = values.get(metric.name, 0)
    cell = {"metric": metric, "count": count, "link": link, "rate": None, "median": None}
    if metric.denominator:
        cell["denominator"] = values.get(metric.denominator, 0)
        cell["rate"] = share(count, cell["denominator"])
    if metric.is_median:
        median = medians.get(metric.name, {}).get(code)
        cell["median"] = round(median.total_seconds() / 3600, 1) if median is not None else None
    return cell


def _link(metric, area_code, period):
    return f"{reverse('oversight:rows', args=[metric.name])}?area={area_code}&{period.query()}"


def _sort_value(cell):
    """The value a column sorts by: the share for a rate, else the count."""
    return cell["rate"] if cell["metric"].denominator else cell["count"]


@scoped_view(roles=DASHBOARD_ROLES)
def dashboard(request):
    """The landing page of town and county staff: tiles, the per-village (per-town) table and the
    12-month trends for one area and period. A fixed number of queries: one per metric source,
    one per trend, plus the areas."""
    user, period, area = request.user, _period(request), _area(request)
    child_level, unit_length = CHILD_LEVEL.get(area.level, (None, None))
    figures = compute(METRICS_LIST, user, period, area.code, unit_length)
    tiles = [(title, [_cell(METRICS[name], figures.total, figures.medians, "",
                            _link(METRICS[name], area.code, period)) for name in names])
             for title, names in TILE_GROUPS]

    units = []
    if child_level:
        for unit in Area.objects.for_user(user).filter(level=child_level, code__startswith=area.code):
            values = figures.units.get(unit.code, {})
            cells = [_cell(METRICS[name], values, figures.medians, unit.code, _link(METRICS[name], unit.code, period))
                     for name in TABLE_COLUMNS]
            units.append({"area": unit, "cells": cells})
    sort = request.GET.get("sort") if request.GET.get("sort") in TABLE_COLUMNS else DEFAULT_SORT
    descending = request.GET.get("dir", "desc" if METRICS[sort].worse_when_higher else "asc") == "desc"
    column = TABLE_COLUMNS.index(sort)
    present = [u for u in units if _sort_value(u["cells"][column]) is not None]
    missing = [u for u in units if _sort_value(u["cells"][column]) is None]
    units = sorted(present, key=lambda u: _sort_value(u["cells"][column]), reverse=descending) + missing

    overdue_chart = None
    if units:
        overdue_chart = charts.bars(
            _("各%(level)s巡访逾期率(%%)") % {"level": AreaLevel(child_level).label},
            [(u["area"].name, u["cells"][TABLE_COLUMNS.index("overdue")]["rate"]) for u in units], x_max=100)
    months = period.trend_months()
    trends = []
    for name in TREND_METRICS:
        metric = METRICS[name]
        counts = monthly(metric, user, period, area.code)
        points = [{"period": m, "label": f"{m.start.month}月", "count": counts.get(m.start, 0),
                   "link": _link(metric, area.code, m)} for m in months]
        trends.append({"metric": metric, "points": points,
                       "chart": charts.columns(f"{metric.label}（近12个月）", [(p["label"], p["count"]) for p in points])})
    headers = [{"metric": METRICS[name], "sorted": name == sort, "descending": descending,
                "query": f"{period.query()}&area={area.code}&sort={name}"
                         f"&dir={'asc' if name == sort and descending else 'desc'}"} for name in TABLE_COLUMNS]
    return render(request, "oversight/dashboard.html", {
        "area": area, "period": period, "kinds": PERIOD_KINDS, "tiles": tiles, "units": units,
        "headers": headers, "child_level": AreaLevel(child_level).label if child_level else "",
        "overdue_chart": overdue_chart, "trends": trends, "parent": _parent(user, area)})


def _parent(user, area):
    """The area one level up, when the user may open it (a county officer looking at a town)."""
    if area.parent_id and Area.objects.for_user(user).filter(code=area.parent_id).exists():
        return area.parent
    return None


# How the drill-down list reads each kind of row (what to join for its columns).
ROW_RELATED = {
    "elder": ("village",),
    "visit": ("elder", "elder__village", "visitor"),
    "case": ("elder", "village"),
    "check": ("elder", "elder__village"),
    "agreement": ("elder", "elder__village"),
    "supervision": ("elder", "elder__village", "guardian"),
}


@scoped_view(roles=LIST_ROLES)
def metric_rows(request, name):
    """The rows behind one figure, for one area and period: exactly as many as the figure says."""
    metric = METRICS.get(name)
    if metric is None:
        raise Http404
    user, period, area = request.user, _period(request), _area(request)
    rows = rows_of(metric, user, period, area.code).select_related(*ROW_RELATED[metric.source.kind]).order_by(
        metric.source.village, "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "oversight/rows.html", {
        "metric": metric, "area": area, "period": period, "page": page, "kind": metric.source.kind,
        "is_period": metric.semantics == WITHIN,
        "query": f"area={area.code}&{period.query()}"})
