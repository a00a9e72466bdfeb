"""`python -m bench.province [--flush]` — the province-scale benchmark dataset, by COPY;
`python -m bench.province --measure` — the oversight pages' timings on it.

`--scale province` of the benchmark data (docs/performance.md, "Province scale"): 1,000,000
elders and 20,000,000 visits over two years, in 33 counties × 11 towns × 14 villages (5,082
villages of ~197 elders), for the dashboards' and reports' timings at that size. Everything goes
in through PostgreSQL COPY in chunks of 500,000 rows, one statement each, with no per-row work
in the database (`_bulk_load`: triggers off, the secondary indexes and the unique and foreign-key
constraints dropped and made again afterwards, which checks every row at once); then the oversight
rollup is rebuilt and the visit state computed set-wise, and the tables vacuumed and analysed. The flags,
dates and visit rhythm follow the county seeder's proportions (registry/demo.py,
visits/demo.py) in a simpler form: this set is for timing, not for looking at. It holds the
register and the visits only (no cases, assessments, checks or services).

The benchmark database only — DATABASE_URL's, or `eldercare_province` in the embedded server
when it is unset: the rows carry no audit ("insert") history events (at this size they would
double the run for rows nobody will audit), and `--flush` empties the database first. `--factor`
scales the counts (0.001: 1,000 elders and 20,000 visits, what the tests run); the full run
prints its rate, rows per second per table. `--measure` logs in as the first county's and first
town's overseers (pvcounty, pvtown) and times bench/bench_oversight.py's pages.
"""

import argparse
import os
import random
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
os.environ.setdefault("DEBUG", "1")
if "DATABASE_URL" not in os.environ:
    os.environ.setdefault("EMBEDDED_DB_NAME", "eldercare_province")  # never the demo database
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ELDERS, VISITS = 1_000_000, 20_000_000
COUNTIES, TOWNS_PER_COUNTY, VILLAGES_PER_TOWN = 33, 11, 14
PROVINCE_PREFIX = "51"  # 四川: county codes 51 + 4 digits (not the real list: invented, valid in form)
CHUNK = 500_000
DAYS = 730
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰玉华明德福贵春芳建国志强淑珍"
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
ELDER_COLUMNS = ["id", "village_id", "village_group", "name", "name_initials", "id_number", "birth_date", "sex",
                 "ethnicity", "phones", "address", "living", "health", "self_care", "diseases", "income_sources",
                 "difficulties", "needs", "cadre", "surveyed_by", "notes", "status", "risk_level", "dibao",
                 "created_at", "updated_at", "responsible_worker_id"]
VISIT_COLUMNS = ["elder_id", "visitor_id", "visited_at", "method", "met_with", "health_check", "mental_check",
                 "housing_check", "fire_check", "weather_check", "diet_check", "hygiene_check", "family_check",
                 "checklist_note", "needs_raised", "notes", "photo", "outcome", "notify_family", "report_to_town",
                 "request_service", "submission_key", "created_at", "updated_at"]


def id_number(area: str, birth: date, sequence: int) -> str:
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def plan(factor: float) -> dict:
    """How many of each: elders and visits scaled by `factor`, and enough counties for them
    (a small factor keeps one county of real size per village)."""
    elders, visits = max(1, round(ELDERS * factor)), max(1, round(VISITS * factor))
    villages_per_county = TOWNS_PER_COUNTY * VILLAGES_PER_TOWN
    counties = max(1, min(COUNTIES, round(COUNTIES * factor * 10)))
    return {"elders": elders, "visits": visits, "counties": counties,
            "villages": counties * villages_per_county}


def _areas(counties: int):
    from eldercare.choices import AreaLevel
    from eldercare.models import Area

    rows, villages = [], []
    for c in range(counties):
        county = f"{PROVINCE_PREFIX}{60 + c // 30:02d}{c % 30 + 1:02d}"
        rows.append(Area(code=county, name=f"基准县{c + 1}", level=AreaLevel.COUNTY))
        for t in range(TOWNS_PER_COUNTY):
            town = f"{county}{100 + t:03d}"
            rows.append(Area(code=town, name=f"基准县{c + 1}第{t + 1}镇", level=AreaLevel.TOWN, parent_id=county))
            for v in range(VILLAGES_PER_TOWN):
                code = f"{town}{201 + v:03d}"
                rows.append(Area(code=code, name=f"第{v + 1}村", level=AreaLevel.VILLAGE, parent_id=town))
                villages.append(code)
    Area.objects.bulk_create(rows, batch_size=5000)
    return villages


