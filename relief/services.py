"""State changes of risk assessments and relief cases: each one transaction, scope re-checked,
keyword-only `acting_user`, a CaseEvent row per step and the notifier called on commit.

Who does what (docs/relief.md has the same table for users):

  step                         from → to                      who
  report (上报)                 — → 已上报                      village staff (own village), town staff
  return (退回补充)             已上报 → 退回补充                town staff; a reason is required
  resubmit (补充后重新上报)      退回补充 → 已上报                village staff of the case's village, town staff
  accept (受理)                 已上报 → 乡镇已受理              town staff
  refer (转办)                  乡镇已受理 → 已转办              town staff; one or more departments of the town
  receive (部门接收)            已转办 → 部门已接收              an officer of a department the case is referred to
  start (开始处置)              部门已接收 → 处置中              an officer of that department, after receiving
  close_referral (部门办结)     处置中 → 已办结 (last referral)   an officer of that department; a result is required
  close (乡镇办结)              处置中 → 已办结                  town staff; an outcome is required

Closing: each department closes its own referral with its result; when the last open
referral is closed the case is 已办结 and its outcome lists every department's result. Town
staff may close a case in 处置中 themselves (outcome required), which also closes referrals
still open. Receipt and start by a second department record a timeline row without moving
the case (it already moved with the first).
"""


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.choices import REFERRAL_ROLES, UserRole
from eldercare.models import Department
from eldercare.scoping import ensure_in_scope
from registry.choices import ElderRiskLevel, ElderStatus
from registry.models import Elder
from relief.choices import CaseEventAction, ReliefCaseStatus, ReliefCaseType, ReliefCaseUrgency
from relief.models import CaseEvent, Referral, ReliefCase, RiskAssessment
from relief.notifiers import notify
from relief.risk import propose_assessment

S = ReliefCaseStatus

# The workflow: from each status, the statuses a case may move to. Anything else raises.
TRANSITIONS = {
    S.REPORTED: {S.ACCEPTED, S.RETURNED},
    S.RETURNED: {S.REPORTED},
    S.ACCEPTED: {S.REFERRED},
    S.REFERRED: {S.RECEIVED},
    S.RECEIVED: {S.IN_PROGRESS},
    S.IN_PROGRESS: {S.CLOSED},
    S.CLOSED: set(),
}

# Which roles may take each step (superusers may take any).
ACTION_ROLES = {
    CaseEventAction.REPORT: {UserRole.VILLAGE, UserRole.TOWN},
    CaseEventAction.RETURN: {UserRole.TOWN},
    CaseEventAction.RESUBMIT: {UserRole.VILLAGE, UserRole.TOWN},
    CaseEventAction.ACCEPT: {UserRole.TOWN},
    CaseEventAction.REFER: {UserRole.TOWN},
    # Department officers and clinic staff (REFERRAL_ROLES), each on their own department's referral.
    CaseEventAction.RECEIVE: set(REFERRAL_ROLES),
    CaseEventAction.START: set(REFERRAL_ROLES),
    CaseEventAction.CLOSE_REFERRAL: set(REFERRAL_ROLES),
    CaseEventAction.CLOSE: {UserRole.TOWN},
}
ASSESSOR_ROLES = {UserRole.VILLAGE, UserRole.TOWN}


class IllegalTransition(ValidationError):
    """A step the workflow does not allow from the case's current status."""


class ActionNotAllowed(PermissionDenied):
    """The acting user's role (or department) may not take this step; views answer 404."""


def may(user, action) -> bool:
    return user.is_superuser or user.role in ACTION_ROLES[action]


def _check_role(user, action):
    if not may(user, action):
        raise ActionNotAllowed(f"{user} may not {action}")


def _required(value, field_label):
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("请填写%s。") % field_label)
    return value


def _locked(case, user) -> ReliefCase:
    """The case row, locked for this transaction and re-checked against the user's reach."""
    ensure_in_scope(case, user)
    return ReliefCase.objects.select_for_update().get(pk=case.pk)


def _event(case, *, action, from_status, to_status, actor, note="", referral=None, at=None) -> CaseEvent:
    event = CaseEvent.objects.create(case=case, referral=referral, action=action, from_status=from_status,
                                     to_status=to_status, actor=actor, note=note, at=at or timezone.now())
    transaction.on_commit(lambda: notify(event))
    return event


