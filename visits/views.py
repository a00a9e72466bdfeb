"""Field pages of patrol visits: 今日待访, the visit form, the visit and timeline pages, and the
town's overview, policy and reassignment pages. Every view is scoped (eldercare.access)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare import outbox
from eldercare.access import scoped_view
from eldercare.audit import record_access
from eldercare.choices import AccessEventKind, AreaLevel, UserRole
from eldercare.models import Area, User
from eldercare.replica import reads_from_replica
from registry.models import Elder
from visits.choices import DueBucket, FamilyNoticeStatus
from visits.forms import FamilyEscalationForm, FamilyResponseForm, ReassignForm, VisitForm, VisitPolicyForm
from visits.models import FamilyNotice, Visit, VisitPolicy
from visits.schedule import annotate_schedule, due_within_week, schedule_counts
from visits.services import (
    escalate_family_notice,
    reassign_elders,
    record_family_response,
    record_visit,
    save_policy,
    update_visit,
)

FIELD_ROLES = [UserRole.VILLAGE, UserRole.TOWN]
READ_ROLES = [UserRole.VILLAGE, UserRole.TOWN, UserRole.COUNTY]
WORKLIST_PAGE = 100
TIMELINE_PAGE = 20


def due_badge(request) -> int:
    """Nav badge: elders in the user's reach who are overdue or due today (one query)."""
    scheduled = annotate_schedule(Elder.objects.for_user(request.user))
    return scheduled.filter(due_bucket__in=[DueBucket.OVERDUE, DueBucket.TODAY]).count()


@scoped_view(roles=FIELD_ROLES)
def today(request):
    """今日待访: overdue first, then due today, then due this week; the user's own elders first
    within each group."""
    mine_first = Case(When(responsible_worker_id=request.user.pk, then=Value(0)), default=Value(1))
    scheduled = due_within_week(annotate_schedule(Elder.objects.for_user(request.user)))
    rows = (scheduled.select_related("village")
            .annotate(mine_first=mine_first)
            .order_by("due_bucket", "mine_first", "next_due", "village_id", "name", "pk"))
    page = Paginator(rows, WORKLIST_PAGE).get_page(request.GET.get("page"))
    for elder in page:
        elder.is_mine = elder.responsible_worker_id == request.user.pk
    return render(request, "visits/today.html", {"page": page, "buckets": DueBucket, "today": timezone.localdate()})


def _elder_or_404(request, pk):
    return get_object_or_404(Elder.objects.for_user(request.user).select_related("village"), pk=pk)


@scoped_view(roles=FIELD_ROLES)
def record(request, elder_pk):
    """The phone-first visit form. Idempotent: the hidden one-time key makes a double tap or a
    retry store one visit (the second answer shows the visit already stored)."""
    elder = _elder_or_404(request, elder_pk)
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, elder=elder)
        if form.is_valid():
            try:
                visit, created = record_visit(elder, acting_user=request.user,
                                              submission_key=form.cleaned_data["submission_key"],
                                              duties=form.duties(), family_notice=form.family_notice(),
                                              **form.visit_fields())
            except ValidationError as error:
                _attach_errors(form, error)
            else:
                if outbox.from_outbox(request):
                    return _outbox_saved(visit, created)
                return _after_record(request, visit, created)
        if outbox.from_outbox(request):
            return outbox.refused(form)
    else:
        form = VisitForm(elder=elder)
    schedule = annotate_schedule(Elder.objects.filter(pk=elder.pk)).first()
    return render(request, "visits/visit_form.html", {"form": form, "elder": elder, "schedule": schedule})


def _attach_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _outbox_saved(visit, created):
    """The outbox's answer: what the page would have said, and where it would have gone next
    (上报乡镇 still needs its report written)."""
    if not created:
        return outbox.saved(message=_("这次巡访已经保存过了，没有重复保存。"), created=False,
                            url=reverse("visits:visit", args=[visit.pk]))
    url, todo = reverse("visits:today"), ""
    if visit.report_to_town:
        try:
            url = reverse("relief:case_from_visit", args=[visit.pk])
            todo = _("巡访已保存，勾了“上报乡镇”，还需写上报")
        except NoReverseMatch:
            pass
    return outbox.saved(message=_("已保存 %(name)s 的巡访记录。") % {"name": visit.elder.name}, created=True, url=url,
                        todo=todo)


def _after_record(request, visit, created):
    if not created:
        messages.info(request, _("这次巡访已经保存过了，没有重复保存。"))
        return redirect("visits:visit", visit.pk)
    messages.success(request, _("已保存 %(name)s 的巡访记录。") % {"name": visit.elder.name})
    if visit.notify_family:
        messages.info(request, _("已记下通知子女，子女答复前列在“子女答复待跟进”里。"))
    if visit.report_to_town:
        try:
            return redirect(reverse("relief:case_from_visit", args=[visit.pk]))
        except NoReverseMatch:
            messages.warning(request, _("已标记“上报乡镇”。请同时电话告知乡镇民政办。"))
    return redirect("visits:today")


