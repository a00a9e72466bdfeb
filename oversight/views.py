"""Oversight pages: the town / county dashboard, and the drill-down list behind every figure.

Every figure comes from `oversight.metrics`; every figure links to `metric_rows`, which lists
the same metric's rows for the same area and period, so the list shows exactly that many rows.

The read-only pages — dashboard, drill-down lists and their exports, the table export, reports
and their exports, the scorecard pages — are `@reads_from_replica`: with DATABASE_REPLICA_URL
set they read from the streaming replica; their writes (an export's access record, a closed
period's stored report) go to the primary (eldercare/replica.py).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eldercare.access import scoped_view
from eldercare.audit import record_access
from eldercare.choices import AccessEventKind, AreaLevel, UserRole
from eldercare.idnumbers import mask_id_number, mask_phone
from eldercare.models import Area
from eldercare.replica import reads_from_replica
from eldercare.spreadsheets import Sheet, xlsx_response
from oversight import charts, services
from oversight.documents import DOCX_CONTENT_TYPE, circular_document
from oversight.metrics import METRICS, METRICS_LIST, WITHIN, compute, monthly, rows_of, share
from oversight.models import Circular, Rectification, ScorecardVersion
from oversight.periods import PERIOD_KINDS, Period, PeriodError, period_from
from oversight.reports import report_for
from oversight.scorecard import DEFAULT_WEIGHTS, DIMENSIONS, ITEMS, score, scores_of, weights_in_force
from registry.masking import export_masks
from registry.views import FLAG_FILTERS

DASHBOARD_ROLES = (UserRole.TOWN, UserRole.COUNTY)  # reports, exports of the tables, weights
VIEW_ROLES = (UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE)  # the dashboard: a village sees its own
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
    return f"{_rows_url(metric.name)}?area={area_code}&{period.query()}"


def _rows_url(name):
    """The drill-down list's path for metric `name`, reversed once per metric (and script prefix)
    per process: the dashboard links ~300 figures, and reversing each took a tenth of its Python."""
    key = (get_script_prefix(), name)
    if key not in _ROWS_URLS:
        _ROWS_URLS[key] = reverse("oversight:rows", args=[name])
    return _ROWS_URLS[key]


_ROWS_URLS = {}


def _sort_value(cell):
    """The value a column sorts by: the share for a rate, else the count."""
    return cell["rate"] if cell["metric"].denominator else cell["count"]


@scoped_view(roles=VIEW_ROLES)
@reads_from_replica
def dashboard(request):
    """The landing page of town and county staff (and 本村情况 of village staff): tiles, the
    per-village (per-town) table and the 12-month trends for one area and period. A fixed number of queries: one per metric source,
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
        "past": period.on < timezone.localdate(),
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
    "guardian": ("village",),
    "status_change": ("elder", "elder__village"),
    "referral": ("case__elder", "case__village", "department"),
    "pairing": ("elder", "elder__village", "volunteer"),
}


def _metric_rows(request, name):
    metric = METRICS.get(name)
    if metric is None:
        raise Http404
    user, period, area = request.user, _period(request), _area(request)
    rows = rows_of(metric, user, period, area.code).select_related(*ROW_RELATED[metric.source.kind]).order_by(
        metric.source.village, "-pk")
    return metric, period, area, rows


