"""State changes of patrol visits: each a transaction, re-checking the acting user's reach.

Keyword-only `acting_user`. The audit trail is the pghistory rows of the tracked models.
"""

import io
import uuid
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.choices import UserRole
from eldercare.scoping import OutOfScope, ensure_in_scope
from registry.services import record_duty_observation, record_supervision
from visits.choices import FamilyNoticeMethod, FamilyNoticeStatus
from visits.models import (
    FUTURE_TOLERANCE,
    LATE_ENTRY_DAYS,
    FamilyNotice,
    UrgentVisitRequest,
    Visit,
    VisitPolicy,
)

PHOTO_MAX_SIDE = 1600
PHOTO_QUALITY = 82
RECORDING_ROLES = (UserRole.VILLAGE, UserRole.TOWN)
# Fields of a Visit a caller may set (the rest are the service's business).
VISIT_FIELDS = {
    "visited_at", "method", "met_with", "health_check", "mental_check", "housing_check", "fire_check",
    "weather_check", "diet_check", "hygiene_check", "family_check", "checklist_note", "needs_raised", "notes",
    "photo", "outcome", "notify_family", "report_to_town", "request_service",
}


def refresh_visit_state(elder_ids=None) -> None:
    """Recompute `ElderVisitState` for these elders (all when None) from their visits and open
    urgent requests. Locks the elders first, so concurrent visits to one elder are serialised
    and the statement that follows sees every committed visit."""
    from django.db import connection

    where = "" if elder_ids is None else "WHERE e.id = ANY(%s)"
    params = [] if elder_ids is None else [list(elder_ids)]
    with connection.cursor() as cursor:
        if elder_ids is not None:
            cursor.execute("SELECT id FROM registry_elder WHERE id = ANY(%s) ORDER BY id FOR UPDATE", params)
        cursor.execute(f"""
            INSERT INTO visits_eldervisitstate (elder_id, last_visit_at, last_home_visit_at, urgent_due_by)
            SELECT e.id,
                   (SELECT MAX(v.visited_at) FROM visits_visit v WHERE v.elder_id = e.id),
                   (SELECT MAX(v.visited_at) FROM visits_visit v WHERE v.elder_id = e.id AND v.method = 'home'),
                   (SELECT MIN(u.due_by) FROM visits_urgentvisitrequest u
                     WHERE u.elder_id = e.id AND u.fulfilled_by_id IS NULL)
              FROM registry_elder e {where}
            ON CONFLICT (elder_id) DO UPDATE SET last_visit_at = EXCLUDED.last_visit_at,
                last_home_visit_at = EXCLUDED.last_home_visit_at, urgent_due_by = EXCLUDED.urgent_due_by
        """, params)


def _check_may_record(elder, user):
    if not (user.is_superuser or user.role in RECORDING_ROLES):
        raise PermissionDenied(_("只有村(居)委会和乡镇民政办可以记录巡访。"))
    ensure_in_scope(elder, user)