def set_status(case, to_status, *, action, acting_user, note="", referral=None, **fields) -> CaseEvent:
    """Move `case` to `to_status` if the transition map allows it, with a timeline row."""
    if to_status not in TRANSITIONS[case.status]:
        raise IllegalTransition(_("个案当前为“%(from)s”，不能变为“%(to)s”。") % {
            "from": S(case.status).label, "to": S(to_status).label})
    from_status = case.status
    case.status = to_status
    for name, value in fields.items():
        setattr(case, name, value)
    case.save(update_fields=["status", *fields])
    return _event(case, action=action, from_status=from_status, to_status=to_status, actor=acting_user,
                  note=note, referral=referral)


def _request_urgent_visit(elder, *, reason, acting_user):
    # The visits app schedules a visit within the town's time limit (24 h unless the town set
    # another) after a special situation; relief works without it.
    try:
        from visits.services import request_urgent_visit
    except ImportError:
        return None
    return request_urgent_visit(elder, reason=reason, acting_user=acting_user)


@transaction.atomic
def report_case(elder, *, case_type, urgency, narrative, acting_user, source_visit_id=None,
                source_supervision=None, submission_key=None) -> ReliefCase:
    """Report a special situation of `elder` (已上报); asks the visits app for a visit within 24 h.

    Idempotent on `submission_key` (the report form's one-time key): the same key again (a
    retry, a double tap, the phone's outbox sending after a lost answer) returns the case
    already stored, with `case.created` False; a new case has `case.created` True.
    """
    _check_role(acting_user, CaseEventAction.REPORT)
    ensure_in_scope(elder, acting_user)
    if submission_key is not None:
        existing = _case_with_key(submission_key, elder, acting_user)
        if existing is not None:
            return existing
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(elder.off_register_reason)
    if case_type not in ReliefCaseType.values:
        raise ValidationError(_("请选择情况类型。"))
    if urgency not in ReliefCaseUrgency.values:
        raise ValidationError(_("请选择紧急程度。"))
    narrative = _required(narrative, _("情况说明"))
    now = timezone.now()
    case = ReliefCase(
        elder=elder, village_id=elder.village_id, case_type=case_type, urgency=urgency, narrative=narrative,
        reported_by=acting_user, reported_at=now, submitted_at=now, source_visit_id=source_visit_id,
        source_supervision=source_supervision, submission_key=submission_key)
    try:
        with transaction.atomic():  # savepoint: a concurrent twin with the same key makes only this insert fail
            case.save()
    except IntegrityError:
        existing = submission_key and _case_with_key(submission_key, elder, acting_user)
        if not existing:
            raise
        return existing
    case.created = True
    ensure_in_scope(case, acting_user)
    _event(case, action=CaseEventAction.REPORT, from_status="", to_status=S.REPORTED, actor=acting_user, at=now)
    _request_urgent_visit(elder, reason=_("特殊情况：%s") % ReliefCaseType(case_type).label, acting_user=acting_user)
    return case


def _case_with_key(submission_key, elder, acting_user) -> ReliefCase | None:
    """The case already stored under this one-time key (created False), if any. A key is one
    report of one elder: the same key for another elder is a client error, not a duplicate."""
    case = ReliefCase.objects.filter(submission_key=submission_key).first()
    if case is None:
        return None
    if case.elder_id != elder.pk:
        raise ValidationError(_("提交编号已用于另一位老人的上报，请重新填写。"))
    ensure_in_scope(case, acting_user)
    case.created = False
    return case


@transaction.atomic
def return_case(case, *, reason, acting_user) -> ReliefCase:
    """Send a report back to the village for more information (退回补充); the reason is required."""
    _check_role(acting_user, CaseEventAction.RETURN)
    case = _locked(case, acting_user)
    reason = _required(reason, _("退回理由"))
    set_status(case, S.RETURNED, action=CaseEventAction.RETURN, acting_user=acting_user, note=reason)
    return case


