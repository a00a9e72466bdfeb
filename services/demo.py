"""Demo and benchmark data for services: providers, a published catalogue per town, volunteers,
pairings (some overdue), service records, health checks (~50 % coverage) and contracts.

Bulk inserts only, so `--scale county` stays fast.
"""

from datetime import date, timedelta

from registry.demo import mobile, person_name
from registry.models import Elder, age_on
from services.choices import ProviderKind, ServiceItemCategory, ServiceItemEligibility, ServiceItemFee
from services.models import (
    HEALTH_CHECK_AGE,
    FamilyDoctorContract,
    HealthCheck,
    Pairing,
    Provider,
    ServiceItem,
    ServiceRecord,
    Volunteer,
)

E = ServiceItemEligibility
CATALOGUE = [
    ("上门助浴", ServiceItemCategory.DAILY_CARE, [E.DISABLED], ServiceItemFee.SUBSIDISED, "向村委会申请，服务队上门"),
    ("老年助餐", ServiceItemCategory.DAILY_CARE, [E.VERY_OLD], ServiceItemFee.SUBSIDISED, "到日间照料中心就餐"),
    ("特困老人代购送药", ServiceItemCategory.DAILY_CARE, [E.TEKUN], ServiceItemFee.FREE, "电话联系志愿服务队"),
    ("65岁以上免费体检", ServiceItemCategory.HEALTH, [E.AGE_65], ServiceItemFee.FREE, "到卫生院或等候通知"),
    ("家庭医生上门随访", ServiceItemCategory.HEALTH, [E.DISABLED_ALONE], ServiceItemFee.FREE, "村卫生室预约"),
    ("独居老人每周电话问候", ServiceItemCategory.EMOTIONAL, [E.ALONE], ServiceItemFee.FREE, "志愿者结对"),
    ("重阳节文艺活动", ServiceItemCategory.RECREATION, [], ServiceItemFee.FREE, "留意村广播通知"),
    ("赡养纠纷法律咨询", ServiceItemCategory.LEGAL, [], ServiceItemFee.FREE, "到司法所或电话咨询"),
    ("燃气电路安全检查", ServiceItemCategory.SAFETY, [E.HARDSHIP], ServiceItemFee.FREE, "向村委会申请"),
    ("低保老人冬季取暖补贴", ServiceItemCategory.OTHER, [E.DIBAO], ServiceItemFee.SUBSIDISED, "村委会统一申报"),
]


