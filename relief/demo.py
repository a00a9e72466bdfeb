"""Demo and benchmark data for relief: cases in every state (some overdue) for 锦屏镇's demo
accounts, cases spread over the county, and confirmed risk assessments.

Bulk inserts only (cases, referrals, timeline rows, assessments): `--scale county` writes
3,000+ cases in a few seconds. Timestamps are consistent with the workflow (reported →
accepted → referred → received → started → closed), so the clocks show real overdue cases.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

from eldercare.models import Department, DepartmentKind
from registry.models import Elder
from relief.choices import CaseEventAction as A
from relief.choices import ReliefCaseStatus as S
from relief.choices import ReliefCaseType as T
from relief.choices import ReliefCaseUrgency as U
from relief.models import CaseEvent, Referral, ReliefCase, RiskAssessment
from relief.risk import Facts, score_factors

CASES_PER_VILLAGE = {False: 2, True: 22}
ASSESSED_SHARE = {False: 0.45, True: 0.35}
NARRATIVES = {
    T.VAGRANCY: "老人清早出门未归，邻居在镇上车站看见其乞讨，已联系不上子女。",
    T.ILLEGAL_HARM: "老人反映被同组村民推搡受伤，存折被拿走，身上有淤青。",
    T.CRITICAL_ILLNESS: "老人突发胸闷气短，独自在家，村医已到场，需要送县医院。",
    T.SEVERE_MENTAL_ILLNESS: "老人近期言语混乱、夜间外出，疑似精神疾病复发，家中无人看护。",
    T.MAJOR_HARDSHIP: "老人房屋漏雨严重，冬季无取暖，存粮不足一周。",
    T.GUARDIAN_REFUSAL: "赡养人经村委会两次督促，仍拒绝支付赡养费，也不回家照料。",
    T.OTHER: "老人走失后已找回，需要核实家中照护安排。",
}
OUTCOMES = ["已送医治疗，子女已回家照料。", "已调解，赡养人签订赡养协议并按月支付赡养费。", "已纳入临时救助，发放救助金 800 元。",
            "已协调住房维修，落实冬季取暖。", "已送至县救助站，联系家属接回。", "已落实特困供养，入住敬老院。"]
DEPARTMENT_FOR = {
    T.VAGRANCY: [DepartmentKind.POLICE, DepartmentKind.CIVIL_AFFAIRS],
    T.ILLEGAL_HARM: [DepartmentKind.POLICE, DepartmentKind.JUSTICE],
    T.CRITICAL_ILLNESS: [DepartmentKind.CLINIC],
    T.SEVERE_MENTAL_ILLNESS: [DepartmentKind.CLINIC, DepartmentKind.POLICE],
    T.MAJOR_HARDSHIP: [DepartmentKind.CIVIL_AFFAIRS],
    T.GUARDIAN_REFUSAL: [DepartmentKind.JUSTICE],
    T.OTHER: [DepartmentKind.SOCIAL_AFFAIRS],
}


@dataclass
class Plan:
    """One case to write: where it stops in the workflow and how long ago it started."""

    elder: Elder
    status: str
    case_type: str
    urgency: str
    age: timedelta  # how long before now the case was reported
    departments: list = field(default_factory=list)  # DepartmentKind values (first does the work)
    gaps: tuple = (timedelta(hours=1), timedelta(hours=1), timedelta(hours=1), timedelta(hours=2),
                   timedelta(days=2))  # accept, refer, receive, start, close after the previous step


# The showcase for the demo accounts: (village index, status, type, urgency, age, departments, gaps)
HOME_CASES = [
    (0, S.REPORTED, T.CRITICAL_ILLNESS, U.URGENT, timedelta(hours=3), [], None),  # acceptance overdue
    (0, S.REPORTED, T.MAJOR_HARDSHIP, U.NORMAL, timedelta(hours=1), [], None),
    (0, S.RETURNED, T.MAJOR_HARDSHIP, U.NORMAL, timedelta(hours=20), [], None),
    (0, S.ACCEPTED, T.GUARDIAN_REFUSAL, U.NORMAL, timedelta(days=2), [], None),
    (0, S.REFERRED, T.VAGRANCY, U.URGENT, timedelta(minutes=50), [DepartmentKind.POLICE],
     (timedelta(minutes=10), timedelta(minutes=10))),
    (0, S.REFERRED, T.OTHER, U.NORMAL, timedelta(days=4), [DepartmentKind.POLICE], None),  # receipt overdue
    (0, S.RECEIVED, T.VAGRANCY, U.NORMAL, timedelta(days=1), [DepartmentKind.POLICE], None),
    (0, S.IN_PROGRESS, T.ILLEGAL_HARM, U.URGENT, timedelta(days=5), [DepartmentKind.POLICE, DepartmentKind.JUSTICE],
     None),  # resolution overdue (3 days)
    (0, S.CLOSED, T.ILLEGAL_HARM, U.URGENT, timedelta(days=20), [DepartmentKind.POLICE], None),
    (0, S.CLOSED, T.CRITICAL_ILLNESS, U.NORMAL, timedelta(days=40), [DepartmentKind.CLINIC], None),
    (1, S.REPORTED, T.VAGRANCY, U.NORMAL, timedelta(hours=2), [], None),
    (1, S.IN_PROGRESS, T.SEVERE_MENTAL_ILLNESS, U.NORMAL, timedelta(days=3),
     [DepartmentKind.CLINIC, DepartmentKind.POLICE], None),
    (1, S.CLOSED, T.MAJOR_HARDSHIP, U.NORMAL, timedelta(days=30), [DepartmentKind.CIVIL_AFFAIRS], None),
]
STATUS_WEIGHTS = {S.CLOSED: 60, S.IN_PROGRESS: 10, S.RECEIVED: 5, S.REFERRED: 6, S.ACCEPTED: 6, S.REPORTED: 9,
                  S.RETURNED: 4}


def seed(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    home_villages = ctx.villages_of(ctx.home_town)[:2]
    elders_by_village = {}
    for elder in (Elder.objects.active().order_by("id")
                  .only("id", "village_id", "name", "birth_date", "self_care", "living", "health", "diseases",
                        "dibao", "tekun", "poverty_monitored", "difficulties")):
        elders_by_village.setdefault(elder.village_id, []).append(elder)
    plans = []
    for index, status, case_type, urgency, age, departments, gaps in HOME_CASES:
        pool = elders_by_village.get(home_villages[index].code, [])
        if pool:
            plan = Plan(pool[len(plans) % len(pool)], status, case_type, urgency, age, departments)
            if gaps:
                plan.gaps = gaps + plan.gaps[len(gaps):]
            plans.append(plan)
    per_village = CASES_PER_VILLAGE[ctx.scale]
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for village in ctx.villages:
        pool = elders_by_village.get(village.code, [])
        for _ in range(per_village if pool else 0):
            status = rng.choices(statuses, weights)[0]
            case_type = rng.choice(list(T))
            closed = status == S.CLOSED
            age = timedelta(days=rng.randint(20, 700)) if closed else timedelta(hours=rng.randint(1, 24 * 6))
            plans.append(Plan(rng.choice(pool), status, case_type, rng.choice([U.URGENT, U.NORMAL, U.NORMAL]), age,
                              DEPARTMENT_FOR[case_type]))
    _write(ctx, plans, now)
    _seed_assessments(ctx, elders_by_village, now)


def _write(ctx, plans, now):
    rng = ctx.rng
    departments = {(d.town_id, d.kind): d for d in Department.objects.all()}
    county_user = ctx.users.get("county")
    cases, referral_rows, event_rows = [], [], []
    for plan in plans:
        village_id = plan.elder.village_id
        town_id = village_id[:9]
        home = town_id == ctx.home_town.code
        reporter = ctx.village_workers.get(village_id) or county_user
        town_user = ctx.users["town"] if home else county_user
        t = now - plan.age
        case = ReliefCase(elder_id=plan.elder.pk, village_id=village_id, case_type=plan.case_type,
                          urgency=plan.urgency, narrative=NARRATIVES[plan.case_type], reported_by=reporter,
                          reported_at=t, submitted_at=t, status=plan.status)
        events = [(A.REPORT, "", S.REPORTED, reporter, t, "", None)]
        accept_gap, refer_gap, receive_gap, start_gap, close_gap = plan.gaps
        if plan.status == S.RETURNED:
            events.append((A.RETURN, S.REPORTED, S.RETURNED, town_user, t + accept_gap,
                           "请补充老人现在的住处和身体状况。", None))
        elif plan.status != S.REPORTED:
            t += accept_gap
            case.accepted_at = t
            events.append((A.ACCEPT, S.REPORTED, S.ACCEPTED, town_user, t, "已电话核实。", None))
        depts = [departments[(town_id, kind)] for kind in plan.departments if (town_id, kind) in departments]
        steps = [S.REFERRED, S.RECEIVED, S.IN_PROGRESS, S.CLOSED]
        reach = steps.index(plan.status) if plan.status in steps else -1
        referrals = []
        if reach >= 0 and depts:
            t += refer_gap
            case.referred_at = t
            for n, dept in enumerate(depts):
                referral = Referral(department=dept, referred_at=t, referred_by=town_user)
                referrals.append(referral)
                events.append((A.REFER, S.ACCEPTED if n == 0 else S.REFERRED, S.REFERRED, town_user, t,
                               f"转办至{dept}", referral))
            officer = ctx.users["police"] if home and depts[0].kind == DepartmentKind.POLICE else town_user
            lead = referrals[0]
            if reach >= 1:
                t += receive_gap
                lead.received_at, lead.received_by = t, officer
                events.append((A.RECEIVE, S.REFERRED, S.RECEIVED, officer, t, "", lead))
            if reach >= 2:
                t += start_gap
                lead.started_at = t
                events.append((A.START, S.RECEIVED, S.IN_PROGRESS, officer, t, "已安排人员上门。", lead))
            if reach >= 3:
                t = min(t + close_gap + timedelta(hours=rng.randint(0, 72)), now - timedelta(minutes=5))
                outcome = rng.choice(OUTCOMES)
                for referral in referrals:
                    referral.received_at = referral.received_at or t
                    referral.started_at = referral.started_at or t
                    referral.closed_at, referral.closed_by, referral.result = t, officer, outcome
                case.closed_at = t
                case.outcome = "；".join(f"{r.department}：{outcome}" for r in referrals)
                events.append((A.CLOSE, S.IN_PROGRESS, S.CLOSED, officer, t, outcome, lead))
        elif reach >= 0:
            case.status = S.ACCEPTED  # no department in this town: it waits at the town
            del events[3:]
        cases.append(case)
        referral_rows.append(referrals)
        event_rows.append(events)
    ReliefCase.objects.bulk_create(cases, batch_size=2000)
    for case, referrals in zip(cases, referral_rows, strict=True):
        for referral in referrals:
            referral.case = case
    Referral.objects.bulk_create([r for rs in referral_rows for r in rs], batch_size=2000)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=case, referral=referral, action=action, from_status=from_status, to_status=to_status,
                  actor=actor, at=at, note=note)
        for case, events in zip(cases, event_rows, strict=True)
        for action, from_status, to_status, actor, at, note, referral in events
    ], batch_size=5000)
    open_count = sum(1 for c in cases if c.status != S.CLOSED)
    overdue = ReliefCase.objects.overdue(now).count()
    ctx.log(f"救助个案 {len(cases)} 件（未办结 {open_count} 件，超时 {overdue} 件），转办 "
            f"{sum(len(r) for r in referral_rows)} 次，办理记录 {sum(len(e) for e in event_rows)} 条")


def _seed_assessments(ctx, elders_by_village, now):
    """Confirmed assessments for a share of the elders, scored by the real factor table from the
    register fields; some are older than 12 months, so the reassessment list has entries."""
    rng = ctx.rng
    share = ASSESSED_SHARE[ctx.scale]
    rows, levels = [], {}
    for village_id, elders in elders_by_village.items():
        assessor = ctx.village_workers.get(village_id)
        if assessor is None:
            continue
        for elder in elders:
            if rng.random() > share:
                continue
            confirmed = now - timedelta(days=rng.randint(1, 460))
            day = timezone.localtime(confirmed).date()
            facts = Facts(
                today=day, age=day.year - elder.birth_date.year, self_care=elder.self_care, living=elder.living,
                health=elder.health, diseases=elder.diseases, dibao=bool(elder.dibao), tekun=bool(elder.tekun),
                poverty_monitored=bool(elder.poverty_monitored), difficulties=list(elder.difficulties or []),
                last_contact_on=day - timedelta(days=rng.randint(0, 240)))
            proposal = score_factors(facts)
            level, reason = proposal.level, ""
            if rng.random() < 0.05 and proposal.level != "high":
                level, reason = "high", "老人近期情绪低落，子女长期联系不上，调高一级关注。"
            rows.append(RiskAssessment(
                elder_id=elder.pk, version=proposal.version, factors=proposal.factors_json(), score=proposal.score,
                proposed_level=proposal.level, level=level, adjusted_reason=reason, assessed_by=assessor,
                confirmed_at=datetime.combine(day, time(10, rng.randint(0, 59)), tzinfo=confirmed.tzinfo)))
            levels.setdefault(level, []).append(elder.pk)
    RiskAssessment.objects.bulk_create(rows, batch_size=2000)
    for level, pks in levels.items():
        for start in range(0, len(pks), 5000):
            Elder.objects.filter(pk__in=pks[start:start + 5000]).update(risk_level=level)
    ctx.log(f"风险评估 {len(rows)} 份（高 {len(levels.get('high', []))}，中 {len(levels.get('medium', []))}，"
            f"低 {len(levels.get('low', []))}）")
