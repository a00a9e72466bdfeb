"""The province-scale benchmark generator (bench/province.py) on a small factor: the counts it
promises, rows the app reads (the register, the schedule, the dashboards), the visit rollup equal to the
live count, and a dashboard that opens on it."""

import re

import pytest
from django.urls import reverse

from bench import province
from eldercare.models import Area, User
from oversight import rollup
from registry.models import Elder
from tests.factories import make_elder
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
    assert rollup.differences() == []  # rebuilt after the COPY, which ran with the triggers off
    elder = Elder.objects.filter(village__code__startswith="5160").first()
    elder.full_clean(exclude=["responsible_worker"])  # a valid register row (ID number, choices …)
    client.force_login(User.objects.get(username="pvcounty"))  # the overseers `--measure` logs in as
    response = client.get(reverse("oversight:dashboard"))
    assert response.status_code == 200 and "基准县1" in response.content.decode()
    client.force_login(User.objects.get(username="pvtown"))
    assert client.get(reverse("oversight:scorecard")).status_code == 200


def test_id_numbers_are_unique_within_a_county_at_full_scale_and_agree_with_the_sex():
    """A county of the full province holds 1,000,000 / 33 elders: the generator's ID numbers (its
    area code, birth day and sequence) must not repeat there — they once did at row 21,008."""
    import random
    from datetime import date

    per_county = -(-province.ELDERS // province.COUNTIES)
    villages = [f"516001{n:03d}000" for n in range(154)]
    lines = province._elder_lines(random.Random(1), villages, dict.fromkeys(villages, ""), per_county, 1,
                                  date(2026, 11, 30), "2026-11-30")
    rows = [line.split("\t") for line in lines]
    numbers = [row[5] for row in rows]
    assert len(numbers) == per_county == len(set(numbers))
    assert all((int(number[16]) % 2 == 1) == (row[7] == "male") for number, row in zip(numbers, rows, strict=True))


def _schema(table):
    """The table's indexes (name, definition in PostgreSQL's words, casts and brackets left out)
    and constraints. An index is made again from PostgreSQL's own text of it, which may differ from
    a migration's in form only: visit_elder_change's `IN` list, `ANY ((ARRAY['attention'::character
    varying, …])::text[])`, comes back as `ANY (ARRAY[('attention'::character varying)::text, …])`
    (and stays so: which form a test database holds depends on whether an earlier test in it
    loaded the table for good)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table])
        indexes = [(name, re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", definition)) for name, definition in cursor]
        cursor.execute("SELECT conname, pg_get_constraintdef(oid), condeferrable, condeferred, convalidated"
                       " FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1", [table])
        return indexes, cursor.fetchall()


@pytest.mark.parametrize("table", ["registry_elder", "visits_visit"])
def test_a_bulk_load_leaves_the_tables_indexes_and_constraints_as_they_were(table):
    from django.db import connection, transaction

    before = _schema(table)
    with transaction.atomic(), connection.cursor() as cursor, province._bulk_load(cursor, table):
        pass
    assert _schema(table) == before and len(before[0]) >= 5


def test_a_bulk_load_still_refuses_a_duplicate_id_number(world):
    """The unique constraint is dropped during the COPY and made again after it: making it again
    checks every row, so a duplicate fails the load and nothing of it stays."""
    from django.db import IntegrityError, connection, transaction

    elder = make_elder(world.village)
    before = Elder.objects.count()
    columns = ", ".join(f.column for f in Elder._meta.concrete_fields if f.column != "id" and not f.generated)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor, \
            province._bulk_load(cursor, "registry_elder"):
        cursor.execute(f"INSERT INTO registry_elder (id, {columns}) SELECT (SELECT MAX(id) + 1 FROM registry_elder),"
                       f" {columns} FROM registry_elder WHERE id = %s", [elder.pk])
    assert Elder.objects.count() == before
    assert _schema("registry_elder")[0]  # the indexes are back: the failed load rolled back with them