@scoped_view(roles=LIST_ROLES)
@reads_from_replica
def metric_rows(request, name):
    """The rows behind one figure, for one area and period: exactly as many as the figure says."""
    metric, period, area, rows = _metric_rows(request, name)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "oversight/rows.html", {
        "metric": metric, "area": area, "period": period, "page": page, "kind": metric.source.kind,
        "is_period": metric.semantics == WITHIN,
        "query": f"area={area.code}&{period.query()}"})


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _export_rows(kind, rows, *, masked: bool):
    """(header, row iterator) of a drill-down list; identifiers masked by the ledger's rule."""
    if kind == "elder":
        header = [_("村(社区)"), _("村民小组"), _("姓名"), _("性别"), _("年龄"), _("公民身份号码"), _("联系电话"), _("情况")]
        return header, ([e.village.name, e.village_group, e.name, e.get_sex_display(), e.age,
                         mask_id_number(e.id_number) if masked else e.id_number,
                         "、".join(mask_phone(p) if masked else p for p in e.phones), "、".join(label for attr, label in FLAG_FILTERS.values() if getattr(e, attr))]
                        for e in rows)
    if kind == "visit":
        header = [_("巡访时间"), _("村(社区)"), _("老人"), _("方式"), _("结果"), _("巡访人"), _("录入时间")]
        return header, ([_local(v.visited_at), v.elder.village.name, v.elder.name, v.get_method_display(),
                         v.get_outcome_display(), str(v.visitor), _local(v.created_at)] for v in rows)
    if kind == "case":
        header = [_("上报时间"), _("村(社区)"), _("老人"), _("情况类型"), _("状态"), _("受理时间"), _("办结时间"), _("已超时")]
        return header, ([_local(c.reported_at), c.village.name, c.elder.name, c.get_case_type_display(),
                         c.get_status_display(), _local(c.accepted_at), _local(c.closed_at), c.is_overdue]
                        for c in rows)
    if kind == "check":
        header = [_("体检日期"), _("村(社区)"), _("老人"), _("体检机构"), _("需要随访")]
        return header, ([c.checked_on, c.elder.village.name, c.elder.name, c.clinic_name, c.follow_up_needed]
                        for c in rows)
    if kind == "agreement":
        header = [_("村(社区)"), _("老人"), _("受托人"), _("开始日期"), _("结束日期")]
        return header, ([a.elder.village.name, a.elder.name, a.caregiver_name, a.start_date, a.end_date]
                        for a in rows)
    if kind == "supervision":
        header = [_("督促日期"), _("村(社区)"), _("老人"), _("赡养人"), _("方式"), _("结果")]
        return header, ([s.supervised_on, s.elder.village.name, s.elder.name, s.guardian.name, s.get_method_display(),
                         s.get_result_display()] for s in rows)
    if kind == "guardian":
        header = [_("登记村"), _("赡养人"), _("联系电话"), _("务工地/居住地")]
        return header, ([g.village.name, g.name, (mask_phone(g.phone) if masked else g.phone) if g.phone else "",
                         g.whereabouts] for g in rows)
    if kind == "status_change":
        header = [_("变更日期"), _("登记时间"), _("村(社区)"), _("老人"), _("原状态"), _("新状态"), _("原因")]
        return header, ([c.changed_on, _local(c.created_at), c.elder.village.name, c.elder.name,
                         c.get_from_status_display(), c.get_to_status_display(), c.reason] for c in rows)
    if kind == "referral":
        header = [_("转办时间"), _("接收时间"), _("村(社区)"), _("老人"), _("部门")]
        return header, ([_local(r.referred_at), _local(r.received_at), r.case.village.name, r.case.elder.name,
                         r.department.name] for r in rows)
    header = [_("村(社区)"), _("老人"), _("志愿者"), _("开始日期"), _("应联系日期")]
    return header, ([p.elder.village.name, p.elder.name, p.volunteer.name, p.started_on, p.due_on] for p in rows)


def _record_export(request, what, area, period, rows):
    record_access(user=request.user, kind=AccessEventKind.EXPORT, area_code=area.code,
                  detail={"what": what, "on": period.on.isoformat(), "period": period.kind, "rows": rows})


@scoped_view(roles=LIST_ROLES)
@reads_from_replica
def metric_rows_export(request, name):
    """The drill-down list as .xlsx (the same rows); recorded as an export."""
    metric, period, area, rows = _metric_rows(request, name)
    header, lines = _export_rows(metric.source.kind, rows.iterator(chunk_size=2000),
                                 masked=export_masks(request.user))
    sheet = Sheet(str(metric.label), header, lines)
    response = xlsx_response(f"{metric.name}-{area.code}-{period.on:%Y%m%d}.xlsx", [sheet])
    _record_export(request, f"oversight.rows.{metric.name}", area, period, sheet.count)
    return response


@scoped_view(roles=DASHBOARD_ROLES)
@reads_from_replica
def table_export(request):
    """The dashboard's per-village (per-town) table as .xlsx: counts, denominators and shares."""
    user, period, area = request.user, _period(request), _area(request)
    child_level, unit_length = CHILD_LEVEL.get(area.level, (AreaLevel.VILLAGE, 12))
    metrics = [METRICS[name] for name in TABLE_COLUMNS]
    figures = compute(METRICS_LIST, user, period, area.code, unit_length)
    header = [AreaLevel(child_level).label, _("区划代码")]
    for metric in metrics:
        header.append(metric.label)
        if metric.denominator:
            header += [f"{metric.label}·{_('分母')}", f"{metric.label}(%)"]
    units = Area.objects.for_user(user).filter(level=child_level, code__startswith=area.code)

    def lines():
        for name, code, values in [*((u.name, u.code, figures.units.get(u.code, {})) for u in units),
                                   (_("合计"), area.code, figures.total)]:
            line = [name, code]
            for metric in metrics:
                count = values.get(metric.name, 0)
                line.append(count)
                if metric.denominator:
                    line += [values.get(metric.denominator, 0), share(count, values.get(metric.denominator, 0))]
            yield line

    sheet = Sheet(_("各%s情况") % AreaLevel(child_level).label, header, lines())
    response = xlsx_response(f"oversight-{area.code}-{period.on:%Y%m%d}.xlsx", [sheet])
    _record_export(request, "oversight.table", area, period, sheet.count)
    return response