def seed(ctx) -> None:
    rng, today = ctx.rng, ctx.today
    providers, items_by_town = _catalogue(ctx)
    # Volunteers: a few per village, in the town's volunteer team.
    team_of_town = {p.area_id: p for p in providers if p.kind == ProviderKind.VOLUNTEER_TEAM}
    volunteers = [Volunteer(name=person_name(rng, rng.random() < 0.5), phone=mobile(rng), village=v,
                            provider=team_of_town.get(v.parent_id)) for v in ctx.villages for _ in range(3)]
    Volunteer.objects.bulk_create(volunteers, batch_size=2000)
    volunteers_of = {}
    for vol in volunteers:
        volunteers_of.setdefault(vol.village_id, []).append(vol)

    elders = list(Elder.objects.all().only("id", "village_id", "birth_date", "living", "self_care", "status")
                  .filter(status="active"))
    pairings, records, checks, contracts = [], [], [], []
    for elder in elders:
        worker = ctx.village_workers.get(elder.village_id) or ctx.users["town"]
        town_items = items_by_town[elder.village_id[:9]]
        vols = volunteers_of[elder.village_id]
        if (elder.living == "alone" or elder.self_care != "independent") and rng.random() < 0.5:
            vol = rng.choice(vols)
            started = today - timedelta(days=rng.randint(20, 300))
            frequency = rng.choice((7, 7, 14, 30))
            pairings.append(Pairing(volunteer=vol, elder=elder, started_on=started, frequency_days=frequency))
            # Most pairings are kept up; about a quarter fall behind (overdue).
            last = today - timedelta(days=rng.randint(1, frequency) if rng.random() < 0.75
                                     else frequency + rng.randint(3, 40))
            if last > started:
                records.append(ServiceRecord(elder=elder, item=town_items[5], volunteer=vol, served_on=last,
                                             duration_minutes=rng.choice((20, 30, 60)), recorded_by=worker))
        for _ in range(rng.choice((0, 0, 1, 2))):
            vol = rng.choice(vols) if rng.random() < 0.6 else None
            records.append(ServiceRecord(elder=elder, item=rng.choice(town_items), volunteer=vol,
                                         served_on=today - timedelta(days=rng.randint(0, 330)),
                                         duration_minutes=rng.choice((30, 60, 90, 120)), recorded_by=worker))
        if elder.birth_date > date(today.year - HEALTH_CHECK_AGE, 12, 31):
            continue
        clinic_name = f"{_town_name(ctx, elder.village_id)}卫生院"
        if rng.random() < 0.5:
            jan = date(today.year, 1, 2)
            earliest = jan if age_on(elder.birth_date, jan) >= HEALTH_CHECK_AGE else _birthday(elder.birth_date,
                                                                                                  today.year)
            if earliest < today:
                systolic = rng.randint(105, 175)
                checks.append(HealthCheck(
                    elder=elder, checked_on=earliest + timedelta(days=rng.randrange((today - earliest).days)),
                    clinic_name=clinic_name, lifestyle_assessment=rng.choice(["吸烟，少运动", "饮食清淡，每日散步", "偶饮酒"]),
                    systolic=systolic, diastolic=rng.randint(60, min(100, systolic - 20)),
                    glucose=round(rng.uniform(4.2, 11.5), 1), height_cm=rng.randint(148, 178),
                    weight_kg=rng.randint(42, 80), auxiliary_exams="血常规、尿常规、心电图",
                    guidance=rng.choice(["低盐饮食，按时服药", "控制血糖，定期复查", "适量运动"]),
                    summary=rng.choice(["基本正常", "血压偏高", "血糖偏高", "建议复查"]),
                    follow_up_needed=rng.random() < 0.2, recorded_by=ctx.users["clinic"]))
        if rng.random() < 0.6:
            signed = today - timedelta(days=rng.randint(20, 360))
            contracts.append(FamilyDoctorContract(
                elder=elder, doctor_name=person_name(rng, rng.random() < 0.5), clinic_name=clinic_name,
                signed_on=signed, valid_until=signed + timedelta(days=365), recorded_by=ctx.users["clinic"]))
    Pairing.objects.bulk_create(pairings, batch_size=5000)
    ServiceRecord.objects.bulk_create(records, batch_size=5000)
    HealthCheck.objects.bulk_create(checks, batch_size=5000)
    FamilyDoctorContract.objects.bulk_create(contracts, batch_size=5000)
    ctx.log(f"服务提供方 {len(providers)} 个，服务项目 {sum(map(len, items_by_town.values()))} 项，志愿者 {len(volunteers)} 人，"
            f"结对 {len(pairings)} 对，服务记录 {len(records)} 条，体检 {len(checks)} 份，家庭医生签约 {len(contracts)} 份")


def _town_name(ctx, village_code):
    return next(t.name for t in ctx.towns if t.code == village_code[:9])


def _birthday(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:  # 29 February
        return date(year, 3, 1)


def _catalogue(ctx):
    rng = ctx.rng
    providers = []
    for town in ctx.towns:
        providers += [
            Provider(name=f"{town.name}老年协会", kind=ProviderKind.ELDERS_ASSOCIATION, area=town, phone=mobile(rng)),
            Provider(name=f"{town.name}志愿服务队", kind=ProviderKind.VOLUNTEER_TEAM, area=town, phone=mobile(rng)),
            Provider(name=f"{town.name}卫生院", kind=ProviderKind.CLINIC, area=town, phone=mobile(rng)),
            Provider(name=f"{town.name}日间照料中心", kind=ProviderKind.DAY_CARE, area=town, phone=mobile(rng),
                     purchase_qualified=True),
        ]
        for village in ctx.villages_of(town)[:2]:
            providers.append(Provider(name=f"{village.name}卫生室", kind=ProviderKind.CLINIC, area=village,
                                      phone=mobile(rng)))
    Provider.objects.bulk_create(providers)
    items, links, items_by_town = [], [], {}
    by_town = {}
    for p in providers:
        by_town.setdefault(p.area_id[:9], []).append(p)
    for town in ctx.towns:
        town_items = [ServiceItem(town=town, name=name, category=category, eligibility=list(flags), fee=fee,
                                  channel=channel, contact=mobile(rng), published=True)
                      for name, category, flags, fee, channel in CATALOGUE]
        items += town_items
        items_by_town[town.code] = town_items
    ServiceItem.objects.bulk_create(items)
    through = ServiceItem.providers.through
    for town in ctx.towns:
        for item in items_by_town[town.code]:
            for provider in rng.sample(by_town[town.code][:4], 2):
                links.append(through(serviceitem_id=item.pk, provider_id=provider.pk))
    through.objects.bulk_create(links)
    return providers, items_by_town
