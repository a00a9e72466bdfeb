"""Derived flags: each defined once, read the same way by lists, filters and the profile."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.models import Elder, ElderQuerySet, age_on, latest_birth_date
from tests.factories import birth_for_age, make_elder, make_id_number

pytestmark = pytest.mark.django_db


def flags(elder):
    return {name for name in ("is_disabled", "is_alone", "is_hardship", "is_disabled_alone", "is_very_old",
                              "is_key_target") if getattr(elder, name)}


@pytest.mark.parametrize(("age", "very_old"), [(79, False), (80, True), (81, True)])
def test_very_old_starts_at_exactly_80(world, age, very_old):
    assert make_elder(world.village, age=age).is_very_old is very_old


def test_latest_birth_date_answers_age_at_least_for_every_day_and_birth_date():
    """born <= latest_birth_date(age, day) exactly when age_on(born, day) >= age — over every day of
    two leap years and their neighbours, and birth dates around 29 February."""
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(1, 1300)]  # 2024 and 2028 are leap years
    for age in (60, 65, 79, 80, 81):
        for day in days:
            limit = latest_birth_date(age, day)
            assert age_on(limit, day) >= age, (age, day)
            assert age_on(limit + timedelta(days=1), day) < age, (age, day)


@pytest.mark.parametrize("day", [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2025, 2, 28),
                                 date(2025, 3, 1), date(2026, 2, 28), date(2026, 3, 1)])
def test_very_old_in_sql_is_age_80_or_more_around_29_february(world, day):
    """The register's 高龄 (a birth-date comparison) marks exactly the elders PostgreSQL's AGE() makes
    80 or older, on and around 29 February, for elders born on and around one."""
    births = [date(1944, 2, 28), date(1944, 2, 29), date(1944, 3, 1), date(1945, 2, 28), date(1945, 3, 1),
              date(1946, 2, 28), date(1946, 3, 1)]
    for birth in births:
        make_elder(world.village, id_number=make_id_number(birth))
    rows = ElderQuerySet(Elder).with_flags(day).values_list("birth_date", "age", "is_very_old")
    assert len(rows) == len(births)
    for birth, age, very_old in rows:
        assert age == age_on(birth, day)
        assert very_old is (age >= 80), (birth, day, age)


def test_the_day_before_the_80th_birthday_is_not_very_old(world):
    today = timezone.localdate()
    birth = today.replace(year=today.year - 80) + timedelta(days=1)  # 80 tomorrow
    elder = make_elder(world.village, id_number=make_id_number(birth))
    assert elder.age == 79 and not elder.is_very_old


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, set()),
    ({"self_care": "partial"}, {"is_disabled"}),
    ({"self_care": "disabled"}, {"is_disabled"}),
    ({"living": "alone"}, {"is_alone"}),
    ({"self_care": "partial", "living": "alone"}, {"is_disabled", "is_alone", "is_disabled_alone", "is_key_target"}),
    ({"dibao": True}, {"is_hardship"}),
    ({"tekun": True}, {"is_hardship"}),
    ({"poverty_monitored": True}, {"is_hardship"}),
    ({"difficulties": ["economic"]}, {"is_hardship"}),
    ({"difficulties": ["medical"]}, set()),
    # 重点对象: (高龄 or 失能) together with 经济困难, or 失能独居
    ({"self_care": "disabled", "dibao": True}, {"is_disabled", "is_hardship", "is_key_target"}),
    ({"age": 85, "tekun": True}, {"is_very_old", "is_hardship", "is_key_target"}),
    ({"age": 85}, {"is_very_old"}),
    ({"age": 85, "living": "alone"}, {"is_very_old", "is_alone"}),
    ({"age": 79, "dibao": True}, {"is_hardship"}),
    ({"age": 85, "self_care": "disabled"}, {"is_very_old", "is_disabled"}),
])
def test_derived_flags(world, fields, expected):
    fields = {"age": 70, **fields}
    assert flags(make_elder(world.village, **fields)) == expected


def test_flags_follow_changes_of_the_underlying_facts(world):
    elder = make_elder(world.village, self_care="disabled", living="alone")
    assert elder.is_disabled_alone and elder.is_key_target
    Elder.objects.filter(pk=elder.pk).update(living="spouse")
    elder = Elder.objects.get(pk=elder.pk)
    assert not elder.is_disabled_alone and not elder.is_key_target


def test_list_filters_use_the_flags(client, world):
    make_elder(world.village, name="孤老甲", self_care="disabled", living="alone")
    make_elder(world.village, name="健康乙", age=70)
    make_elder(world.village, name="高龄丙", age=80)
    client.force_login(world.users["village"])
    page = client.get(reverse("registry:elders") + "?flag=disabled_alone").content.decode()
    assert "孤老甲" in page and "健康乙" not in page
    page = client.get(reverse("registry:elders") + "?flag=very_old").content.decode()
    assert "高龄丙" in page and "健康乙" not in page
    changelist = client.get(reverse("admin:registry_elder_changelist") + "?is_key_target=1").content.decode()
    assert "孤老甲" in changelist and "健康乙" not in changelist
    changelist = client.get(reverse("admin:registry_elder_changelist") + "?is_very_old=1").content.decode()
    assert "高龄丙" in changelist and "孤老甲" not in changelist


def test_profile_shows_disabled_alone_as_a_red_alert(client, world):
    elder = make_elder(world.village, self_care="disabled", living="alone")
    client.force_login(world.users["village"])
    page = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert 'class="alert-box"' in page and "目前没有有效的委托照顾协议" in page


def test_birth_for_age_helper_is_consistent(world):
    assert make_elder(world.village, id_number=make_id_number(birth_for_age(80))).age == 80
