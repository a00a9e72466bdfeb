"""The register's pages for phones: elder list, profile, forms, alerts and the agreement download."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.access import scoped_view
from eldercare.audit import history_of, record_access
from eldercare.choices import AccessEventKind
from eldercare.idnumbers import IDNumberError, parse_id_number
from eldercare.models import Area
from registry import services
from registry.choices import DutyFulfilment, ElderDifficulty, ElderIncomeSource, ElderStatus
from registry.forms import (
    CareAgreementForm,
    ContactEventForm,
    DutyObservationForm,
    ElderForm,
    ElderIdNumberForm,
    GuardianLinkForm,
    StatusChangeForm,
    SupervisionForm,
)
from registry.masking import (
    HISTORY_ROLES,
    READ_ROLES,
    STAFF_ROLES,
    WRITE_ROLES,
    has_role,
    is_clinic,
    mask_id_number,
)
from registry.models import (
    RISK_FILTER_CHOICES,
    CareAgreement,
    CareHome,
    ContactEvent,
    DutyObservation,
    Elder,
    ElderGuardian,
    ElderStatusChange,
    Guardian,
    Supervision,
)
from registry.panels import alert_panels, panels_for

NO_CONTACT_DAYS = 90
# ?flag= values of the list page → the one definition of each flag (columns and annotations).
FLAG_FILTERS = {
    "disabled_alone": ("is_disabled_alone", "失能独居"),
    "key_target": ("is_key_target", "重点对象"),
    "very_old": ("is_very_old", "高龄"),
    "disabled": ("is_disabled", "失能"),
    "alone": ("is_alone", "独居"),
    "hardship": ("is_hardship", "经济困难"),
}
CLINIC_HIDDEN_FLAGS = ("hardship", "key_target")


def phone_tail_matches(tail: str):
    """A condition: one of the elder's phone numbers ends with `tail` (4 digits)."""
    return RawSQL("EXISTS (SELECT 1 FROM unnest(registry_elder.phones) AS p WHERE right(p, 4) = %s)", [tail],
                  output_field=BooleanField())


def search_elders(queryset, term: str):
    """Search by name, pinyin initials, the last 4 digits of a phone, or an EXACT full ID number.

    A partial ID number finds nothing: a prefix search would let anyone probe who is registered.
    """
    term = term.strip()
    if not term:
        return queryset
    if len(term) >= 15 and term[:15].isdigit():
        try:
            return queryset.filter(id_number=parse_id_number(term).number)
        except IDNumberError:
            return queryset.none()
    condition = Q(name__contains=term)
    if term.isascii() and term.isalpha():
        condition |= Q(name_initials__startswith=term.lower())
    if len(term) == 4 and term.isdigit():
        condition |= Q(phone_tail_matches(term))
    return queryset.filter(condition)


def _scoped_elder(request, pk):
    return get_object_or_404(Elder.objects.for_user(request.user), pk=pk)


@scoped_view(roles=READ_ROLES)
def elder_list(request):
    """A searchable, paginated list for phones (fixed query count whatever the rows)."""
    elders = Elder.objects.for_user(request.user).with_last_contact().select_related("village", "care_home")
    status = request.GET.get("status", ElderStatus.ACTIVE)
    if status in ElderStatus.values:
        elders = elders.filter(status=status)
    # 入住养老机构: which home (only when the list can hold such elders, so 在册 lists query nothing more)
    homes, home = [], request.GET.get("home", "")
    if status in (ElderStatus.INSTITUTION, "all"):
        homes = list(CareHome.objects.for_user(request.user).only("pk", "name"))
        if home.isdigit():
            elders = elders.filter(care_home_id=int(home))
    flag = request.GET.get("flag", "")
    if flag in CLINIC_HIDDEN_FLAGS and is_clinic(request.user):
        flag = ""  # clinic staff do not see economic facts, nor 重点对象 (defined from them)
    if flag in FLAG_FILTERS:
        elders = elders.filter(**{FLAG_FILTERS[flag][0]: True})
    village = request.GET.get("village", "")
    if village:
        elders = elders.filter(village_id=village)
    risk = request.GET.get("risk", "")
    elders = elders.at_risk_level(risk)  # the latest confirmed assessment's level, or 未评估
    if request.GET.get("no_contact"):
        day = timezone.localdate() - timedelta(days=NO_CONTACT_DAYS)
        elders = elders.filter(Q(last_contact_on__lt=day) | Q(last_contact_on__isnull=True))
    query = request.GET.get("q", "")
    elders = search_elders(elders, query)
    page = Paginator(elders.order_by("village_id", "village_group", "name", "pk"), 30).get_page(request.GET.get("page"))
    villages = Area.objects.for_user(request.user).filter(level="village").order_by("code").only("code", "name")
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "registry/elder_list.html", {
        "page": page, "query": query, "status": status, "flag": flag, "village": village, "risk": risk,
        "risk_levels": RISK_FILTER_CHOICES,
        "statuses": ElderStatus.choices, "flags": [(k, v[1]) for k, v in FLAG_FILTERS.items()
                                                 if not (k in CLINIC_HIDDEN_FLAGS and is_clinic(request.user))],
        "villages": villages, "params": params.urlencode(), "can_edit": has_role(request.user, WRITE_ROLES),
        "no_contact": bool(request.GET.get("no_contact")), "clinic": is_clinic(request.user),
        "homes": homes, "home": home,
    })


