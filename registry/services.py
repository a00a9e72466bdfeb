"""State changes of the register: each a transaction with its own audit trail (pghistory rows).

Keyword-only `acting_user`; every function re-checks that the elder is within the user's reach.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from eldercare.choices import UserRole
from eldercare.scoping import OutOfScope, ensure_in_scope
from registry.choices import DutyFulfilment, ElderStatus
from registry.masking import WRITE_ROLES, has_role
from registry.models import (
    ID_REGISTERED_ELSEWHERE,
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

S = ElderStatus
# The moves an elder's status may make. 死亡 is final; whoever left the register (迁出, 已不属留守,
# 入住养老机构) may come back onto it (在册) or move on.
STATUS_TRANSITIONS = {
    S.ACTIVE: {S.MOVED, S.DECEASED, S.NOT_LEFT_BEHIND, S.INSTITUTION},
    S.MOVED: {S.ACTIVE, S.DECEASED},
    S.NOT_LEFT_BEHIND: {S.ACTIVE, S.MOVED, S.DECEASED, S.INSTITUTION},
    S.INSTITUTION: {S.ACTIVE, S.MOVED, S.DECEASED},
    S.DECEASED: set(),
}

# A lost race on a unique constraint, in the words of the form the user typed into.
CONSTRAINT_MESSAGES = {
    "elder_one_primary_guardian": _("这位老人刚刚已有了另一位主要赡养人（可能是同事同时在登记），请核对后重新提交。"),
    "elder_guardian_unique": _("该赡养人已与这位老人关联。"),
}


def _check_reach(elder: Elder, user) -> None:
    """The register is changed by town and village staff, within their reach (404 otherwise)."""
    if not has_role(user, WRITE_ROLES):
        raise OutOfScope(f"{user} may not change the register")
    ensure_in_scope(elder, user)


def _constraint_error(error: IntegrityError) -> ValidationError:
    """A unique constraint another session won against us, as a plain form error (else re-raise)."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    for constraint, message in CONSTRAINT_MESSAGES.items():
        if constraint == name:
            return ValidationError(message)
    raise error


def id_number_taken(number: str, *, exclude_pk, acting_user) -> ValidationError | None:
    """The error for an ID number already registered, or None. Within reach it links the elder;
    elsewhere it says only that, never where (the page form, the admin and the census import alike)."""
    existing_pk = Elder.objects.filter(id_number=number).exclude(pk=exclude_pk).values_list("pk", flat=True).first()
    if existing_pk is None:
        return None
    if Elder.objects.for_user(acting_user).filter(pk=existing_pk).exists():
        return ValidationError(format_html('{} <a href="{}">{}</a>', _("该身份证号已登记。"),
                                           reverse("registry:elder", args=[existing_pk]), _("查看该老人")))
    return ValidationError(ID_REGISTERED_ELSEWHERE)


def save_elder(elder: Elder, *, acting_user) -> Elder:
    """Register a new elder or store the edits of one (not the status: `change_status`).

    `elder` comes validated from the page form or the admin form; this re-checks the ID number
    and the reach in one transaction. Two sessions registering the same ID at once: the loser
    gets the same form error as if the other had been first (never a 500).
    """
    if not has_role(acting_user, WRITE_ROLES):
        raise OutOfScope(f"{acting_user} may not change the register")
    try:
        with transaction.atomic():
            if elder.pk is not None:
                ensure_in_scope(Elder(pk=elder.pk), acting_user)  # the row as stored is within reach
                # the status and the home change only through change_status, never by an edit
                elder.status, elder.status_changed_on, elder.care_home_id = Elder.objects.values_list(
                    "status", "status_changed_on", "care_home_id").get(pk=elder.pk)
            taken = id_number_taken(elder.id_number, exclude_pk=elder.pk, acting_user=acting_user)
            if taken is not None:
                raise ValidationError({"id_number": taken})
            elder.save()
            ensure_in_scope(elder, acting_user)
    except IntegrityError:
        taken = id_number_taken(elder.id_number, exclude_pk=elder.pk, acting_user=acting_user)
        if taken is None:
            raise
        raise ValidationError({"id_number": taken}) from None
    return elder