def _report_period(request) -> Period:
    """A report covers a whole period: the one containing `on`, read to its end (or to today)."""
    period = _period(request)
    return Period(period.kind, min(period.end, timezone.localdate()))


@scoped_view(roles=DASHBOARD_ROLES)
@reads_from_replica
def report(request):
    """统计报表: one printable A4 page per report (a town; the county by town)."""
    user, period, area = request.user, _report_period(request), _area(request)
    if area.level == AreaLevel.VILLAGE:
        raise Http404
    return render(request, "oversight/report.html", {
        "report": report_for(user, area, period), "area": area, "period": period, "kinds": PERIOD_KINDS,
        "today": timezone.localdate()})


@scoped_view(roles=DASHBOARD_ROLES)
@reads_from_replica
def report_export(request):
    """The report as .xlsx, one sheet per table (the same stored copy for a closed period)."""
    user, period, area = request.user, _report_period(request), _area(request)
    if area.level == AreaLevel.VILLAGE:
        raise Http404
    data = report_for(user, area, period)
    sheets = [Sheet(table.title[:31], table.header, table.rows) for table in data.tables]
    response = xlsx_response(f"report-{area.code}-{period.kind}-{period.start:%Y%m%d}.xlsx", sheets)
    _record_export(request, "oversight.report", area, period, sum(sheet.count for sheet in sheets))
    return response


# --- Scorecard (督导评分) ----------------------------------------------------------------------

SCORECARD_ROLES = (UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE)


def _scorecard_period(request) -> Period:
    """The chosen period; a quarter unless asked otherwise (supervision is customarily quarterly)."""
    period = _period(request)
    return period if "period" in request.GET else Period("quarter", period.on)


@scoped_view(roles=SCORECARD_ROLES)
@reads_from_replica
def scorecard(request):
    """The four dimensions per village (a town; per town for the county), worst first, each row
    opening what pulls it down. Village staff see their own village's."""
    user, period, area = request.user, _scorecard_period(request), _area(request)
    child_level, unit_length = CHILD_LEVEL.get(area.level, (None, None))
    weights, version = weights_in_force(period)
    overall, by_unit = score(user, period, area.code, unit_length, weights)
    rows = []
    if child_level:
        for unit in Area.objects.for_user(user).filter(level=child_level, code__startswith=area.code):
            rows.append({"area": unit, "scores": by_unit.get(unit.code) or scores_of({}, weights)})
        rows.sort(key=lambda r: (r["scores"]["total"], r["area"].code))
    return render(request, "oversight/scorecard.html", {
        "area": area, "period": period, "kinds": PERIOD_KINDS, "overall": overall, "rows": rows,
        "dimensions": DIMENSIONS, "version": version, "child_level": AreaLevel(child_level).label if child_level else "",
        "shortfalls": _shortfalls(overall, area, period) if not child_level else None})


def _shortfalls(scores, area, period):
    """Items of one area grouped by dimension, each with its shortfall list's link."""
    groups = []
    for key, label, policy in DIMENSIONS:
        items = []
        for item in ITEMS:
            if item.dimension != key:
                continue
            data = scores["items"][item.name]
            items.append({"item": item, **data, "lost": round((100 - data["score"]) * data["weight"] / 100, 1),
                          "link": _link(METRICS[item.miss], area.code, period),
                          "miss_label": METRICS[item.miss].label})
        groups.append({"key": key, "label": label, "policy": policy, "score": scores["dimensions"][key],
                       "items": items})
    return groups


@scoped_view(roles=SCORECARD_ROLES)
@reads_from_replica
def scorecard_area(request, code):
    """What pulls one village (or town) down: every item, its rate against the target, the points
    lost, and the list of rows that miss it (its count is the shortfall)."""
    user, period = request.user, _scorecard_period(request)
    area = get_object_or_404(Area.objects.for_user(user), code=code)
    weights, version = weights_in_force(period)
    overall, _units = score(user, period, area.code, None, weights)
    return render(request, "oversight/scorecard.html", {
        "area": area, "period": period, "kinds": PERIOD_KINDS, "overall": overall, "rows": [],
        "dimensions": DIMENSIONS, "version": version, "shortfalls": _shortfalls(overall, area, period),
        "single": True})


