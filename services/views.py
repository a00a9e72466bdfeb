"""Pages of the services app: catalogue, pairings, hours ledger, group entry, clinic worklist."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.access import scoped_view
from eldercare.audit import record_access
from eldercare.choices import AccessEventKind, UserRole
from eldercare.idnumbers import mask_phone
from eldercare.models import Area
from eldercare.spreadsheets import Sheet, xlsx_response
from registry.models import Elder, ElderGuardian
from registry.views import search_elders
from services.choices import ServiceRequestSource, ServiceRequestStatus
from services.forms import (
    AssignRequestForm,
    CloseRequestForm,
    DeclineRequestForm,
    GroupServiceForm,
    HealthCheckForm,
)
from services.models import (
    FamilyDoctorContract,
    HealthCheck,
    Pairing,
    ServiceItem,
    ServiceRecord,
    ServiceRequest,
    contract_claims_to_verify,
    health_check_due_elders,
    with_health_status,
)
from services.services import (
    assign_service_request,
    close_service_request,
    decline_service_request,
    matching_items,
    record_health_check,
    requests_from_stated_needs,
    save_service_record,
)

CATALOGUE_ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)
PAIRING_ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)
ENTRY_ROLES = (UserRole.TOWN, UserRole.VILLAGE)
HEALTH_ROLES = (UserRole.CLINIC, UserRole.TOWN, UserRole.COUNTY)
WORKLIST_PAGE = 50


@scoped_view(roles=CATALOGUE_ROLES)
def catalogue(request):
    """The towns' catalogues within reach: published items (town staff also see drafts)."""
    items = ServiceItem.objects.for_user(request.user).select_related("town").prefetch_related("providers")
    if request.user.role != UserRole.TOWN and not request.user.is_superuser:
        items = items.published()
    villages = Area.objects.for_user(request.user).villages().order_by("code")[:60]
    return render(request, "services/catalogue.html", {"items": items, "villages": villages})


@scoped_view(roles=CATALOGUE_ROLES)
def catalogue_print(request, village_code):
    """One printable A4 page of the published catalogue for one village."""
    village = get_object_or_404(Area.objects.for_user(request.user).villages(), code=village_code)
    items = (ServiceItem.objects.for_user(request.user).published().filter(town_id=village.code[:9])
             .prefetch_related("providers"))
    return render(request, "services/catalogue_print.html", {"village": village, "items": items,
                                                             "today": timezone.localdate()})


def _current_pairings(user):
    return (Pairing.objects.for_user(user).current().with_due()
            .select_related("volunteer", "elder", "elder__village").order_by("-is_overdue", "due_on", "id"))


@scoped_view(roles=PAIRING_ROLES)
def pairings(request):
    """Current pairings, overdue first (overdue as defined by PairingQuerySet.with_due)."""
    rows = _current_pairings(request.user)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    overdue = Pairing.objects.for_user(request.user).overdue().count()
    return render(request, "services/pairings.html", {"page": page, "overdue": overdue})


def _export(request, what, filename, sheet):
    """Stream one sheet and record the export (rows counted while writing)."""
    response = xlsx_response(filename, [sheet])
    record_access(user=request.user, kind=AccessEventKind.EXPORT, area_code=request.user.jurisdiction or "",
                  detail={"what": what, "rows": sheet.count})
    return response


@scoped_view(roles=PAIRING_ROLES)
def pairings_export(request):
    """The current pairings as .xlsx, as listed; volunteers' phones masked as on every list."""
    header = [_("村(社区)"), _("老人"), _("志愿者"), _("志愿者电话"), _("开始日期"), _("约定间隔(天)"), _("最近联系"),
              _("应联系日期"), _("已逾期")]
    rows = ([p.elder.village.name, p.elder.name, p.volunteer.name, mask_phone(p.volunteer.phone) if p.volunteer.phone
             else "", p.started_on, p.frequency_days, p.last_contact_on, p.due_on, p.is_overdue]
            for p in _current_pairings(request.user).iterator(chunk_size=2000))
    return _export(request, "services.pairings", f"pairings-{timezone.localdate():%Y%m%d}.xlsx",
                   Sheet(_("结对帮扶"), header, rows))


