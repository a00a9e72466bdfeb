"""The province-scale benchmark generator (bench/province.py) on a small factor: the counts it
promises, rows the app reads (the register, the schedule, the dashboards), the visit rollup equal to the
live count, and a dashboard that opens on it."""

import pytest
from django.urls import reverse

from bench import province
from eldercare.models import Area
from oversight import rollup
from registry.models import Elder
from visits.models import ElderVisitState, Visit

pytestmark = pytest.mark.django_db(transaction=True)  # COPY and set_wise_history run their own transactions


def test_the_full_plan_is_a_million_elders_and_twenty_million_visits():
    full = province.plan(1.0)
    assert (full["elders"], full["visits"], full["counties"], full["villages"]) == (1_000_000, 20_000_000, 33, 5082)


def test_a_small_province_is_generated_by_copy_and_reads_like_the_county(client, world):
    result = province.generate(0.001, log=lambda *a: None)
    assert result["elders"] == 1000 and result["visits"] == 20_000
    assert Elder.objects.filter(village__code__startswith=province.PROVINCE_PREFIX + "60").count() == 1000
    assert Visit.objects.filter(elder__village__code__startswith=province.PROVINCE_PREFIX + "60").count() == 20_000
    assert Area.objects.filter(level="village", code__startswith=province.PROVINCE_PREFIX + "60").count() == 154
    assert ElderVisitState.objects.filter(last_visit_at__isnull=False).count() > 900
    assert rollup.differences() == []  # the statement triggers kept the rollup through the COPY
    elder = Elder.objects.filter(village__code__startswith="5160").first()
    elder.full_clean(exclude=["responsible_worker"])  # a valid register row (ID number, choices …)
    client.force_login(world.users["county"].__class__.objects.create_superuser("pvroot", password="x"))
    county = Area.objects.get(level="county", code__startswith="5160")
    response = client.get(reverse("oversight:dashboard"), {"area": county.code})
    assert response.status_code == 200 and "基准县1" in response.content.decode()