@scoped_view(roles=READ_ROLES)
def visit_detail(request, pk):
    visit = get_object_or_404(Visit.objects.for_user(request.user).select_related("elder", "elder__village",
                                                                                  "visitor"), pk=pk)
    return render(request, "visits/visit_detail.html", {
        "visit": visit, "can_edit": visit.editable_by(request.user)})


@scoped_view(roles=FIELD_ROLES)
def edit(request, pk):
    """Correct a visit: within 48 hours of entry by the village, later by town staff only."""
    visit = get_object_or_404(Visit.objects.for_user(request.user).select_related("elder", "elder__village"), pk=pk)
    if not visit.editable_by(request.user):
        messages.error(request, _("录入超过 48 小时的巡访记录只能由乡镇民政办修改。"))
        return redirect("visits:visit", visit.pk)
    elder = visit.elder
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, instance=visit, elder=elder, with_key=False)
        if form.is_valid():
            fields = form.visit_fields()
            if fields.get("photo") is False:  # "clear" ticked
                fields["photo"] = ""
            try:
                update_visit(visit, acting_user=request.user, family_notice=form.family_notice(), **fields)
            except PermissionDenied as error:
                messages.error(request, str(error))
                return redirect("visits:visit", visit.pk)
            except ValidationError as error:
                _attach_errors(form, error)
            else:
                messages.success(request, _("巡访记录已修改。"))
                return redirect("visits:visit", visit.pk)
        visit.refresh_from_db()
    else:
        form = VisitForm(instance=visit, elder=elder, with_key=False)
    return render(request, "visits/visit_form.html", {"form": form, "elder": elder, "visit": visit})


