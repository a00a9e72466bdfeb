"""Demo and benchmark data: the core's part (areas, departments, accounts) and the hand-off to apps.

`seed_demo` loads 屏山县 and its towns from the shared CSV, invents villages with valid 12-digit
codes, creates departments and the demo accounts, then calls `seed(ctx)` in each app's
`demo` module (registry, visits, relief, services, oversight — in that order).
"""

import random
from dataclasses import dataclass, field
from datetime import date
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from eldercare.areas import load_areas
from eldercare.choices import AreaLevel, UserRole
from eldercare.models import Area, Department, DepartmentKind, User
from eldercare.roles import group_name

AREAS_CSV = Path(__file__).parent / "data" / "areas-511529-pingshan.csv"
HOME_TOWN_CODE = "511529100"  # 锦屏镇: the demo accounts work here

VILLAGE_NAMES = (
    "李家湾 青龙 石板 黄桷 马鞍 龙井 金竹 柏杨 新坪 桂花 红岩 大坪 高桥 双河 楠木 白果 "
    "三合 团结 凉风 岩门 清水 观音 太平 福来 长岭 回龙 天堂 万安 油房 茶园"
).split()
DEPARTMENT_KINDS = [
    (DepartmentKind.CIVIL_AFFAIRS, "民政办"), (DepartmentKind.CLINIC, "卫生院"), (DepartmentKind.POLICE, "派出所"),
    (DepartmentKind.JUSTICE, "司法所"), (DepartmentKind.FINANCE, "财政所"),
    (DepartmentKind.SOCIAL_AFFAIRS, "社事中心"), (DepartmentKind.HUMAN_RESOURCES, "人社所"),
    (DepartmentKind.CULTURE, "文化站"), (DepartmentKind.RURAL_REVITALISATION, "乡村振兴办"),
]
APP_ORDER = ["registry", "visits", "relief", "services", "oversight"]


@dataclass
class DemoContext:
    """What every app's `demo.seed(ctx)` gets: the areas, the accounts and a seeded RNG."""

    scale: bool
    today: date
    rng: random.Random
    county: Area
    towns: list
    villages: list
    users: dict = field(default_factory=dict)  # demo username → User
    village_workers: dict = field(default_factory=dict)  # village code → its village-staff User
    log: callable = print

    @property
    def home_town(self) -> Area:
        return next(t for t in self.towns if t.code == HOME_TOWN_CODE)

    def villages_of(self, town: Area) -> list:
        return [v for v in self.villages if v.parent_id == town.code]


def seed(*, scale: bool, log=print, seed_value: int = 20261129) -> DemoContext:
    """Create the whole demo (or benchmark) dataset. The database must hold no demo data yet."""
    load_areas(AREAS_CSV.read_text(encoding="utf-8"))
    county = Area.objects.get(level=AreaLevel.COUNTY)
    towns = list(Area.objects.filter(level=AreaLevel.TOWN).order_by("code"))
    rng = random.Random(seed_value)
    per_town = 14 if scale else 5
    villages = []
    for town in towns:
        names = rng.sample(VILLAGE_NAMES, per_town)
        for n, name in enumerate(names, start=1):
            villages.append(Area(code=f"{town.code}{200 + n:03d}", name=f"{name}村", level=AreaLevel.VILLAGE,
                                 parent=town))
    Area.objects.bulk_create(villages, ignore_conflicts=True)
    villages = list(Area.objects.filter(level=AreaLevel.VILLAGE).order_by("code"))
    for town in towns:
        Department.objects.bulk_create(
            [Department(town=town, kind=kind, name=f"{town.name}{label}") for kind, label in DEPARTMENT_KINDS],
            ignore_conflicts=True,
        )
    ctx = DemoContext(scale=scale, today=timezone.localdate(), rng=rng, county=county, towns=towns,
                      villages=villages, log=log)
    _create_accounts(ctx)
    log(f"区划：1 个县，{len(towns)} 个乡镇，{len(villages)} 个村；账号 {User.objects.count()} 个")
    for app in APP_ORDER:
        if apps.is_installed(app) and find_spec(f"{app}.demo") is not None:
            import_module(f"{app}.demo").seed(ctx)
    return ctx


def _create_accounts(ctx: DemoContext) -> None:
    password = make_password(settings.DEMO_PASSWORD)  # hash once: PBKDF2 is deliberately slow
    home = ctx.home_town
    home_villages = ctx.villages_of(home)
    police = Department.objects.get(town=home, kind=DepartmentKind.POLICE)
    clinic = Department.objects.get(town=home, kind=DepartmentKind.CLINIC)
    named = [
        ("county", "县民政局 王科长", UserRole.COUNTY, ctx.county, None),
        ("town", "锦屏镇民政办 刘主任", UserRole.TOWN, home, None),
        ("village", f"{home_villages[0].name} 张文书", UserRole.VILLAGE, home_villages[0], None),
        ("village2", f"{home_villages[1].name} 陈主任", UserRole.VILLAGE, home_villages[1], None),
        # A clinic is a department too: the clinic account receives the cases referred to its 卫生院.
        ("clinic", "锦屏镇卫生院 赵医生", UserRole.CLINIC, home, clinic),
        ("police", "锦屏镇派出所 孙警官", UserRole.DEPARTMENT, home, police),
    ]
    # Work phones (made up, 139 0000 xxxx): a department calls the village worker who reported a case.
    users = [
        User(username=username, real_name=real_name, role=role, area=area, department=dept, is_staff=True,
             password=password, phone=f"1390000{n:04d}")
        for n, (username, real_name, role, area, dept) in enumerate(named)
    ]
    # One village worker per other village, so every elder can have a responsible worker.
    for n, village in enumerate(ctx.villages):
        if village not in home_villages[:2]:
            users.append(User(username=f"v{village.code}", real_name=f"{village.name}文书", role=UserRole.VILLAGE,
                              area=village, is_staff=True, password=password, phone=f"1390001{n:04d}"))
    # Every department of every town has an officer, so no referral waits for nobody: the clinic's
    # with a clinic account (role 卫生院), the others with a department account.
    staffed = {dept.pk for *_, dept in named if dept is not None}
    for n, dept in enumerate(Department.objects.select_related("town").order_by("town_id", "kind")):
        if dept.pk in staffed:
            continue
        role = UserRole.CLINIC if dept.kind == DepartmentKind.CLINIC else UserRole.DEPARTMENT
        users.append(User(username=f"d{dept.town_id}{dept.pk}", real_name=f"{dept.name}工作人员", role=role,
                          area=dept.town, department=dept, is_staff=True, password=password,
                          phone=f"1390002{n:04d}"))
    User.objects.bulk_create(users)
    groups = {g.name: g for g in Group.objects.filter(name__startswith="role:")}
    membership = User.groups.through
    created = list(User.objects.filter(role__in=UserRole.values))
    membership.objects.bulk_create(
        [membership(user_id=u.pk, group_id=groups[group_name(u.role)].pk) for u in created if group_name(u.role) in groups],
        ignore_conflicts=True,
    )
    ctx.users = {u.username: u for u in created if u.username in dict.fromkeys(n[0] for n in named)}
    ctx.village_workers = {u.area_id: u for u in created if u.role == UserRole.VILLAGE}
