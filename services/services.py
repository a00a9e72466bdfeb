"""State changes of the services app: each one transaction, scope re-checked for the acting user."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.scoping import ensure_in_scope
from registry.models import Elder
from services.models import RECENT_SERVICE_DAYS, HealthCheck, ServiceItem, ServiceRecord, eligibility_q


@transaction.atomic
def record_group_service(*, item, elders, served_on, duration_minutes, provider=None, volunteer=None, note="",
                         acting_user) -> list[ServiceRecord]:
    """Record one service (e.g. a group activity) for every attending elder: one row each, all or nothing.

    Every elder, the item, the provider and the volunteer must be within the acting user's reach;
    anything out of reach raises and nothing is stored.
    """
    elders = list(elders)
    if not elders:
        raise ValidationError(_("请至少勾选一位参加的老人。"))
    ids = [e.pk for e in elders]
    if Elder.objects.for_user(acting_user).filter(pk__in=ids).count() != len(set(ids)):
        raise ValidationError(_("所选老人中有不在您管辖范围内的人员。"))
    ensure_in_scope(item, acting_user)
    if provider is not None:
        ensure_in_scope(provider, acting_user)
    if volunteer is not None:
        ensure_in_scope(volunteer, acting_user)
    records = [ServiceRecord(elder_id=pk, item=item, provider=provider, volunteer=volunteer, served_on=served_on,
                             duration_minutes=duration_minutes, note=note, recorded_by=acting_user)
               for pk in dict.fromkeys(ids)]
    for record in records:
        record.full_clean(exclude=["elder", "item", "provider", "volunteer", "recorded_by"])
    return ServiceRecord.objects.bulk_create(records)


@transaction.atomic
def record_health_check(*, check: HealthCheck, acting_user) -> HealthCheck:
    """Store a health check after the plausibility checks; the elder must be within reach."""
    ensure_in_scope(check.elder, acting_user)
    check.recorded_by = acting_user
    check.full_clean()
    check.save()
    ensure_in_scope(check, acting_user)
    return check


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
