"""Relief pages: report, case detail with timeline and actions, queues, inbox, risk assessment.

Every view is scoped (eldercare.access); every row is read through `.for_user(request.user)`;
state changes go through relief.services.
"""

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eldercare import outbox
from eldercare.access import scoped_view
from eldercare.audit import record_access
from eldercare.choices import REFERRAL_ROLES, AccessEventKind, UserRole
from eldercare.models import Department
from eldercare.spreadsheets import Sheet, xlsx_response
from registry.choices import ElderStatus, SupervisionResult
from registry.models import Elder, Supervision, age_on
from relief import services
from relief.choices import CaseEventAction, ReliefCaseStatus, ReliefCaseType
from relief.forms import (
    AssessmentForm,
    NoteForm,
    OutcomeForm,
    ReferForm,
    ReportForm,
    ResubmitForm,
    ReturnForm,
)
from relief.models import CaseEvent, Referral, ReliefCase, RiskAssessment, with_reassessment
from relief.risk import propose_assessment

T, V, D, C = UserRole.TOWN, UserRole.VILLAGE, UserRole.DEPARTMENT, UserRole.COUNTY
CL = UserRole.CLINIC  # a clinic is a department too: it works the cases referred to its 卫生院
REPORTERS = (V, T)
PAGE_SIZE = 50


# --- Inbox ----------------------------------------------------------------------------------


def inbox_rows(user):
    """What `user` must act on next — the inbox page and the nav badge count the same rows.

    Town: new reports (已上报) and every open case with an overdue clock; department (and
    clinic): its referrals not yet closed; village: reports sent back for more information (退回补充).
    """
    if user.is_superuser or user.role == T:
        cases = ReliefCase.objects.for_user(user).with_clocks()
        return cases.filter(Q(status=ReliefCaseStatus.REPORTED) | Q(is_overdue=True))
    if user.role in REFERRAL_ROLES:
        return Referral.objects.for_user(user).open()
    if user.role == V:
        return ReliefCase.objects.for_user(user).filter(status=ReliefCaseStatus.RETURNED)
    return ReliefCase.objects.none()


def inbox_badge(request) -> int:
    """Nav badge: one COUNT query."""
    return inbox_rows(request.user).count()


@scoped_view(roles=(V, T, D, CL))
def inbox(request):
    """The to-do list of whoever must act next."""
    rows = inbox_rows(request.user)
    if request.user.role in REFERRAL_ROLES:
        rows = rows.with_clocks().select_related("case__elder", "case__village", "department").in_queue_order()
        return render(request, "relief/referral_list.html", {"referrals": rows[:200], "title": _("待办")})
    rows = (rows.with_clocks() if request.user.role == V else rows)
    rows = rows.select_related("elder", "village").in_queue_order()
    return render(request, "relief/case_list.html", {"cases": rows[:200], "title": _("待办"), "inbox": True})


# --- Queues ---------------------------------------------------------------------------------

STATUS_TABS = [("open", gettext_lazy("未办结")), ("overdue", gettext_lazy("已超时")), *ReliefCaseStatus.choices,
               ("all", gettext_lazy("全部"))]


def _case_queue(request):
    """The queue's tab (`?status=`) and its cases, in queue order — the page and its export."""
    tab = request.GET.get("status", "open")
    cases = ReliefCase.objects.for_user(request.user).with_clocks()
    if tab == "open":
        cases = cases.open()
    elif tab == "overdue":
        cases = cases.filter(is_overdue=True)
    elif tab in ReliefCaseStatus.values:
        cases = cases.filter(status=tab)
    return tab, cases.select_related("elder", "village").in_queue_order()


@scoped_view(roles=(V, T, C))
def case_list(request):
    """The case queue: the town's (or county's) cases, or the village's own; overdue in red."""
    tab, cases = _case_queue(request)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "relief/case_list.html", {
        "cases": page, "page": page, "tabs": STATUS_TABS, "tab": tab, "title": _("救助个案")})


