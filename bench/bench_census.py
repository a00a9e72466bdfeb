"""Census import at county scale (`python -m bench census`; CENSUS_BENCH_ROWS to change 200,000).

Against a copy of the county dataset (eldercare_bench → eldercare_census_bench, made fresh per
run from the seeded database as a template), with a generated workbook over the county's real
villages, it measures each step in a process of its own; the peak memory is that process's
together with its children (the import reads .xlsx rows in a child process):

- python-calamine alone reading the sheet (the yardstick: the median of three reads);
- the full import (`manage.py import_census --json`: parse, validate, resolve, write, history);
- re-importing the unchanged file, after a VACUUM ANALYZE of the tables the import filled (see
  _settle);
- a plain django-import-export ModelResource import of a 10,000-row slice (the baseline;
  CENSUS_BENCH_BASELINE_ROWS=0 skips it).

Targets (issue 4): full ≤ 6× calamine, re-import ≤ 3×, peak RSS ≤ 600 MB, rows/s ≥ 15× baseline.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
COPY_DB = "eldercare_census_bench"
BENCH_USER = "census_bench"


CPU = {}  # "last" → user + system CPU seconds of the last child and its own children


def _measure(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak MB, stdout) of `python args…` in a process of its own.

    The peak is the process's own largest resident memory plus that of its children (the
    import's .xlsx reader runs in a child process: the budget is for the two together), as the
    kernel counts them (getrusage, reported by _report_rusage): a sum of the two peaks, so never
    below the true peak of the pair, and nothing sampling /proc while the import is timed.

    The CPU seconds of the process and its descendants go to CPU["last"]: on a shared, loaded
    machine wall time inflates, CPU time much less (PostgreSQL's own CPU is not included)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bench.bench_census", "rusage", report.name, *args],
                              capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT)
        wall = time.perf_counter() - started
        peaks = json.loads(report.read() or "{}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = usage.ru_utime + usage.ru_stime - CPU.get("total", 0.0)
    CPU["total"] = usage.ru_utime + usage.ru_stime
    if done.returncode not in (0, 1) or not peaks:
        raise RuntimeError(f"{args} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, (peaks["self"] + peaks["children"]) / 1024, done.stdout


def _report_rusage(path: str, args: list[str]) -> None:
    """Run `python args…` here (a script or `-m module`), then write the peak resident memory
    (KB) of this process and of its largest child to `path`, however the script ends."""
    import runpy

    sys.argv = args[1:] if args[0] == "-m" else args
    try:
        if args[0] == "-m":
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(args[0], run_name="__main__")
    finally:
        with open(path, "w") as out:
            json.dump({"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                       "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, out)


def _calamine_read(path: str) -> None:
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(path)
    sheet = workbook.get_sheet_by_index(0)
    count = sum(1 for _ in sheet.iter_rows())
    print(count)


def _baseline(path: str, rows: int) -> None:
    """A plain django-import-export ModelResource import of the first `rows` good rows."""
    import django

    django.setup()
    import tablib
    from import_export import fields, resources

    from registry.census.engine import open_census
    from registry.models import Elder

    class ElderResource(resources.ModelResource):
        village = fields.Field(attribute="village_id", column_name="village")

        class Meta:
            model = Elder
            import_id_fields = ["id_number"]
            fields = ["village", "name", "id_number", "address", "living", "health", "self_care", "diseases",
                      "needs", "cadre", "surveyed_by", "notes"]
            use_bulk = False  # "plain": the default row-by-row import

    from eldercare.models import Area

    # Village names repeat from town to town: by (village, town) as the census import does.
    by_name = {(name, town): code for code, name, town in
               Area.objects.filter(level="village").values_list("code", "name", "parent__name")}
    dataset = tablib.Dataset(headers=ElderResource.Meta.fields)
    with open_census(path, filename=Path(path).name) as census:
        for row in census.rows():
            values = row.values
            village = by_name.get((values.get("village"), values.get("town")))
            if not row.ok or village is None:
                continue
            dataset.append([village, *[str(values.get(key, "")) for key in ElderResource.Meta.fields[1:]]])
            if len(dataset) >= rows:
                break
    started = time.perf_counter()
    result = ElderResource().import_data(dataset, dry_run=False, use_transactions=True, raise_errors=True)
    elapsed = time.perf_counter() - started
    print(json.dumps({"rows": len(dataset), "seconds": elapsed, "new": result.totals["new"]}))


def _prepare(rows: int) -> tuple[str, float | None]:
    """Seeded county dataset, its copy for this run, the bench user and the workbook."""
    from django.db import connection

    from bench.common import ensure_county_dataset
    from eldercare.models import Area, User

    seeded = ensure_county_dataset()
    if not User.objects.filter(username=BENCH_USER).exists():
        User.objects.create_superuser(BENCH_USER, password=None)  # county-wide import
    WORK.mkdir(parents=True, exist_ok=True)
    villages = WORK / "census-villages.csv"
    with open(villages, "w", newline="") as handle:
        csv.writer(handle).writerows(Area.objects.filter(level="village").values_list("code", "name", "parent__name"))
    workbook = WORK / f"census-county-towns-{rows}.xlsx"
    if not workbook.exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "bench/make_census_workbook.py", "--rows", str(rows), "--villages-csv",
                        str(villages), "--out", str(workbook)], check=True, cwd=ROOT)
        print(f"workbook generated in {time.perf_counter() - started:.0f} s")
    source = connection.settings_dict["NAME"]
    connection.close()
    import psycopg

    from eldercare.embedded_db import _server

    with psycopg.connect(_server().get_uri(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{COPY_DB}"')
        # FILE_COPY, not PostgreSQL 15's default WAL_LOG: the copy would otherwise go through the
        # WAL (a gigabyte of it), and the checkpoints it sets off would land inside the import timed next.
        admin.execute(f'CREATE DATABASE "{COPY_DB}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        admin.execute("CHECKPOINT")
    return str(workbook), seeded


def _settle() -> float:
    """VACUUM ANALYZE the tables the import filled, as the nightly maintenance would, and
    CHECKPOINT: otherwise autovacuum wakes up within a minute of the import and works through the
    new rows, and the checkpointer writes out the import's pages, while the re-import is timed."""
    import psycopg

    from eldercare.embedded_db import _server

    started = time.perf_counter()
    with psycopg.connect(_server().get_uri(database=COPY_DB), autocommit=True) as conn:
        for table in ("registry_elder", "registry_guardian", "registry_elderguardian", "registry_careagreement",
                      "registry_elderevent", "registry_guardianevent", "registry_elderguardianevent",
                      "registry_careagreementevent"):
            conn.execute(f'VACUUM (ANALYZE) "{table}"')
        conn.execute("CHECKPOINT")  # the import's gigabyte of dirty pages written out now, not during the re-import
    return time.perf_counter() - started