@scoped_view(roles=DASHBOARD_ROLES)
@reads_from_replica
def scorecard_versions(request):
    """The weights and targets, every version with the date it applies from (read-only here)."""
    versions = list(ScorecardVersion.objects.for_user(request.user))
    return render(request, "oversight/scorecard_versions.html", {
        "versions": versions, "items": ITEMS, "dimensions": dict((k, v) for k, v, _p in DIMENSIONS),
        "default": DEFAULT_WEIGHTS})


# --- Circulars (通报) -------------------------------------------------------------------------

CIRCULAR_ROLES = (UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE)


@scoped_view(roles=CIRCULAR_ROLES)
def circulars(request):
    """The circulars within reach (a village: the issued ones naming it); town staff draft one
    for a period from the scores as they stand."""
    user = request.user
    period = _scorecard_period(request)
    if request.method == "POST":
        if user.role != UserRole.TOWN or user.area is None:
            raise Http404
        period = _period_from_post(request)
        circular = services.draft_circular(user.area, period, acting_user=user)
        messages.success(request, _("已生成通报草稿，请填写工作要求后印发。"))
        return redirect("oversight:circular", circular.pk)
    rows = Circular.objects.for_user(user).select_related("town")
    return render(request, "oversight/circulars.html", {"circulars": rows, "period": period, "kinds": PERIOD_KINDS,
                                                         "can_draft": user.role == UserRole.TOWN})


def _period_from_post(request) -> Period:
    try:
        period = period_from(request.POST)
    except PeriodError as error:
        messages.error(request, str(error))
        period = period_from({})
    return Period(period.kind, min(period.end, timezone.localdate()))


def _circular_context(request, circular, form=None):
    user = request.user
    content = circular.scores
    names = {v["code"]: v for v in content.get("villages", [])}
    rectifications = list(Rectification.objects.for_user(user).filter(circular=circular).select_related(
        "village", "submitted_by", "accepted_by"))
    mine = user.role == UserRole.VILLAGE and circular.named.filter(village_id=user.area_id, below_target=True).exists()
    return {"circular": circular, "content": content, "dimensions": DIMENSIONS,
            "below": [names[c] for c in content.get("below", []) if c in names],
            "improved": [names[c] for c in content.get("improved", []) if c in names],
            "rectifications": rectifications, "can_edit": user.role == UserRole.TOWN and not circular.is_issued,
            "can_accept": user.role == UserRole.TOWN, "can_rectify": mine and circular.is_issued,
            "form": form}


@scoped_view(roles=CIRCULAR_ROLES)
def circular(request, pk):
    """One circular: printable on A4; town staff edit the text and issue it; a village named below
    target answers with its rectification; town staff accept it."""
    user = request.user
    item = get_object_or_404(Circular.objects.for_user(user).select_related("town", "created_by", "issued_by"), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "text" and user.role == UserRole.TOWN:
                services.update_circular_text(item, text=request.POST.get("text", ""), acting_user=user)
                messages.success(request, _("工作要求已保存。"))
            elif action == "issue" and user.role == UserRole.TOWN:
                services.issue_circular(item, acting_user=user)
                messages.success(request, _("通报已印发，被点名的村可以看到。"))
            elif action == "rectify" and user.role == UserRole.VILLAGE:
                services.submit_rectification(item, note=request.POST.get("note", ""), acting_user=user)
                messages.success(request, _("整改情况已报送乡镇。"))
            elif action == "accept" and user.role == UserRole.TOWN:
                rectification = get_object_or_404(Rectification.objects.for_user(user), pk=request.POST.get("id"),
                                                   circular=item)
                services.accept_rectification(rectification, acting_user=user)
                messages.success(request, _("已确认整改情况。"))
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("oversight:circular", item.pk)
    return render(request, "oversight/circular.html", _circular_context(request, item))


@scoped_view(roles=CIRCULAR_ROLES)
def circular_docx(request, pk):
    """The circular as a Word document (python-docx), the same content as the printed page."""
    item = get_object_or_404(Circular.objects.for_user(request.user).select_related("town"), pk=pk)
    response = HttpResponse(circular_document(item), content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="circular-{item.town_id}-{item.start:%Y%m%d}-{item.number}.docx"'
    record_access(user=request.user, kind=AccessEventKind.EXPORT, area_code=item.town_id, obj=item,
                  detail={"what": "oversight.circular", "status": item.status})
    return response