def _workers(villages) -> dict:
    """One village worker per village (the visitor of its visits), and the first county's and
    first town's overseers; one password hash for all."""
    from django.contrib.auth.hashers import make_password

    from eldercare.choices import UserRole
    from eldercare.models import User

    password = make_password(None)  # unusable: benchmark accounts cannot log in
    users = [User(username=f"pv{code}", real_name=f"{code}文书", role=UserRole.VILLAGE, area_id=code,
                  is_staff=True, password=password) for code in villages]
    county, town = villages[0][:6], villages[0][:9]  # the overseers `--measure` logs in as
    users += [User(username="pvcounty", real_name="基准县1民政局", role=UserRole.COUNTY, area_id=county,
                   is_staff=True, password=password),
              User(username="pvtown", real_name="基准县1第1镇民政办", role=UserRole.TOWN, area_id=town,
                   is_staff=True, password=password)]
    User.objects.bulk_create(users, batch_size=5000)
    return dict(User.objects.filter(username__startswith="pv", role=UserRole.VILLAGE).values_list("area_id", "id"))


def _copy(cursor, table, columns, lines) -> int:
    """COPY `lines` into `table`, one statement per CHUNK rows."""
    count, chunk = 0, []

    def flush():
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write("".join(chunk))

    for line in lines:
        chunk.append(line)
        if len(chunk) == CHUNK:
            flush()
            count += len(chunk)
            chunk.clear()
    if chunk:
        flush()
        count += len(chunk)
    return count


