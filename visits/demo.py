"""Demo and benchmark data for patrol visits.

Each active elder gets a visit history whose gaps follow the schedule rules with realistic
slack (mostly a little early, sometimes late, now and then a lapse of several weeks); about one
elder in eight is overdue today. The demo village of the `village` account gets a fixed mix of
overdue, due-today and due-this-week elders so that 今日待访 shows every group.

Rows go in through PostgreSQL COPY (`--scale county`: two years, ~800,000 visits).
"""

import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from eldercare.audit import record_inserts, set_wise_history
from registry.models import Elder
from visits.choices import VisitCheck, VisitMethod, VisitOutcome
from visits.models import (
    CHECKLIST,
    DEFAULT_HIGH_DAYS,
    DEFAULT_LOW_DAYS,
    DEFAULT_MEDIUM_DAYS,
    KEY_TARGET_MAX_DAYS,
    UrgentVisitRequest,
    Visit,
)
from visits.services import refresh_visit_state

HISTORY_DAYS = {False: 180, True: 730}
CHECK_NAMES = [name for name, _label in CHECKLIST]
COLUMNS = ["elder_id", "visitor_id", "visited_at", "method", "met_with", *CHECK_NAMES, "checklist_note",
           "needs_raised", "notes", "photo", "outcome", "notify_family", "report_to_town", "request_service",
           "submission_key", "created_at", "updated_at"]
MET_WITH = ["本人", "本人", "本人", "老伴", "本人及孙子", "邻居"]
NEEDS = ["想要助餐", "需要代购药品", "屋顶漏雨", "想让子女多打电话", "需要陪同就医"]
PROBLEM_NOTES = {
    "health_check": "血压偏高，腿脚不便", "mental_check": "情绪低落，说想儿子", "housing_check": "墙体有裂缝",
    "fire_check": "电线老化，插座发热", "weather_check": "冬天没有取暖设备", "diet_check": "一天只吃两顿",
    "hygiene_check": "屋内卫生较差", "family_check": "子女半年未联系",
}


def interval_for(elder) -> int:
    """The provisional interval (same rules as visits.schedule, for generating realistic gaps)."""
    if elder.is_disabled_alone:
        return DEFAULT_HIGH_DAYS
    if elder.is_key_target:
        return min(DEFAULT_MEDIUM_DAYS, KEY_TARGET_MAX_DAYS)
    return DEFAULT_LOW_DAYS