@scoped_view(roles=(V, T, C))
def case_export(request):
    """The queue's current tab as .xlsx; a narrative only where the user may read it (sensitive
    types: town staff and the departments); recorded as an export."""
    tab, cases = _case_queue(request)
    user = request.user
    header = [_("上报时间"), _("村(社区)"), _("老人"), _("情况类型"), _("紧急程度"), _("状态"), _("当前时限"), _("已超时"),
              _("情况说明"), _("办理结果")]
    rows = ([timezone.localtime(c.reported_at), c.village.name, c.elder.name, c.get_case_type_display(),
             c.get_urgency_display(), c.get_status_display(), c.next_due and timezone.localtime(c.next_due),
             c.is_overdue, c.narrative if c.narrative_visible_to(user) else _("（仅乡镇和承办部门可见）"), c.outcome]
            for c in cases.iterator(chunk_size=2000))
    sheet = Sheet(_("救助个案"), header, rows)
    response = xlsx_response(f"relief-cases-{tab}-{timezone.localdate():%Y%m%d}.xlsx", [sheet])
    record_access(user=user, kind=AccessEventKind.EXPORT, area_code=user.jurisdiction or "",
                  detail={"what": "relief.cases", "filters": {"status": tab}, "rows": sheet.count})
    return response


def _referral_queue(user):
    return (Referral.objects.for_user(user).with_clocks()
            .select_related("case__elder", "case__village", "department").in_queue_order())


@scoped_view(roles=(D, CL))
def referral_list(request):
    """The department queue: cases referred to this department, open first, overdue in red."""
    rows = _referral_queue(request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "relief/referral_list.html", {"referrals": page, "page": page, "title": _("转办个案")})


@scoped_view(roles=(D, CL))
def referral_export(request):
    """The department's referrals as .xlsx (the department may read its cases' narratives)."""
    user = request.user
    header = [_("转办时间"), _("村(社区)"), _("老人"), _("情况类型"), _("本部门进度"), _("接收时限"), _("已超时"),
              _("情况说明"), _("部门办理结果")]
    rows = ([timezone.localtime(r.referred_at), r.case.village.name, r.case.elder.name, r.case.get_case_type_display(),
             r.get_state_display(), timezone.localtime(r.receipt_due), r.is_overdue,
             r.case.narrative if r.case.narrative_visible_to(user) else "", r.result]
            for r in _referral_queue(user).iterator(chunk_size=2000))
    sheet = Sheet(_("转办个案"), header, rows)
    response = xlsx_response(f"referrals-{timezone.localdate():%Y%m%d}.xlsx", [sheet])
    record_access(user=user, kind=AccessEventKind.EXPORT, area_code=user.jurisdiction or "",
                  detail={"what": "relief.referrals", "rows": sheet.count})
    return response


# --- Report ---------------------------------------------------------------------------------


def _report(request, form, *, elder=None, template="relief/report.html", extra=None, **source):
    """Shared by the three ways to report: a plain report, from a visit, from a supervision."""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.report_case(elder or data["elder"], case_type=data["case_type"], urgency=data["urgency"],
                                        narrative=data["narrative"], acting_user=request.user,
                                        submission_key=data["submission_key"], **source)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            message = (_("已上报乡镇，乡镇受理前可在“救助个案”中查看进度。") if case.created
                       else _("这份报告已经上报过了，没有重复上报。"))
            if outbox.from_outbox(request):
                return outbox.saved(message=message, created=case.created,
                                    url=reverse("relief:case_detail", args=[case.pk]))
            (messages.success if case.created else messages.info)(request, message)
            return redirect("relief:case_detail", case.pk)
    if request.method == "POST" and outbox.from_outbox(request):
        gone = _chosen_elder_off_register(request, form)
        return outbox.refused(form) if gone is None else outbox.refused_because(gone.off_register_reason)
    return render(request, template, {"form": form, "elder": elder, **(extra or {})})


def _chosen_elder_off_register(request, form):
    """The elder the refused form named, when they are in the user's reach but no longer on the
    register (the list offers only elders 在册): the outbox then says why (该老人已迁出 …)."""
    chosen = request.POST.get("elder", "")
    if "elder" not in form.errors or not chosen.isdigit():
        return None
    return Elder.objects.for_user(request.user).exclude(status=ElderStatus.ACTIVE).filter(pk=chosen).first()


@scoped_view(roles=REPORTERS)
def case_report(request):
    """Report a special situation (phone-first)."""
    elders = Elder.objects.for_user(request.user).active().order_by("name")
    initial = {}
    if request.GET.get("elder", "").isdigit():
        initial["elder"] = request.GET["elder"]
    form = ReportForm(request.POST or None, elders=elders, initial=initial)
    return _report(request, form)


def _existing_case(request, **lookup):
    return ReliefCase.objects.for_user(request.user).filter(**lookup).order_by("-reported_at").first()