@transaction.atomic
def change_status(elder: Elder, *, to_status: str, changed_on, reason: str, acting_user,
                  care_home: CareHome | None = None) -> ElderStatusChange:
    """Move an elder to another status (迁出, 死亡 …) with date and reason, along
    `STATUS_TRANSITIONS`; the history keeps every step.

    入住养老机构 names the home (an active care home within the user's reach) and its date is the
    move-in date; an elder already living in a home may move to another (the same status, a
    different home). Leaving the status clears the home; the history keeps where they lived."""
    _check_reach(elder, acting_user)
    if to_status not in ElderStatus.values:
        raise ValidationError(_("未知的状态。"))
    elder.status, elder.care_home_id, birth_date = (
        Elder.objects.select_for_update().values_list("status", "care_home_id", "birth_date").get(pk=elder.pk))
    institution = to_status == ElderStatus.INSTITUTION
    moving_homes = institution and elder.status == to_status and care_home is not None \
        and care_home.pk != elder.care_home_id
    if to_status == elder.status and not moving_homes:
        raise ValidationError(_("老人已经是“%s”状态。") % ElderStatus(to_status).label)
    if to_status not in STATUS_TRANSITIONS[elder.status] and not moving_homes:
        raise ValidationError(_("“%(from)s”的老人不能变更为“%(to)s”。") % {
            "from": ElderStatus(elder.status).label, "to": ElderStatus(to_status).label})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写状态变更的原因。")})
    if institution:
        _check_care_home(care_home, acting_user)
    elif care_home is not None:
        raise ValidationError({"care_home": _("只有变更为“入住养老机构”时才选择养老机构，请清空或改选状态。")})
    day = _("入住日期") if institution else _("变更日期")
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("%s不能晚于今天。") % day})
    if changed_on < birth_date:
        raise ValidationError({"changed_on": _("%s不能早于老人出生，请核对。") % day})
    change = ElderStatusChange.objects.create(elder=elder, from_status=elder.status, to_status=to_status,
                                              changed_on=changed_on, reason=reason.strip(), care_home=care_home,
                                              changed_by=acting_user)
    Elder.objects.filter(pk=elder.pk).update(status=to_status, status_changed_on=changed_on, care_home=care_home)
    elder.status, elder.status_changed_on, elder.care_home = to_status, changed_on, care_home
    return change


def _check_care_home(care_home, user) -> None:
    """The home of an elder moving into care: chosen, active, and within the user's reach."""
    if care_home is None:
        raise ValidationError({"care_home": _("变更为“入住养老机构”时，请选择入住的养老机构。")})
    if not CareHome.objects.for_user(user).active().filter(pk=care_home.pk).exists():
        raise ValidationError({"care_home": _(
            "“%s”不在您辖区可选的养老机构中（或已停办），请从列表中选择。") % care_home.name})


@transaction.atomic
def save_care_home(home: CareHome, *, acting_user) -> CareHome:
    """Register or correct a care home, in an area the user may change (a town's staff: their
    town and its villages; the county: the county's homes too)."""
    if not has_role(acting_user, (UserRole.TOWN, UserRole.COUNTY)):
        raise OutOfScope(f"{acting_user} may not register care homes")
    if home.pk is not None and not CareHome.objects.writable_by(acting_user).filter(pk=home.pk).exists():
        raise OutOfScope(f"care home {home.pk} is not writable by {acting_user}")
    home.full_clean()
    home.save()
    if not CareHome.objects.writable_by(acting_user).filter(pk=home.pk).exists():
        raise ValidationError({"area": _("只能登记本辖区的养老机构。")})
    return home


@transaction.atomic
def record_contact_event(elder: Elder, *, guardian, kind: str, occurred_on, note: str = "",
                         acting_user) -> ContactEvent:
    """Log that a guardian got in touch with the elder (看望 / 电话 / 视频 / 汇款或物资)."""
    event = ContactEvent(elder=elder, guardian=guardian, kind=kind, occurred_on=occurred_on, note=note,
                         recorded_by=acting_user)
    return save_contact_event(event, acting_user=acting_user)