@transaction.atomic
def resubmit_case(case, *, supplement, acting_user) -> ReliefCase:
    """The village adds what was asked for and reports again (the acceptance clock restarts)."""
    _check_role(acting_user, CaseEventAction.RESUBMIT)
    case = _locked(case, acting_user)
    supplement = _required(supplement, _("补充说明"))
    now = timezone.now()
    narrative = f"{case.narrative}\n\n【{timezone.localtime(now):%Y-%m-%d %H:%M} 补充】{supplement}"
    set_status(case, S.REPORTED, action=CaseEventAction.RESUBMIT, acting_user=acting_user,
               submitted_at=now, narrative=narrative)
    return case


@transaction.atomic
def accept_case(case, *, note="", acting_user) -> ReliefCase:
    """The town accepts a report (乡镇已受理); the resolution clock starts."""
    _check_role(acting_user, CaseEventAction.ACCEPT)
    case = _locked(case, acting_user)
    set_status(case, S.ACCEPTED, action=CaseEventAction.ACCEPT, acting_user=acting_user, note=note.strip(),
               accepted_at=timezone.now())
    return case


@transaction.atomic
def refer_case(case, *, departments, note="", acting_user) -> list[Referral]:
    """Refer an accepted case to one or more departments of its town (已转办)."""
    _check_role(acting_user, CaseEventAction.REFER)
    case = _locked(case, acting_user)
    departments = list(departments)
    if not departments:
        raise ValidationError(_("请至少选择一个转办部门。"))
    town_code = case.village_id[:9]
    allowed = set(Department.objects.for_user(acting_user).filter(town_id=town_code, active=True)
                  .values_list("pk", flat=True))
    if any(d.pk not in allowed for d in departments):
        raise ValidationError(_("只能转办给本乡镇在用的部门。"))
    if case.status != S.ACCEPTED:
        set_status(case, S.REFERRED, action=CaseEventAction.REFER, acting_user=acting_user)  # raises
    now = timezone.now()
    referrals = [Referral.objects.create(case=case, department=d, referred_at=now, referred_by=acting_user)
                 for d in departments]
    # One timeline row per department (a department reads only its own rows); the first moves the case.
    for n, referral in enumerate(referrals):
        text = (_("转办至%s") % referral.department) + (f"：{note.strip()}" if note.strip() else "")
        if n == 0:
            set_status(case, S.REFERRED, action=CaseEventAction.REFER, acting_user=acting_user, note=text,
                       referral=referral, referred_at=now)
        else:
            _event(case, action=CaseEventAction.REFER, from_status=S.REFERRED, to_status=S.REFERRED,
                   actor=acting_user, note=text, referral=referral)
    return referrals


def _locked_referral(referral, user, action) -> tuple[Referral, ReliefCase]:
    _check_role(user, action)
    if not user.is_superuser and referral.department_id != user.department_id:
        raise ActionNotAllowed("not this department's referral")
    case = _locked(referral.case, user)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    return referral, case


# The forward order of the statuses a referral step can move a case through.
ORDER = [S.REPORTED, S.ACCEPTED, S.REFERRED, S.RECEIVED, S.IN_PROGRESS, S.CLOSED]


def _referral_step(case, referral, to_status, *, action, acting_user, note):
    """Move the case when this department is the first to take the step; when another
    department already moved it there (or beyond), only write this department's timeline row."""
    if case.status == S.CLOSED or referral.closed_at:
        raise IllegalTransition(_("个案已办结。"))
    if case.status in ORDER and ORDER.index(case.status) >= ORDER.index(to_status):
        return _event(case, action=action, from_status=case.status, to_status=case.status, actor=acting_user,
                      note=note, referral=referral)
    return set_status(case, to_status, action=action, acting_user=acting_user, note=note, referral=referral)


@transaction.atomic
def receive_referral(referral, *, note="", acting_user) -> Referral:
    """A department confirms it has received a referred case (部门已接收)."""
    referral, case = _locked_referral(referral, acting_user, CaseEventAction.RECEIVE)
    if referral.received_at:
        raise IllegalTransition(_("本部门已接收过这个个案。"))
    _referral_step(case, referral, S.RECEIVED, action=CaseEventAction.RECEIVE, acting_user=acting_user,
                   note=note.strip())
    referral.received_at, referral.received_by = timezone.now(), acting_user
    referral.save(update_fields=["received_at", "received_by"])
    return referral