@scoped_view(roles=REPORTERS)
def case_from_visit(request, visit_pk):
    """A visit marked 上报乡镇 becomes a case in one step, with the elder and the visit's facts."""
    try:
        Visit = apps.get_model("visits", "Visit")
    except LookupError:
        raise Http404 from None
    visit = get_object_or_404(Visit.objects.for_user(request.user).select_related("elder"), pk=visit_pk)
    existing = _existing_case(request, source_visit_id=visit.pk)
    if existing is not None:
        messages.info(request, _("这次巡访已经上报过。"))
        return redirect("relief:case_detail", existing.pk)
    get_outcome = getattr(visit, "get_outcome_display", lambda: visit.outcome)
    facts = [
        _("巡访日期：%s") % f"{timezone.localtime(visit.visited_at):%Y-%m-%d}",
        _("巡访结论：%s") % get_outcome(),
    ]
    if getattr(visit, "needs_raised", ""):
        facts.append(_("提出的需求：%s") % visit.needs_raised)
    if getattr(visit, "notes", ""):
        facts.append(_("巡访记录：%s") % visit.notes)
    form = ReportForm(request.POST or None, fixed_elder=visit.elder,
                      initial={"narrative": "\n".join(facts), "case_type": ReliefCaseType.OTHER})
    return _report(request, form, elder=visit.elder, source_visit_id=visit.pk,
                   extra={"source": _("来自 %s 的巡访") % f"{timezone.localtime(visit.visited_at):%Y-%m-%d}"})


@scoped_view(roles=REPORTERS)
def case_from_supervision(request, supervision_pk):
    """A 拒不履行 supervision record becomes a 赡养人拒不履行义务 case in one step."""
    supervision = get_object_or_404(
        Supervision.objects.for_user(request.user).select_related("elder", "guardian", "observation"),
        pk=supervision_pk, result=SupervisionResult.REFUSED)
    existing = _existing_case(request, source_supervision=supervision)
    if existing is not None:
        messages.info(request, _("这条督促记录已经上报过。"))
        return redirect("relief:case_detail", existing.pk)
    facts = [_("赡养人%(guardian)s于 %(day)s 经%(method)s后仍拒不履行赡养义务。") % {
        "guardian": supervision.guardian, "day": f"{supervision.supervised_on:%Y-%m-%d}",
        "method": supervision.get_method_display()}]
    if supervision.observation_id:
        facts.append(_("未履行的义务：%s") % supervision.observation.get_duty_display())
    if supervision.guardian_response:
        facts.append(_("赡养人表态：%s") % supervision.guardian_response)
    form = ReportForm(request.POST or None, fixed_elder=supervision.elder, fixed_type=ReliefCaseType.GUARDIAN_REFUSAL,
                      initial={"narrative": "\n".join(facts)})
    return _report(request, form, elder=supervision.elder, source_supervision=supervision,
                   extra={"source": _("来自 %s 的督促记录") % f"{supervision.supervised_on:%Y-%m-%d}"})


# --- Case detail and actions ----------------------------------------------------------------

CASE_ACTIONS = {
    # url action → (form class, event action, the service call with the form's data)
    "accept": (NoteForm, CaseEventAction.ACCEPT,
               lambda case, data, user: services.accept_case(case, note=data["note"], acting_user=user)),
    "return": (ReturnForm, CaseEventAction.RETURN,
               lambda case, data, user: services.return_case(case, reason=data["reason"], acting_user=user)),
    "refer": (ReferForm, CaseEventAction.REFER,
              lambda case, data, user: services.refer_case(case, departments=data["departments"], note=data["note"],
                                                           acting_user=user)),
    "close": (OutcomeForm, CaseEventAction.CLOSE,
              lambda case, data, user: services.close_case(case, outcome=data["outcome"], acting_user=user)),
    "resubmit": (ResubmitForm, CaseEventAction.RESUBMIT,
                 lambda case, data, user: services.resubmit_case(case, supplement=data["supplement"],
                                                                 acting_user=user)),
}
# Which case actions the status offers (the services enforce the same through TRANSITIONS).
ACTIONS_BY_STATUS = {
    ReliefCaseStatus.REPORTED: ["accept", "return"],
    ReliefCaseStatus.RETURNED: ["resubmit"],
    ReliefCaseStatus.ACCEPTED: ["refer"],
    ReliefCaseStatus.IN_PROGRESS: ["close"],
}
REFERRAL_ACTIONS = {
    "receive": (NoteForm, CaseEventAction.RECEIVE,
                lambda ref, data, user: services.receive_referral(ref, note=data["note"], acting_user=user)),
    "start": (NoteForm, CaseEventAction.START,
              lambda ref, data, user: services.start_referral(ref, note=data["note"], acting_user=user)),
    "close": (OutcomeForm, CaseEventAction.CLOSE_REFERRAL,
              lambda ref, data, user: services.close_referral(ref, result=data["outcome"], acting_user=user)),
}