@transaction.atomic
def save_contact_event(event: ContactEvent, *, acting_user) -> ContactEvent:
    """Store a new or corrected contact event; the guardian must be one of the elder's."""
    _check_reach(event.elder, acting_user)
    if event.pk is not None:
        ensure_in_scope(ContactEvent(pk=event.pk), acting_user)
    else:
        event.recorded_by = acting_user
    if event.guardian_id and not event.elder.guardian_links.filter(guardian_id=event.guardian_id).exists():
        raise ValidationError({"guardian": _("该赡养人不是这位老人的赡养人。")})
    event.full_clean()
    event.save()
    ensure_in_scope(event, acting_user)
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


def link_guardian(elder: Elder, *, relation: str, is_primary: bool = False, guardian: Guardian | None = None,
                  new_guardian: dict | None = None, acting_user) -> ElderGuardian:
    """Link a guardian to an elder: an existing one (a son supporting both parents is one guardian,
    linked twice) or a new one registered in the elder's village. A new primary replaces the old.

    The elder's row is locked, so two sessions linking at once take turns; a constraint lost all
    the same is a form error, not a 500."""
    try:
        with transaction.atomic():
            return _link_guardian(elder, relation=relation, is_primary=is_primary, guardian=guardian,
                                  new_guardian=new_guardian, acting_user=acting_user)
    except IntegrityError as error:
        raise _constraint_error(error) from None


def _link_guardian(elder, *, relation, is_primary, guardian, new_guardian, acting_user):
    _check_reach(elder, acting_user)
    Elder.objects.select_for_update().filter(pk=elder.pk).values_list("pk").get()
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


def update_guardian_link(link: ElderGuardian, *, relation: str, is_primary: bool, acting_user) -> ElderGuardian:
    """Change how a linked guardian is related to the elder, or make them the primary one."""
    try:
        with transaction.atomic():
            _check_reach(link.elder, acting_user)
            Elder.objects.select_for_update().filter(pk=link.elder_id).values_list("pk").get()
            if is_primary:
                ElderGuardian.objects.filter(elder_id=link.elder_id, is_primary=True).exclude(pk=link.pk).update(
                    is_primary=False)
            link.relation, link.is_primary = relation, is_primary
            link.full_clean(exclude=["elder", "guardian"])
            link.save(update_fields=["relation", "is_primary"])
            return link
    except IntegrityError as error:
        raise _constraint_error(error) from None


@transaction.atomic
def save_guardian(guardian: Guardian, *, acting_user) -> Guardian:
    """Register or correct a guardian of a village within reach."""
    if not has_role(acting_user, WRITE_ROLES):
        raise OutOfScope(f"{acting_user} may not change the register")
    if guardian.pk is not None:
        ensure_in_scope(Guardian(pk=guardian.pk), acting_user)
    guardian.full_clean()
    guardian.save()
    ensure_in_scope(guardian, acting_user)
    return guardian


@transaction.atomic
def add_care_agreement(elder: Elder, *, agreement: CareAgreement, acting_user) -> CareAgreement:
    """File an entrusted-care agreement (委托照顾协议) for an elder, with its scanned document."""
    agreement.elder = elder
    agreement.created_by = acting_user
    return save_care_agreement(agreement, acting_user=acting_user)


@transaction.atomic
def save_care_agreement(agreement: CareAgreement, *, acting_user) -> CareAgreement:
    """Store a new or corrected agreement; its 委托人 must be one of the elder's guardians."""
    _check_reach(agreement.elder, acting_user)
    if agreement.pk is not None:
        ensure_in_scope(CareAgreement(pk=agreement.pk), acting_user)
    elif agreement.created_by_id is None:
        agreement.created_by = acting_user
    if agreement.guardian_id and not agreement.elder.guardian_links.filter(guardian_id=agreement.guardian_id).exists():
        raise ValidationError({"guardian": _("委托人必须是这位老人的赡养人。")})
    agreement.full_clean()
    agreement.save()
    ensure_in_scope(agreement, acting_user)
    return agreement
