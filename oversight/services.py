"""State changes of oversight: circulars (通报) and the villages' rectification notes.

Each is one transaction with keyword-only `acting_user`; the circular's workflow is the map
`TRANSITIONS` (draft → issued, nothing after); an issued circular is never changed.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from eldercare.choices import AreaLevel, UserRole
from eldercare.models import Area
from eldercare.scoping import ensure_in_scope
from oversight.models import Circular, CircularStatus, CircularVillage, Rectification
from oversight.periods import Period
from oversight.scorecard import DIMENSIONS, ITEMS, score, weights_in_force

TRANSITIONS = {CircularStatus.DRAFT: {CircularStatus.ISSUED}, CircularStatus.ISSUED: set()}
PASS_SCORE = 80  # a village whose overall score is below this is named as below target
MOST_IMPROVED = 3


class IllegalTransition(ValidationError):
    """A circular step the workflow does not allow (an issued circular cannot change)."""


def _require_town(user):
    if not (user.is_superuser or user.role == UserRole.TOWN):
        raise PermissionDenied(_("只有乡镇民政办可以起草和印发通报。"))


def previous_period(period: Period) -> Period:
    """The whole period of the same kind before `period` (for "improved most")."""
    return Period(period.kind, period.start - timedelta(days=1))


def circular_content(user, town, period) -> dict:
    """What a circular reports: the town's and each village's scores, the villages below
    target with their shortfalls (items that lost points, worst first), and the most improved."""
    weights, version = weights_in_force(period)
    overall, units = score(user, period, town.code, 12, weights)
    previous = previous_period(period)
    prev_weights, _version = weights_in_force(previous)
    _prev_overall, prev_units = score(user, previous, town.code, 12, prev_weights)
    villages = {v.code: v.name for v in Area.objects.for_user(user).filter(level=AreaLevel.VILLAGE,
                                                                            code__startswith=town.code)}
    rows = []
    for code, name in villages.items():
        scores = units.get(code)
        if scores is None:
            continue
        shortfalls = sorted(
            ({"item": item.label, "dimension": str(dict((k, label) for k, label, _p in DIMENSIONS)[item.dimension]),
              "miss": scores["items"][item.name]["miss"], "total": scores["items"][item.name]["total"],
              "lost": round((100 - scores["items"][item.name]["score"]) * scores["items"][item.name]["weight"] / 100,
                            1)} for item in ITEMS if scores["items"][item.name]["miss"]),
            key=lambda s: -s["lost"])
        before = prev_units.get(code)
        rows.append({"code": code, "name": name, "total": scores["total"], "dimensions": scores["dimensions"],
                     "previous": before["total"] if before else None,
                     "change": round(scores["total"] - before["total"], 1) if before else None,
                     "shortfalls": [{**s, "item": str(s["item"])} for s in shortfalls]})
    rows.sort(key=lambda r: (r["total"], r["code"]))
    improved = sorted((r for r in rows if r["change"] and r["change"] > 0), key=lambda r: -r["change"])[:MOST_IMPROVED]
    return {"version": version.name if version else _("默认版本"), "period": period.label, "town": overall["total"],
            "town_dimensions": overall["dimensions"], "villages": rows, "pass_score": PASS_SCORE,
            "below": [r["code"] for r in rows if r["total"] < PASS_SCORE], "improved": [r["code"] for r in improved]}


@transaction.atomic
def draft_circular(town, period, *, acting_user, text="") -> Circular:
    """Draft a circular of `town` on `period` from the scores as they stand now."""
    _require_town(acting_user)
    ensure_in_scope(town, acting_user)
    if town.level != AreaLevel.TOWN:
        raise ValidationError(_("通报由乡镇印发，请选择一个乡镇。"))
    content = circular_content(acting_user, town, period)
    number = (Circular.objects.select_for_update().filter(town=town, kind=period.kind, start=period.start)
              .aggregate(n=Max("number"))["n"] or 0) + 1
    circular = Circular.objects.create(
        town=town, kind=period.kind, start=period.start, end=period.on, number=number, scores=content, text=text,
        title=_("%(town)s关于%(period)s农村留守老年人关爱服务工作督导情况的通报") % {"town": town.name,
                                                                     "period": period.label},
        created_by=acting_user)
    named = set(content["below"]) | set(content["improved"])
    CircularVillage.objects.bulk_create([
        CircularVillage(circular=circular, village_id=code, below_target=code in content["below"],
                        improved=code in content["improved"]) for code in sorted(named)])
    ensure_in_scope(circular, acting_user)
    return circular


def _locked(circular, user) -> Circular:
    ensure_in_scope(circular, user)
    return Circular.objects.select_for_update().get(pk=circular.pk)


@transaction.atomic
def update_circular_text(circular, *, text, acting_user) -> Circular:
    """Change the office's own text of a draft; an issued circular raises."""
    _require_town(acting_user)
    circular = _locked(circular, acting_user)
    if circular.is_issued:
        raise IllegalTransition(_("通报已印发，不能再修改。"))
    circular.text = text.strip()
    circular.save(update_fields=["text"])
    return circular


@transaction.atomic
def issue_circular(circular, *, acting_user) -> Circular:
    """Issue a draft (已印发): from now on it is read-only and the villages it names see it."""
    _require_town(acting_user)
    circular = _locked(circular, acting_user)
    if CircularStatus.ISSUED not in TRANSITIONS[circular.status]:
        raise IllegalTransition(_("通报已印发，不能重复印发。"))
    circular.status, circular.issued_by, circular.issued_at = CircularStatus.ISSUED, acting_user, timezone.now()
    circular.save(update_fields=["status", "issued_by", "issued_at"])
    return circular


@transaction.atomic
def submit_rectification(circular, *, note, acting_user) -> Rectification:
    """A village named below target reports its rectification (整改情况)."""
    if acting_user.role != UserRole.VILLAGE:
        raise PermissionDenied(_("整改情况由被点名的村(居)委会报送。"))
    ensure_in_scope(circular, acting_user)  # issued and naming this village, or out of reach
    if not circular.named.filter(village_id=acting_user.area_id, below_target=True).exists():
        raise ValidationError(_("本村不在该通报的未达标名单中，无需报送整改情况。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("请填写整改情况。"))
    return Rectification.objects.create(circular=circular, village_id=acting_user.area_id, note=note,
                                        submitted_by=acting_user)


@transaction.atomic
def accept_rectification(rectification, *, acting_user) -> Rectification:
    """The town office accepts a village's rectification."""
    _require_town(acting_user)
    ensure_in_scope(rectification, acting_user)
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if rectification.accepted_at:
        raise IllegalTransition(_("该整改情况已确认。"))
    rectification.accepted_by, rectification.accepted_at = acting_user, timezone.now()
    rectification.save(update_fields=["accepted_by", "accepted_at"])
    return rectification