@scoped_view(roles=PAIRING_ROLES)
def hours_export(request):
    """The volunteer hours ledger (per volunteer per month) as .xlsx."""
    header = [_("月份"), _("志愿者"), _("村(社区)"), _("服务次数"), _("服务时长(小时)")]
    rows = ([f"{row['month']:%Y-%m}", row["volunteer__name"], row["volunteer__village__name"], row["records"],
             round(row["minutes"] / 60, 1)] for row in ServiceRecord.objects.for_user(request.user).hours_ledger())
    return _export(request, "services.hours", f"volunteer-hours-{timezone.localdate():%Y%m%d}.xlsx",
                   Sheet(_("志愿服务时长"), header, rows))


@scoped_view(roles=PAIRING_ROLES)
def hours(request):
    """Volunteer hours per month (time bank), aggregated in the database."""
    rows = list(ServiceRecord.objects.for_user(request.user).hours_ledger()[:500])
    for row in rows:
        row["hours"] = round(row["minutes"] / 60, 1)
    return render(request, "services/hours.html", {"rows": rows})


def _save_attended(elder, data, user) -> ServiceRecord:
    """One attending elder's record of a group entry; a refusal names the elder."""
    record = ServiceRecord(elder=elder, item=data["item"], provider=data["provider"], volunteer=data["volunteer"],
                           served_on=data["served_on"], duration_minutes=data["duration_minutes"], note=data["note"])
    try:
        return save_service_record(record, acting_user=user)
    except ValidationError as error:
        raise ValidationError(_("%(name)s：%(reason)s") % {"name": elder.name, "reason": "；".join(error.messages)}) from None


@scoped_view(roles=ENTRY_ROLES)
def group_entry(request):
    """Quick entry of a group activity: one ServiceRecord per ticked elder, each stored through
    save_service_record (the one write path), all in one transaction."""
    elders = Elder.objects.for_user(request.user).active().select_related("village")
    village_code = request.GET.get("village") or ""
    if request.user.role == UserRole.TOWN:
        villages = Area.objects.for_user(request.user).villages()
        if not village_code:
            return render(request, "services/group_entry_village.html", {"villages": villages})
        village = get_object_or_404(villages, code=village_code)
        elders = elders.filter(village=village)
    form = GroupServiceForm(request.POST or None, user=request.user, elders=elders)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # all or nothing: one elder refused, no record stored
                records = [_save_attended(elder, data, request.user) for elder in data["elders"]]
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已记录 %(n)s 位老人的“%(item)s”服务。") % {"n": len(records),
                                                                           "item": data["item"].name})
            return redirect(request.get_full_path())
    return render(request, "services/group_entry.html", {"form": form})


def _percent(part, whole):
    return round(100 * part / whole, 1) if whole else 0


def _worklist_context(request):
    """Coverage per village and in total, from one grouped query (the total is their sum)."""
    today = timezone.localdate()
    due = health_check_due_elders(Elder.objects.for_user(request.user), today)
    villages = list(with_health_status(due, today).order_by().values("village_id", "village__name")
                    .annotate(eligible=Count("pk"), checked=Count("pk", filter=Q(checked_this_year=True)))
                    .order_by("village_id"))
    for row in villages:
        row["coverage"] = _percent(row["checked"], row["eligible"])
    counts = {"eligible": sum(r["eligible"] for r in villages), "checked": sum(r["checked"] for r in villages)}
    return today, due, counts, _percent(counts["checked"], counts["eligible"]), villages