def _labels(choices, values) -> str:
    labels = dict(choices.choices)
    return "、".join(str(labels.get(v, v)) for v in values or [])


def _case_link(supervision):
    try:
        return reverse("relief:case_from_supervision", args=[supervision.pk])
    except NoReverseMatch:
        return None


@scoped_view(roles=READ_ROLES)
def elder_detail(request, pk):
    """The profile: basics and flags first, then guardians, agreement, contacts, duties, panels, history.

    POST field=id_number reveals the full ID number once, recorded in the access log.
    """
    elder = get_object_or_404(Elder.objects.for_user(request.user).with_last_contact()
                              .select_related("village__parent", "care_home"), pk=pk)
    user = request.user
    clinic = is_clinic(user)
    revealed = False
    if request.method == "POST" and request.POST.get("field") == "id_number":
        record_access(user=user, kind="reveal", obj=elder, area_code=elder.village_id, field="id_number")
        revealed = True
    links = list(ElderGuardian.objects.for_user(user).filter(elder=elder).select_related("guardian"))
    context = {
        "elder": elder, "clinic": clinic, "revealed": revealed,
        "id_display": elder.id_number if revealed else mask_id_number(elder.id_number),
        "links": links, "can_edit": has_role(user, WRITE_ROLES),
        "panels": panels_for(request, elder),
    }
    if not clinic:
        today = timezone.localdate()
        context["income_labels"] = _labels(ElderIncomeSource, elder.income_sources)
        context["difficulty_labels"] = _labels(ElderDifficulty, elder.difficulties)
        context["agreements"] = list(CareAgreement.objects.for_user(user).filter(elder=elder).select_related("guardian"))
        context["valid_agreement"] = next((a for a in context["agreements"]
                                           if (a.start_date is None or a.start_date <= today)
                                           and (a.end_date is None or a.end_date >= today)), None)
        context["contacts"] = list(ContactEvent.objects.for_user(user).filter(elder=elder)
                                   .select_related("guardian")[:10])
        context["observations"] = list(DutyObservation.objects.for_user(user).filter(elder=elder)
                                       .select_related("guardian", "observed_by")[:20])
        supervisions = list(Supervision.objects.for_user(user).filter(elder=elder).select_related("guardian")[:20])
        for supervision in supervisions:
            supervision.case_url = _case_link(supervision) if supervision.is_refusal else None
        context["supervisions"] = supervisions
        context["status_changes"] = list(ElderStatusChange.objects.for_user(user).filter(elder=elder)
                                         .select_related("changed_by", "care_home"))
    if has_role(user, HISTORY_ROLES):
        context["events"] = list(history_of(elder)[:50])
    return render(request, "registry/elder_detail.html", context)


def _form_page(request, template, context):
    return render(request, template, context)


@scoped_view(roles=WRITE_ROLES)
def elder_add(request):
    form = ElderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            elder = services.save_elder(form.save(commit=False), acting_user=request.user)
        except ValidationError as error:
            form.add_error(None, error)  # a lost race: the same message, the input kept
        else:
            messages.success(request, _("已登记 %s。") % elder.name)
            return redirect("registry:elder", elder.pk)
    return _form_page(request, "registry/form.html", {"form": form, "title": _("登记老人")})