def seed(ctx) -> None:
    started = time.perf_counter()
    rng, now = ctx.rng, timezone.now()
    demo_village = ctx.users["village"].area_id if "village" in ctx.users else None
    elders = list(Elder.objects.active().only("id", "village_id", "self_care", "living", "dibao", "tekun",
                                              "poverty_monitored", "difficulties", "birth_date", "is_disabled_alone")
                  .order_by("pk"))
    history = HISTORY_DAYS[ctx.scale]
    plans = []  # (elder pk, worker pk, 失能独居?, visit days newest first)
    demo_index = 0
    for elder in elders:
        worker = ctx.village_workers.get(elder.village_id)
        if worker is None:
            continue
        interval = interval_for(elder)
        if elder.village_id == demo_village:
            pattern = demo_index % 6
            demo_index += 1
            if pattern == 5 and demo_index > 20:
                continue  # a newly registered elder: never visited, due today
            lag = {0: interval + rng.randint(2, 20), 1: interval, 2: interval - rng.randint(1, 5)}.get(
                pattern, rng.randint(0, max(0, interval - 7)))
        else:
            roll = rng.random()
            lag = (interval + rng.randint(1, 25) if roll < 0.12
                   else interval if roll < 0.17 else rng.randint(0, interval - 1))
        # Elders joined the programme at different times: not every history spans the full period.
        span = history if rng.random() < 0.6 else rng.randint(history // 4, history)
        days, back = [], lag
        while back <= span:
            days.append(back)
            gap = interval * (0.75 + 0.3 * rng.random())
            if rng.random() < 0.05:
                gap *= 1.5 + rng.random()  # a lapse: the worker was away, the road washed out …
            back += max(1, round(gap))
        plans.append((elder.pk, worker.pk, elder.is_disabled_alone, days))
    count = _copy(_lines(rng, now, plans))
    _seed_urgent(ctx, demo_village, now)
    refresh_visit_state()
    ctx.log(f"巡访记录 {count:,} 条（{time.perf_counter() - started:.1f} 秒）")


def _lines(rng, now, plans):
    """COPY text lines, one per visit (hand-formatted: the county set has ~800,000 of them)."""
    local_now = timezone.localtime(now)
    today = local_now.date()
    now_minute = local_now.hour * 60 + local_now.minute
    offset = local_now.strftime("%z")  # the local time zone's offset, written into every timestamp
    day_text = {}
    normal_checks = "\t".join([VisitCheck.NORMAL] * len(CHECK_NAMES))
    random = rng.random
    for elder_pk, worker_pk, disabled_alone, days in plans:
        for n, back in enumerate(days):
            text = day_text.get(back)
            if text is None:
                text = day_text[back] = (today - timedelta(days=back)).isoformat()
            minute = 480 + int(random() * 600)
            entered = minute + 1 + int(random() * 300)
            if back == 0:  # today: not after now
                minute = max(0, min(minute, now_minute - 30))
                entered = max(minute, min(entered, now_minute))
            r = random()
            if disabled_alone:
                method = VisitMethod.HOME if n == 0 or r < 0.6 else VisitMethod.PHONE
            else:
                method = (VisitMethod.PHONE if r < 0.55 else VisitMethod.HOME if r < 0.93
                          else VisitMethod.VIDEO if r < 0.98 else VisitMethod.PROXY)
            r = random()
            if r < 0.86:
                outcome, checks, note, needs, flags = VisitOutcome.NORMAL, normal_checks, "", "", "f\tf\tf"
            else:
                outcome = VisitOutcome.ATTENTION if r < 0.97 else VisitOutcome.HELP
                bad = VisitCheck.FAIR if outcome == VisitOutcome.ATTENTION else VisitCheck.PROBLEM
                chosen = rng.sample(CHECK_NAMES, 1 + (random() < 0.4))
                checks = "\t".join(bad if name in chosen else VisitCheck.NORMAL for name in CHECK_NAMES)
                note = PROBLEM_NOTES[chosen[0]]
                needs = NEEDS[int(random() * len(NEEDS))] if random() < 0.5 else ""
                help_ = outcome == VisitOutcome.HELP
                flags = "\t".join("t" if f else "f" for f in (random() < 0.5, help_, help_ and random() < 0.5))
            created = f"{text} {entered // 60:02d}:{entered % 60:02d}:00{offset}"
            yield (f"{elder_pk}\t{worker_pk}\t{text} {minute // 60:02d}:{minute % 60:02d}:00{offset}\t{method}\t"
                   f"{MET_WITH[int(random() * len(MET_WITH))]}\t{checks}\t{note}\t{needs}\t\t\t{outcome}\t{flags}\t"
                   f"{rng.getrandbits(128):032x}\t{created}\t{created}\n")


@transaction.atomic
def _copy(lines) -> int:
    """COPY the visits in, then write their audit "insert" events with one INSERT … SELECT.

    The row-by-row history trigger costs about half a millisecond per row (two PL/pgSQL
    exception blocks), which would make the county dataset take minutes; it is switched off
    for these rows only (eldercare.audit.set_wise_history) and the same events are
    written in bulk instead, so the audit trail stays complete.
    """
    table = Visit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        before = cursor.fetchone()[0]
        with set_wise_history(), cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            chunk = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == 20_000:
                    copy.write("".join(chunk))
                    chunk.clear()
            copy.write("".join(chunk))
    return record_inserts(Visit, after_id=before)


def _seed_urgent(ctx, demo_village, now) -> None:
    """Two open urgent requests in the demo village: a hospital discharge and a reported fall."""
    if demo_village is None:
        return
    town_user = ctx.users.get("town")
    recent = list(Elder.objects.active().filter(village_id=demo_village).order_by("pk")[:40:13])
    requests = []
    for elder, reason, hours_ago in zip(recent, ["出院回家，需要上门看望", "报告：老人在家摔倒"], [3, 20], strict=False):
        requested_at = now - timedelta(hours=hours_ago)
        requests.append(UrgentVisitRequest(elder=elder, reason=reason, requested_at=requested_at,
                                           due_by=requested_at + timedelta(hours=24), requested_by=town_user))
    UrgentVisitRequest.objects.bulk_create(requests)
