"""State changes of the register: each a transaction with its own audit trail (pghistory rows).

Keyword-only `acting_user`; every function re-checks that the elder is within the user's reach.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.scoping import ensure_in_scope
from registry.choices import DutyFulfilment, ElderStatus
from registry.models import (
    CareAgreement,
    ContactEvent,
    DutyObservation,
    Elder,
    ElderGuardian,
    ElderStatusChange,
    Guardian,
    Supervision,
)


def _check_reach(elder: Elder, user) -> None:
    ensure_in_scope(elder, user)


@transaction.atomic
def change_status(elder: Elder, *, to_status: str, changed_on, reason: str, acting_user) -> ElderStatusChange:
    """Move an elder to another status (迁出, 死亡 …) with date and reason; the history keeps every step."""
    _check_reach(elder, acting_user)
    if to_status not in ElderStatus.values:
        raise ValidationError(_("未知的状态。"))
    if to_status == elder.status:
        raise ValidationError(_("老人已经是“%s”状态。") % ElderStatus(to_status).label)
    if not reason.strip():
        raise ValidationError(_("请填写状态变更的原因。"))
    if changed_on > timezone.localdate():
        raise ValidationError(_("变更日期不能晚于今天。"))
    change = ElderStatusChange.objects.create(elder=elder, from_status=elder.status, to_status=to_status,
                                              changed_on=changed_on, reason=reason.strip(), changed_by=acting_user)
    Elder.objects.filter(pk=elder.pk).update(status=to_status, status_changed_on=changed_on)
    elder.status, elder.status_changed_on = to_status, changed_on
    return change


@transaction.atomic
def record_contact_event(elder: Elder, *, guardian, kind: str, occurred_on, note: str = "",
                         acting_user) -> ContactEvent:
    """Log that a guardian got in touch with the elder (看望 / 电话 / 视频 / 汇款或物资)."""
    _check_reach(elder, acting_user)
    event = ContactEvent(elder=elder, guardian=guardian, kind=kind, occurred_on=occurred_on, note=note,
                         recorded_by=acting_user)
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def record_duty_observation(elder: Elder, *, guardian, duty: str, fulfilment: str, observed_on, note: str = "",
                            acting_user) -> DutyObservation:
    """Record how a guardian fulfils one of the three duties (经济供养 / 生活照料 / 精神慰藉)."""
    _check_reach(elder, acting_user)
    if not elder.guardian_links.filter(guardian=guardian).exists():
        raise ValidationError(_("该赡养人不是这位老人的赡养人。"))
    observation = DutyObservation(elder=elder, guardian=guardian, duty=duty, fulfilment=fulfilment,
                                  observed_on=observed_on, note=note, observed_by=acting_user)
    observation.full_clean()
    observation.save()
    return observation


@transaction.atomic
def record_supervision(elder: Elder, *, guardian, supervised_on, method: str, result: str,
                       guardian_response: str = "", observation=None, acting_user) -> Supervision:
    """Record a supervision (督促) of a guardian; a result of 拒不履行 is flagged for a relief case."""
    _check_reach(elder, acting_user)
    if observation is not None and observation.fulfilment == DutyFulfilment.FULFILLED:
        raise ValidationError(_("该义务已履行，无需督促。"))
    supervision = Supervision(elder=elder, guardian=guardian, supervised_on=supervised_on, method=method,
                              result=result, guardian_response=guardian_response, observation=observation,
                              recorded_by=acting_user)
    supervision.full_clean()
    supervision.save()
    return supervision


@transaction.atomic
def link_guardian(elder: Elder, *, relation: str, is_primary: bool = False, guardian: Guardian | None = None,
                  new_guardian: dict | None = None, acting_user) -> ElderGuardian:
    """Link a guardian to an elder: an existing one (a son supporting both parents is one guardian,
    linked twice) or a new one registered in the elder's village. A new primary replaces the old."""
    _check_reach(elder, acting_user)
    if guardian is None:
        if not new_guardian or not new_guardian.get("name"):
            raise ValidationError(_("请选择已登记的赡养人，或填写新赡养人的姓名。"))
        guardian = Guardian(village_id=elder.village_id, **new_guardian)
        guardian.full_clean()
        guardian.save()
    elif not Guardian.objects.for_user(acting_user).filter(pk=guardian.pk).exists():
        raise ValidationError(_("找不到该赡养人。"))
    if ElderGuardian.objects.filter(elder=elder, guardian=guardian).exists():
        raise ValidationError(_("该赡养人已与这位老人关联。"))
    if is_primary:
        ElderGuardian.objects.filter(elder=elder, is_primary=True).update(is_primary=False)
    link = ElderGuardian.objects.create(elder=elder, guardian=guardian, relation=relation, is_primary=is_primary)
    ensure_in_scope(guardian, acting_user)
    return link


@transaction.atomic
def add_care_agreement(elder: Elder, *, agreement: CareAgreement, acting_user) -> CareAgreement:
    """File an entrusted-care agreement (委托照顾协议) for an elder, with its scanned document."""
    _check_reach(elder, acting_user)
    if agreement.guardian_id and not elder.guardian_links.filter(guardian_id=agreement.guardian_id).exists():
        raise ValidationError(_("委托人必须是这位老人的赡养人。"))
    agreement.elder = elder
    agreement.created_by = acting_user
    agreement.full_clean()
    agreement.save()
    return agreement