def main() -> None:
    rows = int(os.environ.get("CENSUS_BENCH_ROWS", 200_000))
    workbook, seeded = _prepare(rows)
    if seeded:
        print(f"county dataset seeded in {seeded:.0f} s")
    env = {"EMBEDDED_DB_NAME": COPY_DB, "DEBUG": "1"}
    size = os.path.getsize(workbook) / 1024 / 1024
    print(f"workbook: {workbook} ({size:.1f} MB, {rows} rows)")

    # The yardstick, read three times: the median (this machine's timings wander by 10–20%).
    reads = []
    for _ in range(3):
        wall, rss, _ = _measure(["-m", "bench.bench_census", "calamine", workbook])
        reads.append((wall, rss, CPU["last"]))
    calamine, calamine_rss, calamine_cpu = sorted(reads)[1]
    print(f"calamine read:         {calamine:6.1f} s   peak {calamine_rss:5.0f} MB   cpu {calamine_cpu:6.1f} s   "
          f"(median of {', '.join(f'{wall:.1f}' for wall, _, _ in reads)} s)")

    full, full_rss, out = _measure(["manage.py", "import_census", workbook, "--user", BENCH_USER, "--json"],
                                   env)
    result = json.loads(out)
    print(f"full import:           {full:6.1f} s   peak {full_rss:5.0f} MB   ratio {full / calamine:4.1f}×  "
          f"cpu {CPU['last']:6.1f} s ({CPU['last'] / calamine_cpu:4.1f}× calamine cpu)  "
          f"(new {result['new']}, updated {result['updated']}, unchanged {result['unchanged']}, "
          f"rejected {result['rejected']}, warnings {result['warnings']})")

    settled = _settle()
    print(f"vacuum, checkpoint:    {settled:6.1f} s   (the new rows' maintenance, done now rather than by "
          "autovacuum and the checkpointer during the re-import)")
    again, again_rss, out = _measure(["manage.py", "import_census", workbook, "--user", BENCH_USER, "--json"],
                                     env)
    result2 = json.loads(out)
    print(f"re-import unchanged:   {again:6.1f} s   peak {again_rss:5.0f} MB   ratio {again / calamine:4.1f}×  "
          f"cpu {CPU['last']:6.1f} s ({CPU['last'] / calamine_cpu:4.1f}× calamine cpu)  "
          f"(new {result2['new']}, updated {result2['updated']}, unchanged {result2['unchanged']})")

    slice_rows = int(os.environ.get("CENSUS_BENCH_BASELINE_ROWS", 10_000))
    if not slice_rows:
        return
    _, _, out = _measure(["-m", "bench.bench_census", "baseline", workbook, str(slice_rows)],
                         {**env, "DJANGO_SETTINGS_MODULE": "eldercare.settings"})
    baseline = json.loads(out.strip().splitlines()[-1])
    base_rate = baseline["rows"] / baseline["seconds"]
    ours = result["rows"] / full
    print(f"django-import-export:  {baseline['rows']} rows in {baseline['seconds']:.1f} s = {base_rate:6.0f} rows/s; "
          f"census import {ours:6.0f} rows/s = {ours / base_rate:4.1f}×")
    print("targets: full ≤ 6×, re-import ≤ 3×, peak ≤ 600 MB, ≥ 15× rows/s")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
    os.environ.setdefault("DEBUG", "1")
    if sys.argv[1] == "rusage":
        _report_rusage(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "calamine":
        _calamine_read(sys.argv[2])
    elif sys.argv[1] == "baseline":
        _baseline(sys.argv[2], int(sys.argv[3]))