@transaction.atomic
def start_referral(referral, *, note="", acting_user) -> Referral:
    """A department starts acting on a case it has received (处置中)."""
    referral, case = _locked_referral(referral, acting_user, CaseEventAction.START)
    if not referral.received_at:
        raise IllegalTransition(_("请先接收个案，再开始处置。"))
    if referral.started_at:
        raise IllegalTransition(_("本部门已开始处置。"))
    _referral_step(case, referral, S.IN_PROGRESS, action=CaseEventAction.START, acting_user=acting_user,
                   note=note.strip())
    referral.started_at = timezone.now()
    referral.save(update_fields=["started_at"])
    return referral


@transaction.atomic
def close_referral(referral, *, result, acting_user) -> Referral:
    """A department records its result; the last open referral closes the case (已办结)."""
    referral, case = _locked_referral(referral, acting_user, CaseEventAction.CLOSE_REFERRAL)
    result = _required(result, _("办理结果"))
    if referral.closed_at or case.status == S.CLOSED:
        raise IllegalTransition(_("本部门已办结这个个案。"))
    if not referral.started_at:
        raise IllegalTransition(_("请先开始处置，再办结。"))
    now = timezone.now()
    referral.closed_at, referral.closed_by, referral.result = now, acting_user, result
    referral.save(update_fields=["closed_at", "closed_by", "result"])
    others_open = case.referrals.filter(closed_at__isnull=True).exclude(pk=referral.pk).exists()
    if others_open:
        _event(case, action=CaseEventAction.CLOSE_REFERRAL, from_status=case.status, to_status=case.status,
               actor=acting_user, note=result, referral=referral)
    else:
        results = case.referrals.select_related("department").order_by("referred_at", "id")
        outcome = "；".join(f"{r.department}：{r.result}" for r in results)
        set_status(case, S.CLOSED, action=CaseEventAction.CLOSE, acting_user=acting_user, note=result,
                   referral=referral, outcome=outcome, closed_at=now)
    return referral


@transaction.atomic
def close_case(case, *, outcome, acting_user) -> ReliefCase:
    """Town staff close a case in 处置中 with its outcome; referrals still open close with it."""
    _check_role(acting_user, CaseEventAction.CLOSE)
    case = _locked(case, acting_user)
    outcome = _required(outcome, _("办理结果"))
    now = timezone.now()
    set_status(case, S.CLOSED, action=CaseEventAction.CLOSE, acting_user=acting_user, note=outcome,
               outcome=outcome, closed_at=now)
    case.referrals.filter(closed_at__isnull=True).update(closed_at=now, closed_by=acting_user,
                                                         result=_("由乡镇统一办结"))
    return case


# --- Risk assessment ------------------------------------------------------------------------


@transaction.atomic
def confirm_assessment(elder, *, level, adjusted_reason="", acting_user, today=None) -> RiskAssessment:
    """Confirm (or adjust, with a reason) the system's proposal for `elder`, and make it the
    elder's current risk level (Elder.risk_level, read by the visit schedule) in the same step."""
    if not (acting_user.is_superuser or acting_user.role in ASSESSOR_ROLES):
        raise ActionNotAllowed("only village and town staff assess risk")
    ensure_in_scope(elder, acting_user)
    if level not in ElderRiskLevel.values:
        raise ValidationError({"level": _("请选择风险等级。")})
    proposal = propose_assessment(elder, today)
    adjusted_reason = (adjusted_reason or "").strip()
    if level != proposal.level and not adjusted_reason:
        raise ValidationError({"adjusted_reason": _("确认等级与系统建议（%s）不同，请填写调整理由。") % proposal.level_label})
    assessment = RiskAssessment.objects.create(
        elder=elder, version=proposal.version, factors=proposal.factors_json(), score=proposal.score,
        proposed_level=proposal.level, level=level, adjusted_reason=adjusted_reason if level != proposal.level else "",
        assessed_by=acting_user, confirmed_at=timezone.now())
    Elder.objects.filter(pk=elder.pk).update(risk_level=level)
    elder.risk_level = level
    return assessment
