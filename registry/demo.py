"""Demo and benchmark data for the register: elders, guardians, contact events, agreements.

Bulk inserts only: `--scale county` writes 30,000+ elders in well under a minute.
"""

from datetime import date, timedelta
from functools import cache

from django.db import transaction
from django.db.models import Max
from stdnum.cn import ric

from eldercare.audit import record_inserts, set_wise_history
from registry.choices import (
    ContactEventKind,
    ElderDifficulty,
    ElderHealth,
    ElderIncomeSource,
    ElderLiving,
    ElderSelfCare,
    GuardianRelation,
)
from registry.models import CareAgreement, ContactEvent, Elder, ElderGuardian, Guardian, name_initials

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
MALE_GIVEN = "德明国华建平志强永福文学忠海春林军清正良贵生荣发富才成全胜开元天洪顺"
FEMALE_GIVEN = "秀英兰芳桂珍玉凤琼淑华翠花美玲素梅丽娥群芬云霞菊莲琴月红香"
PLACES = ["浙江宁波", "广东东莞", "广东深圳", "福建泉州", "江苏苏州", "成都", "宜宾城区", "本县城区", "本村", "新疆库尔勒",
          "上海", "重庆"]
DISEASES = ["高血压", "糖尿病", "慢性支气管炎", "关节炎", "冠心病", "白内障", "脑梗后遗症", ""]
ELDERS_PER_VILLAGE = {False: 25, True: 200}


def person_name(rng, male: bool) -> str:
    given = MALE_GIVEN if male else FEMALE_GIVEN
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def id_number(rng, birth: date, male: bool, used: set, area_prefix: str = "511529") -> str:
    """A valid 18-character ID number, unique within `used`."""
    while True:
        seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{area_prefix}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")  # the argument includes a check slot
        if number not in used:
            used.add(number)
            return number


def mobile(rng) -> str:
    return rng.choice(["13", "15", "18", "17", "19"]) + f"{rng.randrange(10**9):09d}"


@cache
def _initials(name: str) -> str:
    return name_initials(name)  # names repeat a lot across 30,000 elders


def bulk_insert(model, objects, *, batch_size: int = 5000, scale: bool = False) -> None:
    """bulk_create; at scale, with the per-row history trigger off and the insert events written
    afterwards in one set-based statement (same rows in the history, 4x faster inserts)."""
    if not scale or not objects:
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    with transaction.atomic():
        before = model.objects.aggregate(m=Max("pk"))["m"] or 0
        with set_wise_history():
            model.objects.bulk_create(objects, batch_size=batch_size)
        record_inserts(model, after_id=before)