@scoped_view(roles=READ_ROLES)
def photo(request, pk):
    """The visit's photo, from private storage, for users who may see the visit."""
    visit = get_object_or_404(Visit.objects.for_user(request.user).exclude(photo=""), pk=pk)
    record_access(user=request.user, kind=AccessEventKind.DOWNLOAD, obj=visit, area_code=visit.elder.village_id,
                  field="photo")
    response = FileResponse(visit.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@scoped_view(roles=READ_ROLES)
def elder_visits(request, elder_pk):
    """An elder's visit timeline, newest first, paginated."""
    elder = _elder_or_404(request, elder_pk)
    visits = Visit.objects.for_user(request.user).filter(elder=elder).select_related("visitor")
    page = Paginator(visits, TIMELINE_PAGE).get_page(request.GET.get("page"))
    schedule = annotate_schedule(Elder.objects.filter(pk=elder.pk)).first()
    return render(request, "visits/elder_visits.html", {"elder": elder, "page": page, "schedule": schedule})


@scoped_view(roles=[UserRole.TOWN, UserRole.COUNTY])
@reads_from_replica
def overview(request):
    """Town staff: due and overdue per village and per worker; the county also per town, with
    `?town=` narrowing the villages to one. Villages with the most overdue first. A fixed number
    of queries: the counts per village and per worker (one query), the villages and the workers."""
    scheduled = annotate_schedule(Elder.objects.for_user(request.user))
    counts = schedule_counts(scheduled, "village", "responsible_worker")
    by_village, by_worker = counts["village"], counts["responsible_worker"]
    villages = list(Area.objects.for_user(request.user).filter(level=AreaLevel.VILLAGE).select_related("parent"))
    workers = {u.pk: u for u in User.objects.for_user(request.user).filter(
        pk__in=[pk for pk in by_worker if pk is not None]).select_related("area")}
    empty = {"total": 0, "overdue": 0, "due_today": 0, "due_week": 0}
    village_rows = sorted([(v, by_village.get(v.code, empty)) for v in villages],
                          key=lambda row: (-row[1]["overdue"], -row[1]["due_today"], row[0].code))
    towns = {}
    for village, counts in village_rows:
        if village.parent_id not in towns:
            towns[village.parent_id] = (village.parent, dict.fromkeys(empty, 0))
        for key in empty:
            towns[village.parent_id][1][key] += counts[key]
    town_rows = sorted(towns.values(), key=lambda row: (-row[1]["overdue"], row[0].code)) if len(towns) > 1 else []
    town_code = request.GET.get("town", "")
    if town_code in towns:
        village_rows = [row for row in village_rows if row[0].parent_id == town_code]
    worker_rows = sorted(
        [(workers.get(pk), counts) for pk, counts in by_worker.items() if pk is None or pk in workers],
        key=lambda row: (-row[1]["overdue"], row[0].area_id if row[0] else "", str(row[0] or "")))
    totals = {key: sum(c[key] for c in by_village.values()) for key in empty}
    return render(request, "visits/overview.html", {
        "village_rows": village_rows, "worker_rows": worker_rows, "totals": totals, "town_rows": town_rows,
        "town": towns[town_code][0] if town_code in towns else None})


@scoped_view(roles=[UserRole.TOWN])
def policy(request):
    """The town's visit policy (defaults until town staff save their own)."""
    town = request.user.area
    if town is None or town.level != AreaLevel.TOWN:
        raise Http404
    instance = VisitPolicy.objects.for_user(request.user).filter(town=town).first() or VisitPolicy(town=town)
    form = VisitPolicyForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            save_policy(town, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("巡访周期已保存。"))
            return redirect("visits:policy")
    return render(request, "visits/policy.html", {"form": form, "town": town})


@scoped_view(roles=[UserRole.TOWN])
def reassign(request):
    """Bulk reassignment: choose elders of one village and a village worker of that village."""
    villages = Area.objects.for_user(request.user).filter(level=AreaLevel.VILLAGE)
    code = request.POST.get("village") or request.GET.get("village")
    village = get_object_or_404(villages, code=code) if code else None
    form = None
    if village is not None:
        elders = Elder.objects.for_user(request.user).active().filter(village=village).select_related(
            "responsible_worker").order_by("village_group", "name", "pk")
        form = ReassignForm(request.POST if request.method == "POST" else None, elders=elders, village=village,
                            user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                changed = reassign_elders(form.cleaned_data["elders"], worker=form.cleaned_data["worker"],
                                          acting_user=request.user)
            except ValidationError as error:
                _attach_errors(form, error)
            else:
                messages.success(request, _("已把 %(n)s 位老人交给 %(worker)s 巡访。") % {
                    "n": changed, "worker": form.cleaned_data["worker"]})
                return redirect(f"{reverse('visits:reassign')}?village={village.code}")
        form.elder_rows = list(elders)
    return render(request, "visits/reassign.html", {"villages": villages, "village": village, "form": form})


# --- 通知子女: the follow-up worklist -------------------------------------------------------------


def _open_notices(user):
    return FamilyNotice.objects.for_user(user).open()


def followups_badge(request) -> int:
    """Menu badge: notices to families still waiting for their answer (one query)."""
    return _open_notices(request.user).count()


@scoped_view(roles=READ_ROLES)
def followups(request):
    """子女答复待跟进: every 通知子女 whose answer is not recorded and that is not escalated,
    overdue first (the village's worklist; the town sees all its villages)."""
    rows = (_open_notices(request.user).with_overdue()
            .select_related("elder", "elder__village", "guardian", "recorded_by")
            .order_by("-is_overdue", "due_on", "id"))
    page = Paginator(rows, WORKLIST_PAGE).get_page(request.GET.get("page"))
    return render(request, "visits/followups.html", {"page": page, "can_act": _may_act(request.user)})


def _may_act(user) -> bool:
    return user.is_superuser or user.role in FIELD_ROLES


@scoped_view(roles=READ_ROLES)
def followup(request, pk):
    """One notice: what was asked of whom; record the family's answer, or escalate (督促)."""
    notice = get_object_or_404(FamilyNotice.objects.for_user(request.user).with_overdue()
                               .select_related("elder", "elder__village", "guardian", "visit", "supervision"), pk=pk)
    can_act = _may_act(request.user) and notice.status == FamilyNoticeStatus.OPEN
    response_form = FamilyResponseForm(prefix="answer")
    escalation_form = FamilyEscalationForm(prefix="escalate", elder=notice.elder,
                                           initial={"guardian": notice.guardian_id})
    if request.method == "POST":
        if not can_act:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "answer":
                response_form = FamilyResponseForm(request.POST, prefix="answer")
                if response_form.is_valid():
                    record_family_response(notice, acting_user=request.user, **response_form.cleaned_data)
                    messages.success(request, _("已记下子女的答复，这条通知已办结。"))
                    return redirect("visits:followups")
            elif action == "escalate":
                escalation_form = FamilyEscalationForm(request.POST, prefix="escalate", elder=notice.elder)
                if escalation_form.is_valid():
                    supervision = escalate_family_notice(notice, acting_user=request.user,
                                                         **escalation_form.cleaned_data)
                    if supervision.is_refusal:
                        messages.warning(request, _("赡养人拒不履行：请把情况上报乡镇。"))
                        try:
                            return redirect(reverse("relief:case_from_supervision", args=[supervision.pk]))
                        except NoReverseMatch:
                            pass
                    messages.success(request, _("已记下督促，这条通知转为督促记录。"))
                    return redirect("visits:followups")
            else:
                raise Http404
        except ValidationError as error:
            form = response_form if action == "answer" else escalation_form
            _attach_errors(form, error)
    return render(request, "visits/followup.html", {
        "notice": notice, "can_act": can_act, "response_form": response_form, "escalation_form": escalation_form})