@scoped_view(roles=WRITE_ROLES)
def elder_edit(request, pk):
    elder = _scoped_elder(request, pk)
    form = ElderForm(request.POST or None, instance=elder, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            elder = services.save_elder(form.save(commit=False), acting_user=request.user)
        except ValidationError as error:
            form.add_error(None, error)  # a lost race: the same message, the input kept
        else:
            messages.success(request, _("已保存。"))
            return redirect("registry:elder", elder.pk)
    return _form_page(request, "registry/form.html", {"form": form, "elder": elder, "title": _("修改老人信息"),
                                                      "masked_id": mask_id_number(elder.id_number)})


@scoped_view(roles=WRITE_ROLES)
def elder_id_number(request, pk):
    """修改身份证号: the one way a page changes an ID number. The current number is never shown; the
    corrected one is typed in full, and the change is recorded in the access log (kind reveal,
    field id_number, with the reason) beside the history row of the edit itself."""
    elder = _scoped_elder(request, pk)
    form = ElderIdNumberForm(request.POST or None, instance=elder, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                elder = services.save_elder(form.save(commit=False), acting_user=request.user)
                record_access(user=request.user, kind=AccessEventKind.REVEAL, obj=elder, area_code=elder.village_id,
                              field="id_number", detail={"action": "change", "reason": form.cleaned_data["reason"]})
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("身份证号已修改，出生日期和性别已按新号码更新。"))
            return redirect("registry:elder", elder.pk)
    return _form_page(request, "registry/form.html", {"form": form, "elder": elder, "title": _("修改身份证号"),
                                                      "masked_id": mask_id_number(elder.id_number), "id_step": True})


def _service_form(request, pk, form_class, title, call, success, form_kwargs=None, initial=None):
    """A form page whose valid submission calls a service; service ValidationErrors show on the form."""
    elder = _scoped_elder(request, pk)
    kwargs = {"elder": elder, **(form_kwargs or {})} if form_kwargs is not None else {}
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            result = call(elder, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, success)
            return result if hasattr(result, "status_code") else redirect("registry:elder", elder.pk)
    return render(request, "registry/form.html", {"form": form, "elder": elder, "title": title})


@scoped_view(roles=WRITE_ROLES)
def elder_status(request, pk):
    def call(elder, data):
        services.change_status(elder, to_status=data["to_status"], changed_on=data["changed_on"],
                               reason=data["reason"], care_home=data["care_home"], acting_user=request.user)

    return _service_form(request, pk, StatusChangeForm, _("变更状态"), call, _("状态已变更。"),
                         form_kwargs={"user": request.user})


@scoped_view(roles=WRITE_ROLES)
def guardian_add(request, pk):
    def call(elder, data):
        new = None if data["existing"] else {k: data[k] for k in ("name", "phone", "id_number", "whereabouts")}
        services.link_guardian(elder, guardian=data["existing"], new_guardian=new, relation=data["relation"],
                               is_primary=data["is_primary"], acting_user=request.user)

    return _service_form(request, pk, GuardianLinkForm, _("添加赡养人"), call, _("已添加赡养人。"),
                         form_kwargs={"user": request.user})


@scoped_view(roles=WRITE_ROLES)
def contact_add(request, pk):
    def call(elder, data):
        services.record_contact_event(elder, acting_user=request.user, **data)

    return _service_form(request, pk, ContactEventForm, _("登记联系情况"), call, _("已登记联系情况。"), form_kwargs={})


@scoped_view(roles=WRITE_ROLES)
def duty_add(request, pk):
    def call(elder, data):
        observation = services.record_duty_observation(elder, acting_user=request.user, **data)
        if observation.fulfilment != DutyFulfilment.FULFILLED:
            return redirect(reverse("registry:supervision_add", args=[elder.pk]) + f"?observation={observation.pk}")
        return None

    return _service_form(request, pk, DutyObservationForm, _("记录义务履行情况"), call, _("已记录。"), form_kwargs={})


@scoped_view(roles=WRITE_ROLES)
def supervision_add(request, pk):
    elder = _scoped_elder(request, pk)
    observation = None
    observation_id = request.GET.get("observation") or request.POST.get("observation")
    if observation_id and str(observation_id).isdigit():
        observation = DutyObservation.objects.for_user(request.user).filter(elder=elder, pk=observation_id).first()

    def call(elder, data):
        services.record_supervision(elder, observation=observation, acting_user=request.user, **data)

    initial = {"guardian": observation.guardian_id} if observation else None
    if observation and request.method == "GET":
        messages.info(request, _("该赡养人未完全履行义务，请记录督促情况。"))
    return _service_form(request, pk, SupervisionForm, _("记录督促情况"), call, _("已记录督促情况。"), form_kwargs={},
                         initial=initial)


@scoped_view(roles=WRITE_ROLES)
def agreement_add(request, pk):
    elder = _scoped_elder(request, pk)
    form = CareAgreementForm(request.POST or None, request.FILES or None, elder=elder)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_care_agreement(elder, agreement=form.save(commit=False), acting_user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已登记委托照顾协议。"))
            return redirect("registry:elder", elder.pk)
    return render(request, "registry/form.html", {"form": form, "elder": elder, "title": _("登记委托照顾协议"),
                                                  "multipart": True})


@scoped_view(roles=STAFF_ROLES)
def agreement_document(request, pk):
    """The scanned agreement, for in-scope staff only; each download is recorded."""
    agreement = get_object_or_404(CareAgreement.objects.for_user(request.user).select_related("elder"), pk=pk)
    if not agreement.document:
        raise Http404
    record_access(user=request.user, kind="download", obj=agreement, area_code=agreement.elder.village_id,
                  field="document")
    name = agreement.document.name.rsplit("/", 1)[-1]
    return FileResponse(agreement.document.open("rb"), as_attachment=True, filename=name)


def alert_elders(user):
    """在册 失能独居 elders in reach without a valid entrusted-care agreement."""
    return Elder.objects.for_user(user).disabled_alone_without_agreement()


def expiring_agreements(user):
    return CareAgreement.objects.for_user(user).expiring()


def under_age_elders(user):
    """在册 elders in reach who were under 60 when registered: for the town to correct."""
    return Elder.objects.for_user(user).active().registered_under_age()


def alerts_badge(request) -> int:
    """Menu badge: alerts in reach (one query)."""
    today = timezone.localdate()
    expiring = CareAgreement.objects.expiring(today).filter(elder=OuterRef("pk"))
    under_age = Elder.objects.registered_under_age().filter(pk=OuterRef("pk"))
    return (Elder.objects.for_user(request.user).with_valid_agreement(today)
            .annotate(expiring=Exists(expiring), under_age=Exists(under_age))
            .filter(Q(is_disabled_alone=True, has_valid_agreement=False) | Q(expiring=True) | Q(under_age=True),
                    status=ElderStatus.ACTIVE).count())


@scoped_view(roles=STAFF_ROLES)
def alerts(request):
    return render(request, "registry/alerts.html", {
        "alone": list(alert_elders(request.user).select_related("village").order_by("village_id", "name")[:200]),
        "expiring": list(expiring_agreements(request.user).select_related("elder__village").order_by("end_date")[:200]),
        "under_age": list(under_age_elders(request.user).select_related("village").order_by("village_id", "name")[:200]),
        "panels": alert_panels(request),
    })


class TelRedirect(HttpResponseRedirect):
    """A redirect to a tel: link (Django's redirects allow http, https and ftp only)."""

    allowed_schemes = ["tel"]


@scoped_view(roles=READ_ROLES)
def call(request, kind, pk, index=0):
    """Tap to call from a list that shows phones masked (健康管理): the number is looked up in the
    user's scope, the reveal recorded (kind reveal, field phone), and the phone's dialer opened by
    a redirect to tel:. Out of reach, or no such number: 404, nothing recorded."""
    if kind == "elder":
        obj = get_object_or_404(Elder.objects.for_user(request.user).only("pk", "village_id", "phones"), pk=pk)
        phones = obj.phones or []
    elif kind == "guardian":
        obj = get_object_or_404(Guardian.objects.for_user(request.user).only("pk", "village_id", "phone"), pk=pk)
        phones = [obj.phone] if obj.phone else []
    else:
        raise Http404
    if index >= len(phones):
        raise Http404
    number = "".join(ch for ch in phones[index] if ch.isdigit() or ch in "+#,;")
    record_access(user=request.user, kind=AccessEventKind.REVEAL, obj=obj, area_code=obj.village_id, field="phone",
                  detail={"action": "call", "from": request.GET.get("from", "")[:40]})
    response = TelRedirect(f"tel:{number}")
    response["Cache-Control"] = "no-store, private"
    return response