def seed(ctx) -> None:
    rng, today = ctx.rng, ctx.today
    per_village = ELDERS_PER_VILLAGE[ctx.scale]
    used_ids = set(Elder.objects.values_list("id_number", flat=True))
    elders = []
    for village in ctx.villages:
        worker = ctx.village_workers.get(village.code)
        for _ in range(rng.randint(per_village * 4 // 5, per_village * 6 // 5)):
            male = rng.random() < 0.46
            age = min(100, 60 + int(rng.expovariate(1 / 11)))
            birth = today - timedelta(days=age * 365 + rng.randrange(365))
            self_care = rng.choices(list(ElderSelfCare), weights=[78, 15, 7])[0]
            living = rng.choices(list(ElderLiving), weights=[28, 45, 17, 7, 3])[0]
            dibao, tekun = rng.random() < 0.12, rng.random() < 0.03
            elder = Elder(
                village=village, village_group=f"第{rng.randint(1, 9)}组", name=person_name(rng, male),
                id_number=id_number(rng, birth, male, used_ids), ethnicity=rng.choices(["汉族", "彝族", "苗族"], [92, 6, 2])[0],
                phones=[mobile(rng)] if rng.random() < 0.7 else [],
                address=f"{village.parent.name}{village.name}{rng.randint(1, 9)}组{rng.randint(1, 80)}号",
                living=living, self_care=self_care,
                health=rng.choices(list(ElderHealth), weights=[20, 45, 28, 7])[0],
                diseases="、".join(sorted({rng.choice(DISEASES) for _ in range(2)} - {""})),
                income_sources=sorted({ElderIncomeSource.PENSION, rng.choice(list(ElderIncomeSource))}),
                monthly_income=rng.choice([120, 150, 300, 450, 600, 800, 1200, 2000]),
                dibao=dibao, tekun=tekun, poverty_monitored=rng.random() < 0.08,
                difficulties=sorted({rng.choice(list(ElderDifficulty)) for _ in range(rng.randint(0, 2))}),
                needs=rng.choice(["", "", "上门看望", "代购药品", "助餐", "陪同就医"]),
                family_doctor=rng.random() < 0.6, cadre=person_name(rng, rng.random() < 0.5),
                responsible_worker=worker, surveyed_by=worker.real_name if worker else "",
                surveyed_on=today - timedelta(days=rng.randint(30, 400)),
            )
            # what derive_fields() would compute, known here without parsing the number again
            elder.birth_date, elder.sex, elder.name_initials = birth, "male" if male else "female", _initials(elder.name)
            elders.append(elder)
    bulk_insert(Elder, elders, batch_size=2000, scale=ctx.scale)
    _seed_guardians(ctx, elders)
    if not ctx.scale:
        _seed_demo_stories(ctx)
    ctx.log(f"老人 {len(elders)} 位，赡养人 {Guardian.objects.count()} 位，联系记录 {ContactEvent.objects.count()} 条，"
            f"委托照顾协议 {CareAgreement.objects.count()} 份")


def _seed_guardians(ctx, elders) -> None:
    rng, today = ctx.rng, ctx.today
    # Couples share their children: pair elders of the same village living with a spouse.
    guardians, links, contacts, agreements = [], [], [], []
    shared_children = {}
    for elder in elders:
        key = (elder.village_id, elder.living == ElderLiving.WITH_SPOUSE)
        children = shared_children.pop(key, None) if key[1] and rng.random() < 0.5 else None
        if children is None:
            children = [
                (Guardian(village_id=elder.village_id, name=person_name(rng, son := rng.random() < 0.6),
                          phone=mobile(rng), whereabouts=rng.choice(PLACES)),
                 GuardianRelation.SON if son else GuardianRelation.DAUGHTER)
                for _ in range(rng.choice((1, 1, 2, 2, 3)))
            ]
            guardians.extend(g for g, _ in children)
            if key[1]:
                shared_children[key] = children
        for n, (guardian, relation) in enumerate(children):
            links.append((elder, guardian, relation, n == 0))
        worker = ctx.village_workers.get(elder.village_id)
        for _ in range(rng.choice((0, 1, 2, 3, 4))):
            guardian = rng.choice(children)[0]
            contacts.append((elder, guardian, rng.choice(list(ContactEventKind)),
                             today - timedelta(days=int(rng.expovariate(1 / 60))), worker))
        if elder.self_care != ElderSelfCare.INDEPENDENT and elder.living == ElderLiving.ALONE and rng.random() < 0.5:
            start = today - timedelta(days=rng.randint(30, 700))
            agreements.append(CareAgreement(
                elder=elder, guardian=children[0][0], caregiver_name=person_name(rng, rng.random() < 0.5),
                caregiver_relation=rng.choice(["邻居", "侄子", "堂兄", "村民"]), caregiver_phone=mobile(rng),
                start_date=start, end_date=start + timedelta(days=rng.choice((365, 730))),
                filed_on=start + timedelta(days=rng.randint(0, 10)), created_by=worker,
            ))
    bulk_insert(Guardian, guardians, batch_size=5000, scale=ctx.scale)
    bulk_insert(ElderGuardian, [ElderGuardian(elder_id=e.pk, guardian_id=g.pk, relation=r, is_primary=p)
                                for e, g, r, p in links], scale=ctx.scale)
    bulk_insert(ContactEvent, [ContactEvent(elder_id=e.pk, guardian_id=g.pk, kind=k, occurred_on=d, recorded_by_id=w.pk,
                                            note="") for e, g, k, d, w in contacts if w is not None], scale=ctx.scale)
    bulk_insert(CareAgreement, agreements, batch_size=2000, scale=ctx.scale)


def _seed_demo_stories(ctx) -> None:
    """What the demo accounts should find: alerts, expiring agreements, a refusal, status changes."""
    from registry.choices import DutyFulfilment, ElderStatus, GuardianDuty, SupervisionMethod, SupervisionResult
    from registry.models import DutyObservation, ElderStatusChange, Supervision

    rng, today = ctx.rng, ctx.today
    village_user = ctx.users.get("village")
    if village_user is None:
        return
    home = Elder.objects.filter(village_id=village_user.area_id).order_by("id")
    # Three 失能独居 elders without a valid agreement (the alerts page and the menu badge).
    candidates = list(home.filter(is_disabled=False, living=ElderLiving.WITH_RELATIVES)[:3])
    for elder in candidates:
        Elder.objects.filter(pk=elder.pk).update(self_care=ElderSelfCare.DISABLED, living=ElderLiving.ALONE)
        CareAgreement.objects.filter(elder=elder).delete()
    # Two agreements ending within 30 days.
    covered = list(home.filter(is_disabled_alone=False).exclude(pk__in=[e.pk for e in candidates])[:2])
    for n, elder in enumerate(covered):
        guardian = elder.guardian_links.first()
        CareAgreement.objects.create(
            elder=elder, guardian=guardian.guardian if guardian else None, caregiver_name=person_name(rng, n == 0),
            caregiver_relation="邻居", caregiver_phone=mobile(rng), start_date=today - timedelta(days=350),
            end_date=today + timedelta(days=10 + 12 * n), filed_on=today - timedelta(days=345),
            created_by=village_user)
    # A guardian who does not support their parent and refuses when urged: 拒不履行.
    link = ElderGuardian.objects.filter(elder__village_id=village_user.area_id).select_related("elder", "guardian") \
        .order_by("id")[5:6].first()
    if link is not None:
        observation = DutyObservation.objects.create(
            elder=link.elder, guardian=link.guardian, duty=GuardianDuty.ECONOMIC, fulfilment=DutyFulfilment.NOT,
            observed_on=today - timedelta(days=20), observed_by=village_user, note="半年未给生活费")
        Supervision.objects.create(
            elder=link.elder, guardian=link.guardian, observation=observation, supervised_on=today - timedelta(days=15),
            method=SupervisionMethod.PHONE, guardian_response="说自己也困难，不愿出钱", result=SupervisionResult.PROMISED,
            recorded_by=village_user)
        Supervision.objects.create(
            elder=link.elder, guardian=link.guardian, observation=observation, supervised_on=today - timedelta(days=3),
            method=SupervisionMethod.IN_PERSON, guardian_response="仍拒绝支付赡养费", result=SupervisionResult.REFUSED,
            recorded_by=village_user)
    # Dynamic management: one elder moved away, one died.
    for elder, status, reason in zip(home.filter(status=ElderStatus.ACTIVE).order_by("-id")[:2],
                                     (ElderStatus.MOVED, ElderStatus.DECEASED), ("随子女迁往宁波居住", "病故"),
                                     strict=False):
        changed_on = today - timedelta(days=rng.randint(5, 60))
        ElderStatusChange.objects.create(elder=elder, from_status=ElderStatus.ACTIVE, to_status=status,
                                         changed_on=changed_on, reason=reason, changed_by=village_user)
        Elder.objects.filter(pk=elder.pk).update(status=status, status_changed_on=changed_on)
    # 入住养老机构: the township 敬老院, and an elder of 70 or more (on the clinic's 65+ list) living
    # there since last month, recorded through the status change like any worker would.
    from registry.models import CareHome
    from registry.services import change_status

    town = village_user.area.parent
    care_home = CareHome.objects.create(name=f"{town.name}敬老院", area=town, address=f"{town.name}场镇敬老路1号",
                                        phone="0831-" + f"{rng.randrange(10**7):07d}")
    resident = home.filter(status=ElderStatus.ACTIVE, birth_date__lte=today - timedelta(days=70 * 366)) \
        .order_by("id").first()
    if resident is not None:
        change_status(resident, to_status=ElderStatus.INSTITUTION, changed_on=today - timedelta(days=40),
                      reason="子女外出务工，本人自愿入住乡镇敬老院", care_home=care_home, acting_user=village_user)
