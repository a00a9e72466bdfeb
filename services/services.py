"""State changes of the services app: each one transaction, scope re-checked for the acting user."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.choices import UserRole
from eldercare.scoping import ensure_in_scope
from registry.choices import ElderStatus
from registry.models import Elder
from services.choices import ServiceRequestSource, ServiceRequestStatus
from services.models import (
    RECENT_SERVICE_DAYS,
    HealthCheck,
    ServiceItem,
    ServiceRecord,
    ServiceRequest,
    eligibility_q,
)

REQUEST_ROLES = (UserRole.VILLAGE, UserRole.TOWN)


@transaction.atomic
def record_health_check(*, check: HealthCheck, acting_user) -> HealthCheck:
    """Store a new or corrected health check after the plausibility checks; the elder must be
    within reach (a correction keeps who recorded the check)."""
    ensure_in_scope(check.elder, acting_user)
    if check.pk is not None:
        ensure_in_scope(HealthCheck(pk=check.pk), acting_user)
    else:
        check.recorded_by = acting_user
    check.full_clean()
    check.save()
    ensure_in_scope(check, acting_user)
    return check


@transaction.atomic
def save_service_record(record: ServiceRecord, *, acting_user) -> ServiceRecord:
    """Store one new or corrected service record: the elder, the item, the provider and the
    volunteer within reach, the minutes in range (ServiceRecord.clean). The one write path of
    service records: the admin, the group entry (one call per elder, in the page's transaction)
    and the closing of a service request all store through it."""
    if record.pk is not None:
        ensure_in_scope(ServiceRecord(pk=record.pk), acting_user)
    else:
        record.recorded_by = acting_user
    for related in (record.elder, record.item, record.provider, record.volunteer):
        if related is not None:
            ensure_in_scope(related, acting_user)
    record.full_clean()
    record.save()
    ensure_in_scope(record, acting_user)
    return record


def items_not_yet_received(elder, today=None):
    """Published catalogue items of the elder's town this elder is eligible for and has had no
    service record of in the last RECENT_SERVICE_DAYS days (one query)."""
    today = today or timezone.localdate()
    recent = ServiceRecord.objects.filter(elder_id=elder.pk, item_id=OuterRef("pk"),
                                          served_on__gt=today - timedelta(days=RECENT_SERVICE_DAYS))
    items = list(ServiceItem.objects.filter(town_id=elder.village_id[:9], published=True)
                 .annotate(received=Exists(recent)).filter(received=False))
    return [item for item in items if item.is_eligible(elder)]


def eligible_elders_for(item, elders):
    """Elders (queryset with flags) eligible for `item`: the database twin of `ServiceItem.is_eligible`."""
    return elders.filter(eligibility_q(item.eligibility))


# --- Service requests: a need → a request → a provider → a service record ----------------------


def _check_request_role(user, roles=REQUEST_ROLES):
    if not (user.is_superuser or user.role in roles):
        raise PermissionDenied(_("只有村(居)委会和乡镇民政办可以处理服务申请。"))


@transaction.atomic
def request_service(elder, *, need: str, source: str, acting_user, requested_on=None,
                    source_visit_id=None) -> ServiceRequest:
    """A need that must reach a provider (申请服务 on a visit, a stated need, a phone call).

    With `source_visit_id` (a visit marked 申请服务, when recorded or when edited) it is made
    once: the visit's request already stored is returned as it is."""
    _check_request_role(acting_user)
    ensure_in_scope(elder, acting_user)
    if source_visit_id is not None:
        existing = ServiceRequest.objects.filter(source_visit_id=source_visit_id).first()
        if existing is not None:
            return existing
    need = (need or "").strip()
    if not need:
        raise ValidationError({"need": _("请写明老人需要什么服务。")})
    request = ServiceRequest(elder=elder, source=source, need=need[:300], source_visit_id=source_visit_id,
                             requested_on=requested_on or timezone.localdate(), requested_by=acting_user)
    request.full_clean(exclude=["elder", "requested_by"])
    request.save()
    return request


@transaction.atomic
def requests_from_stated_needs(*, acting_user) -> int:
    """Turn every 在册 elder's stated need (Elder.needs) within reach into a service request,
    once: an elder whose stated need already has a request gets no second one. Returns how many."""
    _check_request_role(acting_user)
    asked = ServiceRequest.objects.filter(elder=OuterRef("pk"), source=ServiceRequestSource.STATED_NEED)
    elders = (Elder.objects.for_user(acting_user).filter(status=ElderStatus.ACTIVE).exclude(needs="")
              .annotate(asked=Exists(asked)).filter(asked=False).values_list("pk", "needs"))
    today = timezone.localdate()
    rows = [ServiceRequest(elder_id=pk, source=ServiceRequestSource.STATED_NEED, need=needs.strip()[:300],
                           requested_on=today, requested_by=acting_user) for pk, needs in elders if needs.strip()]
    ServiceRequest.objects.bulk_create(rows)
    return len(rows)


def matching_items(request) -> list[ServiceItem]:
    """The published catalogue items of the elder's town this elder is eligible for (the
    catalogue's eligibility: ServiceItem.is_eligible), with their providers."""
    elder = Elder.objects.get(pk=request.elder_id)  # with the flag annotations
    items = (ServiceItem.objects.filter(town_id=elder.village_id[:9], published=True)
             .prefetch_related("providers").order_by("category", "name"))
    return [item for item in items if item.is_eligible(elder)]


def _locked_request(request, user, statuses) -> ServiceRequest:
    ensure_in_scope(request.elder, user)
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in statuses:
        raise ValidationError(_("这条服务申请现在是“%s”，不能再做这一步。") % request.get_status_display())
    return request


@transaction.atomic
def assign_service_request(request, *, item, provider, acting_user) -> ServiceRequest:
    """The town matches the request to a catalogue item the elder is eligible for and assigns a
    provider of that item (已派单); an assigned request may be reassigned."""
    _check_request_role(acting_user, (UserRole.TOWN,))
    request = _locked_request(request, acting_user, (ServiceRequestStatus.OPEN, ServiceRequestStatus.ASSIGNED))
    if item.pk not in {i.pk for i in matching_items(request)}:
        raise ValidationError({"item": _("老人不符合“%s”的服务对象条件，或该项目未发布，请换一个项目。") % item.name})
    if provider is None or not item.providers.filter(pk=provider.pk, active=True).exists():
        raise ValidationError({"provider": _("请从“%s”的服务提供方中选择一个。") % item.name})
    request.item, request.provider, request.assigned_on = item, provider, timezone.localdate()
    request.status = ServiceRequestStatus.ASSIGNED
    request.save(update_fields=["item", "provider", "assigned_on", "status"])
    return request


@transaction.atomic
def close_service_request(request, *, served_on, duration_minutes, note="", acting_user) -> ServiceRecord:
    """The provider served the elder: a service record of the assigned item closes the request."""
    _check_request_role(acting_user)
    request = _locked_request(request, acting_user, (ServiceRequestStatus.ASSIGNED,))
    record = save_service_record(ServiceRecord(elder=request.elder, item=request.item, provider=request.provider,
                                              served_on=served_on, duration_minutes=duration_minutes, note=note),
                                 acting_user=acting_user)
    request.record, request.closed_on, request.status = record, served_on, ServiceRequestStatus.CLOSED
    request.save(update_fields=["record", "closed_on", "status"])
    return record


@transaction.atomic
def decline_service_request(request, *, reason: str, acting_user) -> ServiceRequest:
    """The town decides not to serve (no item fits, the elder withdrew …), with the reason."""
    _check_request_role(acting_user, (UserRole.TOWN,))
    request = _locked_request(request, acting_user, (ServiceRequestStatus.OPEN, ServiceRequestStatus.ASSIGNED))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明不予服务的原因。")})
    request.decline_reason, request.closed_on = reason[:300], timezone.localdate()
    request.status = ServiceRequestStatus.DECLINED
    request.save(update_fields=["decline_reason", "closed_on", "status"])
    return request