DONE_MESSAGES = {
    CaseEventAction.ACCEPT: gettext_lazy("已受理。下一步：转办给相关部门。"),
    CaseEventAction.RETURN: gettext_lazy("已退回村里补充。"),
    CaseEventAction.REFER: gettext_lazy("已转办，等待部门接收。"),
    CaseEventAction.CLOSE: gettext_lazy("已办结。"),
    CaseEventAction.RESUBMIT: gettext_lazy("已补充并重新上报乡镇。"),
    CaseEventAction.RECEIVE: gettext_lazy("已接收。处置时请点“开始处置”。"),
    CaseEventAction.START: gettext_lazy("已开始处置。处理完后填写办理结果并办结。"),
    CaseEventAction.CLOSE_REFERRAL: gettext_lazy("本部门已办结。"),
}


def _departments(user, case):
    return Department.objects.for_user(user).filter(town_id=case.village_id[:9], active=True).order_by("kind", "name")


def _case_forms(user, case, bound=None):
    """(action, form) pairs of the case steps this user may take now."""
    forms = {}
    for name in ACTIONS_BY_STATUS.get(case.status, []):
        form_class, action, _call = CASE_ACTIONS[name]
        if not services.may(user, action):
            continue
        kwargs = {"departments": _departments(user, case)} if form_class is ReferForm else {}
        forms[name] = bound if bound is not None and bound[0] == name else (name, form_class(prefix=name, **kwargs))
    return list(forms.values())


def _referral_forms(user, referrals, bound=None):
    """The buttons of the user's own department on its referral."""
    if user.role not in REFERRAL_ROLES:
        return []
    out = []
    for referral in referrals:
        if referral.department_id != user.department_id or referral.closed_at:
            continue
        name = "receive" if not referral.received_at else "start" if not referral.started_at else "close"
        form_class = REFERRAL_ACTIONS[name][0]
        form = bound[1] if bound is not None and bound[0] == (referral.pk, name) else form_class(prefix=f"r{name}")
        out.append((referral, name, form))
    return out


def _case_context(request, case, *, bound_case=None, bound_referral=None):
    user = request.user
    case = (ReliefCase.objects.for_user(user).with_clocks()
            .select_related("elder__responsible_worker", "village", "reported_by").get(pk=case.pk))
    timeline = list(CaseEvent.objects.for_user(user).filter(case=case)
                    .select_related("actor", "referral__department").order_by("at", "id"))
    referrals = list(Referral.objects.for_user(user).with_clocks().filter(case=case).select_related("department"))
    for event in timeline:
        event.case = case  # the privacy rule reads the case: no query per row
    return {
        "case": case,
        "elder_age": age_on(case.elder.birth_date, timezone.localdate()),
        "show_narrative": case.narrative_visible_to(user),
        "events": [(e, e.note_visible_to(user)) for e in timeline],
        "referrals": referrals,
        "case_forms": _case_forms(user, case, bound_case),
        "referral_forms": _referral_forms(user, referrals, bound_referral),
        "show_referrals": user.is_superuser or user.role in (T, C, *REFERRAL_ROLES),
    }


@scoped_view(roles=(V, T, C, D, CL))
def case_detail(request, pk):
    """One case: facts, clocks, timeline and the buttons of whoever may act now."""
    case = get_object_or_404(ReliefCase.objects.for_user(request.user), pk=pk)
    return render(request, "relief/case_detail.html", _case_context(request, case))


def _run(request, case, call, target, form, event_action):
    """Call the service with the form's data; a refused step is a 404, an invalid one a form error,
    and a step someone else's step made impossible meanwhile (two people on one case) a message
    above the case as it now stands."""
    try:
        call(target, form.cleaned_data, request.user)
    except services.ActionNotAllowed:
        raise Http404 from None
    except services.IllegalTransition as error:
        messages.error(request, _lost_race_message(request.user, case, event_action, error))
        return redirect("relief:case_detail", case.pk)
    except ValidationError as error:
        form.add_error(None, error)
        return None
    messages.success(request, DONE_MESSAGES[event_action])
    return redirect("relief:case_detail", case.pk)