@scoped_view(roles=HEALTH_ROLES)
def clinic_worklist(request):
    """65+ elders without a check this calendar year, coverage per village, contracts
    expiring/missing; `?q=` finds any due elder (one who walks in) by name, initials, phone tail
    or full ID number, checked or not."""
    today, due, counts, coverage, villages = _worklist_context(request)
    guardians = Prefetch("guardian_links", queryset=ElderGuardian.objects.select_related("guardian"))
    query = request.GET.get("q", "").strip()
    rows = with_health_status(due, today).select_related("village", "care_home").prefetch_related(guardians)
    rows = search_elders(rows, query) if query else rows.filter(checked_this_year=False)
    paginator = Paginator(rows.order_by("village_id", "name", "pk"), WORKLIST_PAGE)
    if not query:
        paginator.count = counts["eligible"] - counts["checked"]  # known from the coverage aggregate
    page = paginator.get_page(request.GET.get("page"))
    expiring = (FamilyDoctorContract.objects.for_user(request.user).expiring(today)
                .select_related("elder", "elder__village").order_by("valid_until")[:100])
    missing = (with_health_status(due, today).filter(contract_valid_until__isnull=True)
               .select_related("village").order_by("village_id", "name")[:100])
    to_verify = (contract_claims_to_verify(Elder.objects.for_user(request.user), today)
                 .select_related("village").order_by("village_id", "name")[:100])
    return render(request, "services/clinic_worklist.html", {
        "page": page, "query": query, "counts": counts, "coverage": coverage, "villages": villages,
        "year": today.year, "expiring": expiring,
        "missing": missing, "to_verify": to_verify, "unchecked_count": counts["eligible"] - counts["checked"],
        "can_record": request.user.role == UserRole.CLINIC or request.user.is_superuser})


@scoped_view(roles=(UserRole.CLINIC,))
def health_check_add(request, elder_pk):
    """Record an elder's annual check (clinic staff); plausibility errors name field and range."""
    elder = get_object_or_404(Elder.objects.for_user(request.user).select_related("village"), pk=elder_pk)
    check = HealthCheck(elder=elder, recorded_by=request.user)
    form = HealthCheckForm(request.POST or None, instance=check,
                           initial={"checked_on": timezone.localdate(), "clinic_name": request.user.area.name + "卫生院"})
    if request.method == "POST" and form.is_valid():
        record_health_check(check=form.instance, acting_user=request.user)
        messages.success(request, _("已保存 %s 的健康体检记录。") % elder.name)
        return redirect("services:clinic_worklist")
    return render(request, "services/health_check_form.html", {"form": form, "elder": elder})


@scoped_view(roles=HEALTH_ROLES)
def health_check_export(request):
    """This year's health checks as .xlsx (clinic, town, county); recorded as an export."""
    today = timezone.localdate()
    checks = (HealthCheck.objects.for_user(request.user).in_year(today.year)
              .select_related("elder", "elder__village").order_by("elder__village_id", "elder__name"))
    header = [_("村"), _("姓名"), _("体检日期"), _("体检机构"), _("收缩压"), _("舒张压"), _("空腹血糖"), _("身高"), _("体重"),
              "BMI", _("体检结论"), _("需要随访")]
    rows = ([c.elder.village.name, c.elder.name, c.checked_on, c.clinic_name, c.systolic, c.diastolic, c.glucose,
             c.height_cm, c.weight_kg, c.bmi, c.summary, _("是") if c.follow_up_needed else _("否")]
            for c in checks.iterator(chunk_size=2000))
    sheet = Sheet(_("健康体检"), header, rows)
    response = xlsx_response(f"health-checks-{today.year}.xlsx", [sheet])
    area = request.user.area.code if request.user.area else ""
    record_access(user=request.user, kind="export", area_code=area,
                  detail={"what": "health_checks", "year": today.year, "rows": sheet.count})
    return response


def worklist_badge(request) -> int:
    """Nav badge for clinic staff: 65+ elders not yet checked this year (one query)."""
    today = timezone.localdate()
    return with_health_status(health_check_due_elders(Elder.objects.for_user(request.user), today), today) \
        .filter(checked_this_year=False).count()


# --- Service requests: 申请服务 and stated needs, matched, assigned and closed ----------------------

REQUEST_READ_ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)


