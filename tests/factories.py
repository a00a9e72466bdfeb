"""Factories for the core and the register: areas, users, elders, guardians.

Later apps keep their factories in tests/<app>/factories.py and build on these.
"""

import itertools
from datetime import date
from types import SimpleNamespace

from django.utils import timezone
from stdnum.cn import ric

from eldercare.choices import AreaLevel, UserRole
from eldercare.models import Area, Department, DepartmentKind, User
from registry.models import Elder, ElderGuardian, Guardian

_serial = itertools.count(1)


def make_id_number(birth: date | None = None, male: bool = True, area: str = "511529") -> str:
    """A valid, unique 18-character resident ID number."""
    birth = birth or date(1950, 3, 12)
    seq = next(_serial) % 500 * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def birth_for_age(age: int, today: date | None = None) -> date:
    """A birth date that makes someone exactly `age` years old today (birthday passed last month)."""
    today = today or timezone.localdate()
    month = today.month - 1 or 12
    year = today.year - age - (1 if today.month == 1 else 0)
    return date(year, month, 1)


def make_user(username, role, area, department=None, **extra) -> User:
    return User.objects.create_user(username=username, password=None, role=role, area=area,
                                    department=department, is_staff=True, real_name=extra.pop("real_name", username),
                                    **extra)


def make_world() -> SimpleNamespace:
    county = Area.objects.create(code="511529", name="屏山县", level=AreaLevel.COUNTY)
    town = Area.objects.create(code="511529100", name="锦屏镇", level=AreaLevel.TOWN, parent=county)
    other_town = Area.objects.create(code="511529101", name="新市镇", level=AreaLevel.TOWN, parent=county)
    village = Area.objects.create(code="511529100201", name="李家湾村", level=AreaLevel.VILLAGE, parent=town)
    village2 = Area.objects.create(code="511529100202", name="青龙村", level=AreaLevel.VILLAGE, parent=town)
    other_village = Area.objects.create(code="511529101201", name="石板村", level=AreaLevel.VILLAGE, parent=other_town)
    police = Department.objects.create(town=town, name="锦屏镇派出所", kind=DepartmentKind.POLICE)
    justice = Department.objects.create(town=town, name="锦屏镇司法所", kind=DepartmentKind.JUSTICE)
    # A clinic is a department too: the clinic account belongs to it (cases referred to 卫生院).
    clinic = Department.objects.create(town=town, name="锦屏镇卫生院", kind=DepartmentKind.CLINIC)
    users = {
        "county": make_user("county", UserRole.COUNTY, county),
        "town": make_user("town", UserRole.TOWN, town),
        "village": make_user("village", UserRole.VILLAGE, village),
        "village2": make_user("village2", UserRole.VILLAGE, village2),
        "other_town": make_user("other_town", UserRole.TOWN, other_town),
        "other_village": make_user("other_village", UserRole.VILLAGE, other_village),
        "clinic": make_user("clinic", UserRole.CLINIC, town, department=clinic),
        "police": make_user("police", UserRole.DEPARTMENT, town, department=police),
        "justice": make_user("justice", UserRole.DEPARTMENT, town, department=justice),
    }
    return SimpleNamespace(county=county, town=town, other_town=other_town, village=village, village2=village2,
                           other_village=other_village, police=police, justice=justice, clinic=clinic,
                           users=users)


def make_elder(village, **fields) -> Elder:
    """An elder in `village`; pass `age=` for a given age, any Elder field to override."""
    age = fields.pop("age", None)
    male = fields.pop("male", True)
    if "id_number" not in fields:
        birth = birth_for_age(age) if age is not None else date(1950, 3, 12)
        fields["id_number"] = make_id_number(birth, male)
    fields.setdefault("name", "张德明")
    elder = Elder.objects.create(village=village, **fields)
    return Elder.objects.get(pk=elder.pk)  # with the flag annotations


def make_guardian(elder, relation="son", is_primary=True, **fields) -> Guardian:
    fields.setdefault("name", "张建华")
    fields.setdefault("phone", "13800001234")
    guardian = Guardian.objects.create(village_id=elder.village_id, **fields)
    ElderGuardian.objects.create(elder=elder, guardian=guardian, relation=relation, is_primary=is_primary)
    return guardian