def _lost_race_message(user, case, event_action, error):
    """Name who moved the case first and what they did, so the loser knows their step did not happen."""
    latest = (CaseEvent.objects.for_user(user).filter(case=case).select_related("actor")
              .order_by("-at", "-id").first())
    attempted = CaseEventAction(event_action).label
    if latest is None:
        return _("您的“%(attempted)s”没有执行：%(reason)s") % {"attempted": attempted, "reason": " ".join(error.messages)}
    return _("您的“%(attempted)s”没有执行：%(actor)s 已于 %(at)s 先做了“%(done)s”，个案现在是“%(status)s”。"
             "请看下面的最新情况。") % {
        "attempted": attempted, "actor": latest.actor, "at": f"{timezone.localtime(latest.at):%H:%M}",
        "done": latest.get_action_display(), "status": latest.get_to_status_display()}


@scoped_view(roles=(V, T))
def case_action(request, pk, action):
    """POST one case step (accept, return, refer, close, resubmit)."""
    if request.method != "POST" or action not in CASE_ACTIONS:
        raise Http404
    case = get_object_or_404(ReliefCase.objects.for_user(request.user), pk=pk)
    form_class, event_action, call = CASE_ACTIONS[action]
    if not services.may(request.user, event_action):
        raise Http404
    kwargs = {"departments": _departments(request.user, case)} if form_class is ReferForm else {}
    form = form_class(request.POST, prefix=action, **kwargs)
    if form.is_valid():
        response = _run(request, case, call, case, form, event_action)
        if response is not None:
            return response
    context = _case_context(request, case, bound_case=(action, form))
    return render(request, "relief/case_detail.html", context)


@scoped_view(roles=(D, CL))
def referral_action(request, pk, action):
    """POST one department step on its own referral (receive, start, close)."""
    if request.method != "POST" or action not in REFERRAL_ACTIONS:
        raise Http404
    referral = get_object_or_404(Referral.objects.for_user(request.user).select_related("case"), pk=pk)
    form_class, event_action, call = REFERRAL_ACTIONS[action]
    form = form_class(request.POST, prefix=f"r{action}")
    if form.is_valid():
        response = _run(request, referral.case, call, referral, form, event_action)
        if response is not None:
            return response
    context = _case_context(request, referral.case, bound_referral=((referral.pk, action), form))
    return render(request, "relief/case_detail.html", context)


# --- Risk assessment ------------------------------------------------------------------------


@scoped_view(roles=(V, T))
def assess(request, elder_pk):
    """The system's proposal (each factor, points and why); staff confirm or adjust with a reason."""
    elder = get_object_or_404(Elder.objects.for_user(request.user).active(), pk=elder_pk)
    proposal = propose_assessment(elder)
    form = AssessmentForm(request.POST or None, initial={"level": proposal.level})
    if request.method == "POST" and form.is_valid():
        try:
            services.confirm_assessment(elder, level=form.cleaned_data["level"],
                                        adjusted_reason=form.cleaned_data["adjusted_reason"], acting_user=request.user)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    for e in errors:
                        form.add_error(field, e)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("已确认%s的风险等级。") % elder.name)
            return redirect("relief:reassessment_due")
    last = RiskAssessment.objects.for_user(request.user).filter(elder=elder).select_related("assessed_by").first()
    return render(request, "relief/assess.html", {"elder": elder, "proposal": proposal, "form": form, "last": last})


@scoped_view(roles=(V, T, C))
def reassessment_due(request):
    """Elders whose risk must be (re)assessed: 12 months passed, a special situation, or a visit
    that reported a change since the last assessment; `?unassessed=1` lists those never assessed."""
    elders = with_reassessment(Elder.objects.for_user(request.user).active())
    unassessed = request.GET.get("unassessed") == "1"
    rows = elders.filter(last_assessed_at__isnull=True) if unassessed else elders.filter(reassessment_due=True)
    rows = rows.select_related("village").order_by("village_id", "name", "id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "relief/reassessment_due.html", {
        "elders": page, "page": page, "unassessed": unassessed,
        "can_assess": request.user.is_superuser or request.user.role in (V, T)})