def requests_badge(request) -> int:
    """Menu badge: requests not yet served (待派单 + 已派单) within reach (one query)."""
    return ServiceRequest.objects.for_user(request.user).unresolved().count()


@scoped_view(roles=REQUEST_READ_ROLES)
def service_requests(request):
    """服务申请: open requests per village with their age (oldest first), and the 在册 elders
    whose stated needs have not become a request yet."""
    user = request.user
    rows = (ServiceRequest.objects.for_user(user).unresolved().with_age()
            .select_related("elder", "elder__village", "item", "provider").order_by("elder__village_id", "requested_on", "id"))
    page = Paginator(rows, WORKLIST_PAGE).get_page(request.GET.get("page"))
    per_village = (ServiceRequest.objects.for_user(user).unresolved().with_age()
                   .values("elder__village_id", "elder__village__name")
                   .annotate(count=Count("id"), oldest=Max("age_days")).order_by("-oldest"))
    asked = ServiceRequest.objects.filter(elder=OuterRef("pk"), source=ServiceRequestSource.STATED_NEED)
    stated = (Elder.objects.for_user(user).active().exclude(needs="").annotate(asked=Exists(asked))
              .filter(asked=False).count())
    return render(request, "services/requests.html", {
        "page": page, "per_village": per_village, "stated_without_request": stated,
        "can_act": user.is_superuser or user.role in ENTRY_ROLES})


@scoped_view(roles=ENTRY_ROLES)
def requests_from_needs(request):
    """POST: every stated need (Elder.needs) within reach becomes a request, once."""
    if request.method != "POST":
        raise Http404
    created = requests_from_stated_needs(acting_user=request.user)
    messages.success(request, _("已把 %(n)s 位老人登记的服务需求转为服务申请。") % {"n": created})
    return redirect("services:requests")


@scoped_view(roles=REQUEST_READ_ROLES)
def service_request(request, pk):
    """One request: the items of the catalogue the elder is eligible for, assign (town), close
    with a service record (town, village) or decline (town)."""
    user = request.user
    service_request = get_object_or_404(ServiceRequest.objects.for_user(user).with_age()
                                        .select_related("elder", "elder__village", "item", "provider", "record"), pk=pk)
    items = matching_items(service_request)
    forms_ = {"assign": AssignRequestForm(prefix="assign", items=items,
                                          initial={"item": service_request.item_id,
                                                   "provider": service_request.provider_id}),
              "close": CloseRequestForm(prefix="close"), "decline": DeclineRequestForm(prefix="decline")}
    is_town = user.is_superuser or user.role == UserRole.TOWN
    status = service_request.status
    allowed = {"assign": is_town and status in (ServiceRequestStatus.OPEN, ServiceRequestStatus.ASSIGNED),
               "decline": is_town and status in (ServiceRequestStatus.OPEN, ServiceRequestStatus.ASSIGNED),
               "close": user.role in ENTRY_ROLES or user.is_superuser}
    allowed["close"] = allowed["close"] and status == ServiceRequestStatus.ASSIGNED
    if request.method == "POST":
        action = request.POST.get("action")
        if not allowed.get(action):
            raise Http404
        form = {"assign": lambda: AssignRequestForm(request.POST, prefix="assign", items=items),
                "close": lambda: CloseRequestForm(request.POST, prefix="close"),
                "decline": lambda: DeclineRequestForm(request.POST, prefix="decline")}[action]()
        forms_[action] = form
        if form.is_valid():
            call = {"assign": assign_service_request, "close": close_service_request,
                    "decline": decline_service_request}[action]
            try:
                call(service_request, acting_user=user, **form.cleaned_data)
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            else:
                messages.success(request, {"assign": _("已派单。"), "close": _("已记录服务，这条申请已办结。"),
                                           "decline": _("已记下不予服务的原因。")}[action])
                return redirect("services:request", service_request.pk)
    return render(request, "services/request.html", {
        "req": service_request, "items": items, "forms": forms_, "allowed": allowed})