def validate_visited_at(visited_at: datetime, now: datetime | None = None) -> None:
    """A visit may be entered late (up to 30 days) but never in the future."""
    now = now or timezone.now()
    if visited_at is None:
        raise ValidationError({"visited_at": _("请填写巡访时间。")})
    if visited_at > now + FUTURE_TOLERANCE:
        raise ValidationError({"visited_at": _(
            "巡访时间不能晚于现在（%(now)s）。请改成实际巡访的时间。") % {
            "now": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")}})
    if visited_at < now - timedelta(days=LATE_ENTRY_DAYS):
        raise ValidationError({"visited_at": _(
            "只能补录 %(days)s 天内的巡访。更早的记录请联系乡镇民政办。") % {"days": LATE_ENTRY_DAYS}})


def resize_photo(upload) -> ContentFile:
    """The uploaded image as a JPEG of at most 1600 px on its longer side, EXIF rotation applied
    and metadata (GPS position!) dropped. Raises ValidationError when it is not an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"photo": _("照片无法识别。请重新拍照，或选择 JPG / PNG 格式的图片。")}) from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


@transaction.atomic
def record_visit(elder, *, acting_user, submission_key, duties=(), family_notice=None, **fields):
    """Store one visit; idempotent on `submission_key`: the same key again (double tap, retry,
    back button, two requests at once) returns the visit already stored and `created=False`.

    `duties` are (guardian, duty, fulfilment) observed at the visit; each becomes a registry
    duty observation. Open urgent requests made before the visit (to the minute) are marked fulfilled by it.
    When the visit is marked 通知子女, `family_notice` ({guardian, method, asked}, all optional)
    says who was told, how and what was asked: it becomes a FamilyNotice whose answer is due in
    the town's 通知子女后回访期限 (notify_family).
    Returns (visit, created).
    """
    _check_may_record(elder, acting_user)
    unknown = set(fields) - VISIT_FIELDS
    if unknown:
        raise TypeError(f"unknown visit fields: {sorted(unknown)}")
    existing = Visit.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return _same_submission(existing, elder), False
    if elder.off_register_reason:  # moved away, died … while the form waited in the phone's outbox
        raise ValidationError(elder.off_register_reason)
    validate_visited_at(fields.get("visited_at"))
    if fields.get("photo"):
        fields["photo"] = resize_photo(fields["photo"])
    visit = Visit(elder=elder, visitor=acting_user, submission_key=submission_key, **fields)
    visit.full_clean(exclude=["elder", "visitor", "photo"])
    try:
        with transaction.atomic():  # savepoint: a concurrent twin makes only this insert fail
            visit.save()
    except IntegrityError:
        existing = Visit.objects.filter(submission_key=submission_key).first()
        if existing is None:
            raise
        return _same_submission(existing, elder), False
    for guardian, duty, fulfilment in duties:
        record_duty_observation(elder, guardian=guardian, duty=duty, fulfilment=fulfilment,
                                observed_on=timezone.localdate(visit.visited_at), note=_("巡访时观察"),
                                acting_user=acting_user)
    UrgentVisitRequest.objects.filter(elder=elder).fulfilled_by_visit_at(visit.visited_at).update(fulfilled_by=visit)
    if visit.notify_family:
        notify_family(elder, visit=visit, acting_user=acting_user, **(family_notice or {}))
    if visit.request_service:
        _request_service(elder, visit, acting_user)
    refresh_visit_state([elder.pk])
    ensure_in_scope(visit, acting_user)
    return visit, True


def _request_service(elder, visit, acting_user):
    # 申请服务 becomes a service request on the town's list (the services app); visits works without it.
    try:
        from services.choices import ServiceRequestSource
        from services.services import request_service
    except ImportError:
        return None
    need = visit.needs_raised.strip() or _("巡访时申请服务（未写明需求，请与老人联系确认）")
    return request_service(elder, need=need, source=ServiceRequestSource.VISIT, acting_user=acting_user,
                           requested_on=timezone.localdate(visit.visited_at), source_visit_id=visit.pk)


def _default_request(visit) -> str:
    """What the family is asked when the worker wrote nothing: the visit's findings."""
    found = "、".join(f"{label}{answer}" for label, answer in visit.problems) if visit else ""
    return (_("巡访发现：%s。") % found if found else "") + _("请子女和其他家庭成员予以照顾，并回复村委会。")


@transaction.atomic
def notify_family(elder, *, acting_user, visit=None, guardian=None, method=FamilyNoticeMethod.PHONE, asked="",
                  notified_on=None) -> FamilyNotice:
    """通知子女 (policy 二(三)): record who was told, how and what was asked, with the family's
    answer due in the town's `family_followup_days`; it stays on the village's follow-up worklist
    until the answer is recorded or it is escalated to a supervision."""
    _check_may_record(elder, acting_user)
    if guardian is not None and not guardian.elder_links.filter(elder=elder).exists():
        raise ValidationError({"guardian": _("所选赡养人不是这位老人的赡养人，请重新选择。")})
    notified_on = notified_on or (timezone.localdate(visit.visited_at) if visit else timezone.localdate())
    days = VisitPolicy.for_town(elder.town_code).family_followup_days
    notice = FamilyNotice(visit=visit, elder=elder, guardian=guardian, method=method or FamilyNoticeMethod.PHONE,
                          asked=(asked or "").strip()[:300] or _default_request(visit), notified_on=notified_on,
                          due_on=notified_on + timedelta(days=days), recorded_by=acting_user)
    notice.full_clean()
    notice.save()
    ensure_in_scope(notice, acting_user)
    return notice


def _open_notice(notice, user) -> FamilyNotice:
    _check_may_record(notice.elder, user)
    notice = FamilyNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != FamilyNoticeStatus.OPEN:
        raise ValidationError(_("这条通知已经办结（%s），不用再处理。") % notice.get_status_display())
    return notice


@transaction.atomic
def record_family_response(notice, *, response: str, responded_on=None, acting_user) -> FamilyNotice:
    """The family answered: what they said or did. The notice leaves the worklist (子女已答复)."""
    notice = _open_notice(notice, acting_user)
    response = (response or "").strip()
    if not response:
        raise ValidationError({"response": _("请填写子女的答复：谁回复的、答应做什么。")})
    responded_on = responded_on or timezone.localdate()
    if responded_on > timezone.localdate() or responded_on < notice.notified_on:
        raise ValidationError({"responded_on": _("答复日期应在通知日期和今天之间。")})
    notice.status, notice.response, notice.closed_on, notice.closed_by = (
        FamilyNoticeStatus.RESPONDED, response[:500], responded_on, acting_user)
    notice.save(update_fields=["status", "response", "closed_on", "closed_by"])
    return notice


@transaction.atomic
def escalate_family_notice(notice, *, guardian, method: str, result: str, guardian_response: str = "",
                           supervised_on=None, acting_user):
    """The family did not answer or refused: the committee supervises (督促) the guardian; the
    notice is closed as 已转督促 and linked to the supervision. A 拒不履行 result goes on to a
    relief case (the relief app's 从督促记录上报 page). Returns the supervision."""
    notice = _open_notice(notice, acting_user)
    if guardian is None:
        raise ValidationError({"guardian": _("请选择督促的是哪一位赡养人。")})
    supervised_on = supervised_on or timezone.localdate()
    supervision = record_supervision(notice.elder, guardian=guardian, supervised_on=supervised_on, method=method,
                                     result=result, guardian_response=guardian_response, acting_user=acting_user)
    notice.status, notice.supervision, notice.closed_on, notice.closed_by = (
        FamilyNoticeStatus.ESCALATED, supervision, supervised_on, acting_user)
    notice.response = guardian_response[:500]
    notice.save(update_fields=["status", "supervision", "closed_on", "closed_by", "response"])
    return supervision


def _same_submission(existing, elder):
    if existing.elder_id != elder.pk:  # a key reused for another elder: a client bug, never merge
        raise ValidationError(_("提交编号已被另一条巡访记录使用，请刷新页面后重新填写。"))
    return existing


@transaction.atomic
def update_visit(visit, *, acting_user, family_notice=None, **fields) -> Visit:
    """Correct a visit. The village may do so for 48 hours after entry, town staff always
    (the 48-hour rule); every change is in the audit trail.

    通知子女 or 申请服务 ticked on the correction has the follow-up made exactly as when the visit
    is recorded (a FamilyNotice from `family_notice`, a service request), once: a visit that
    already has its notice or its request gets no second one, however often it is edited."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    ticked = {name: not getattr(visit, name) for name in ("notify_family", "request_service")}
    ensure_in_scope(visit, acting_user)
    if not visit.editable_by(acting_user):
        raise PermissionDenied(_("录入超过 48 小时的巡访记录只能由乡镇民政办修改。"))
    unknown = set(fields) - VISIT_FIELDS
    if unknown:
        raise TypeError(f"unknown visit fields: {sorted(unknown)}")
    if "visited_at" in fields and fields["visited_at"] != visit.visited_at:
        validate_visited_at(fields["visited_at"])
    if fields.get("photo") and not isinstance(fields["photo"], str) and not getattr(fields["photo"], "_committed", False):
        fields["photo"] = resize_photo(fields["photo"])
    for name, value in fields.items():
        setattr(visit, name, value)
    visit.full_clean(exclude=["elder", "visitor", "photo", "submission_key"])
    visit.save()
    # Newly ticked only: a visit stored with the box ticked before notices and requests were linked
    # to their visit is not given one on an unrelated correction.
    if visit.notify_family and ticked["notify_family"] and not visit.family_notices.exists():
        notify_family(visit.elder, visit=visit, acting_user=acting_user, **(family_notice or {}))
    if visit.request_service and ticked["request_service"]:
        _request_service(visit.elder, visit, acting_user)  # once per visit (request_service)
    refresh_visit_state([visit.elder_id])
    ensure_in_scope(visit, acting_user)
    return visit


@transaction.atomic
def request_urgent_visit(elder, *, reason: str, due_by: datetime | None = None, acting_user) -> UrgentVisitRequest:
    """A special situation was reported or the elder left hospital: the next visit is due within
    the town's 特殊情况后巡访时限 (VisitPolicy.urgent_hours, 24 h by default) or by `due_by`. The
    request stays open until a later visit fulfils it."""
    ensure_in_scope(elder, acting_user)
    if not reason.strip():
        raise ValidationError(_("请填写需要紧急巡访的原因。"))
    now = timezone.now()
    request = UrgentVisitRequest.objects.create(
        elder=elder, reason=reason.strip()[:300], requested_at=now,
        due_by=due_by or now + timedelta(hours=VisitPolicy.for_town(elder.town_code).urgent_hours),
        requested_by=acting_user)
    refresh_visit_state([elder.pk])
    return request


@transaction.atomic
def save_policy(town, *, acting_user, **values) -> VisitPolicy:
    """Create or change a town's visit policy (town staff of that town)."""
    if not (acting_user.is_superuser or acting_user.role == UserRole.TOWN):
        raise PermissionDenied(_("只有乡镇民政办可以修改巡访周期。"))
    policy = VisitPolicy.objects.select_for_update().filter(town=town).first() or VisitPolicy(town=town)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_by = acting_user
    policy.full_clean()
    policy.save()
    try:
        ensure_in_scope(policy, acting_user)
    except OutOfScope:
        raise PermissionDenied(_("不能修改其他乡镇的巡访周期。")) from None
    return policy


@transaction.atomic
def reassign_elders(elders, *, worker, acting_user) -> int:
    """Make `worker` (village staff of the elders' village) responsible for visiting `elders`.

    All elders must be in one village within the acting user's reach, and the worker must be
    an active village staff member of that same village. Returns the number of elders changed.
    """
    from registry.models import Elder

    if not (acting_user.is_superuser or acting_user.role == UserRole.TOWN):
        raise PermissionDenied(_("只有乡镇民政办可以调整巡访责任人。"))
    pks = [e.pk for e in elders]
    reachable = Elder.objects.for_user(acting_user).filter(pk__in=pks)
    villages = set(reachable.values_list("village_id", flat=True))
    if reachable.count() != len(set(pks)):
        raise OutOfScope("some elders are outside the acting user's reach")
    if not pks:
        raise ValidationError(_("请至少勾选一位老人。"))
    if len(villages) != 1:
        raise ValidationError(_("一次只能调整同一个村的老人。"))
    village = villages.pop()
    if not (worker.is_active and worker.role == UserRole.VILLAGE and worker.area_id == village):
        raise ValidationError(_("巡访责任人必须是本村(居)委会的工作人员。"))
    return Elder.objects.filter(pk__in=pks).update(responsible_worker=worker, updated_at=timezone.now())