@contextmanager
def _bulk_load(cursor, table):
    """Inside the block rows go into `table` with no per-row work: no triggers (the insert history,
    the rollup's statement triggers, the foreign-key checks — session_replication_role), and no
    index to keep (the secondary indexes and the unique and foreign-key constraints are dropped
    first and made again after, each in one pass that also checks every row: a duplicate ID number
    or a dangling reference still fails the load). Growing five indexes a row at a time is what
    made the visits slow down from ~8,500 to ~1,700 rows/s once they outgrew memory. The caller
    rebuilds what the triggers would have kept (the rollup). In the caller's transaction."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
        [table])
    indexes = cursor.fetchall()
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                   " WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC", [table])
    constraints = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _, name in indexes:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    cursor.execute("SET LOCAL session_replication_role = origin")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for definition, _ in indexes:
        cursor.execute(definition)
    for name, definition in reversed(constraints):
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _elder_lines(rng, villages, workers, elders, first_id, today, stamp):
    living = ["alone"] * 22 + ["spouse"] * 45 + ["grandchildren"] * 18 + ["relatives"] * 10 + ["other"] * 5
    self_care = ["independent"] * 80 + ["partial"] * 13 + ["disabled"] * 7
    risk = ["low"] * 30 + ["medium"] * 40 + ["high"] * 15 + [""] * 15
    per_village = elders / len(villages)
    for n in range(elders):
        village = villages[min(int(n / per_village), len(villages) - 1)]
        age = 60 + int(rng.random() ** 1.6 * 38)
        # Month, day and the 3-digit sequence from n: no two elders of one county (fewer than
        # 12 × 28 × 1000 of them) share a number, whatever years the draw gives them.
        birth = date(today.year - age, 1 + n % 12, 1 + (n // 12) % 28)
        sequence = (n // 336) % 1000
        name = SURNAMES[n % 20] + GIVEN[(n // 20) % 16] + GIVEN[(n // 320) % 16]
        yield (f"{first_id + n}\t{village}\t{1 + n % 6}组\t{name}\tbm\t{id_number(village[:6], birth, sequence)}\t"
               f"{birth}\t{'male' if sequence % 2 else 'female'}\t汉族\t{{139{n % 100_000_000:08d}}}\t{1 + n % 6}组{n % 90 + 1}号\t"
               f"{rng.choice(living)}\tfair\t{rng.choice(self_care)}\t\t{{}}\t{{}}\t\t\t\t\tactive\t{rng.choice(risk)}\t"
               f"{'t' if rng.random() < 0.12 else 'f'}\t{stamp}\t{stamp}\t{workers[village]}\n")


def _visit_lines(rng, villages, workers, elders, first_id, visits, today, offset):
    """Visits spread over the last two years, each elder about `visits / elders` of them."""
    per_village = elders / len(villages)
    checks = "\t".join(["normal"] * 8)
    day_text = [(today - timedelta(days=back)).isoformat() for back in range(DAYS)]
    random = rng.random
    for _ in range(visits):
        e = int(random() * elders)
        village = villages[min(int(e / per_village), len(villages) - 1)]
        text = day_text[1 + int(random() ** 1.3 * (DAYS - 1))]  # not today: nothing after now
        minute = 480 + int(random() * 600)
        r = random()
        method = "phone" if r < 0.55 else "home" if r < 0.93 else "video" if r < 0.98 else "proxy"
        outcome = "normal" if random() < 0.86 else "attention"
        stamp = f"{text} {minute // 60:02d}:{minute % 60:02d}:00{offset}"
        yield (f"{first_id + e}\t{workers[village]}\t{stamp}\t{method}\t本人\t{checks}\t\t\t\t\t{outcome}\tf\tf\tf\t"
               f"{rng.getrandbits(128):032x}\t{stamp}\t{stamp}\n")


def generate(factor: float = 1.0, *, flush: bool = False, seed: int = 20261130, log=print) -> dict:
    """Create the province dataset (scaled by `factor`) in the current database; returns the
    counts and the seconds each step took."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from oversight import rollup
    from visits.services import refresh_visit_state

    call_command("migrate", verbosity=0)
    if flush:
        call_command("flush", interactive=False, verbosity=0)
    counts = plan(factor)
    rng = random.Random(seed)
    today = timezone.localdate()
    offset = timezone.localtime().strftime("%z")
    stamp = f"{today - timedelta(days=DAYS)} 09:00:00{offset}"
    timings = {}
    started = time.perf_counter()
    with transaction.atomic():
        villages = _areas(counts["counties"])
        workers = _workers(villages)
    timings["areas and accounts"] = time.perf_counter() - started
    log(f"区划：{counts['counties']} 个县，{len(villages)} 个村；账号 {len(workers)} 个")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM registry_elder")
        first_id = cursor.fetchone()[0]
    for table, columns, lines, key in [
        ("registry_elder", ELDER_COLUMNS,
         _elder_lines(rng, villages, workers, counts["elders"], first_id, today, stamp), "elders"),
        ("visits_visit", VISIT_COLUMNS,
         _visit_lines(rng, villages, workers, counts["elders"], first_id, counts["visits"], today, offset), "visits"),
    ]:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor, _bulk_load(cursor, table):
            written = _copy(cursor, table, columns, lines)
        timings[key] = time.perf_counter() - started
        log(f"{table}: {written:,} 行，{timings[key]:.1f} 秒（{written / timings[key]:,.0f} 行/秒）")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('registry_elder', 'id'), MAX(id)) FROM registry_elder")
    started = time.perf_counter()
    rollup.rebuild()
    timings["rollup"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        refresh_visit_state()
    timings["visit state"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("registry_elder", "visits_visit", "visits_eldervisitstate", "oversight_visitday"):
            cursor.execute(f"VACUUM ANALYZE {table}")  # as autovacuum would leave them (visibility map, statistics)
    timings["vacuum analyze"] = time.perf_counter() - started
    log("用时：" + "，".join(f"{k} {v:.1f} 秒" for k, v in timings.items()))
    return {**counts, "timings": timings}


def measure() -> None:
    """The oversight benchmark's pages (bench/bench_oversight.py) on the province dataset, as the
    county dataset's are measured: a child process with the production settings, logged in as the
    first county's and first town's overseers. In place, not on a copy (the pages only read, and a
    copy of this database is tens of gigabytes to write)."""
    from bench.common import measure_in_production

    measure_in_production("bench_oversight", env={"BENCH_OVERSIGHT_ACCOUNTS": "town=pvtown;county=pvcounty"})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.province", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["province"], default="province")
    parser.add_argument("--factor", type=float, default=1.0, help=argparse.SUPPRESS)  # tests: a small province
    parser.add_argument("--flush", action="store_true", help="empty the benchmark database first")
    parser.add_argument("--measure", action="store_true",
                        help="time the oversight pages on the generated dataset instead of generating it")
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.conf import settings

    if not settings.DEBUG:
        raise SystemExit("DEBUG is off: this may be production; the province dataset goes into a benchmark database.")
    if args.measure:
        measure()
        return
    started = time.perf_counter()
    generate(args.factor, flush=args.flush)
    print(f"--scale province (factor {args.factor}): {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
