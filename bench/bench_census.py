"""Census import at county scale (`python -m bench census`; CENSUS_BENCH_ROWS to change 200,000).

Against a copy of the county dataset (eldercare_bench → eldercare_census_bench, made fresh per
run from the seeded database as a template), with a generated workbook over the county's real
villages, it measures each step in a process of its own; the peak memory is that process's
together with its children (the import reads .xlsx rows in a child process):

- python-calamine alone reading the sheet (the yardstick);
- the full import (`manage.py import_census --json`: parse, validate, resolve, write, history);
- re-importing the unchanged file;
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
COPY_DB = "eldercare_census_bench"
BENCH_USER = "census_bench"


CPU = {}  # "last" → user + system CPU seconds of the last child and its own children


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (the import's .xlsx reader runs in
    a child process of its own: the budget is for the two together)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _measure(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak MB, stdout) of one child process. The peak is the largest sum of
    the resident memory of the process and its descendants, sampled every 20 ms.

    The CPU seconds of the process and its descendants go to CPU["last"]: on a shared, loaded
    machine wall time inflates, CPU time much less (PostgreSQL's own CPU is not included)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})}, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = usage.ru_utime + usage.ru_stime - CPU.get("total", 0.0)
    CPU["total"] = usage.ru_utime + usage.ru_stime
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{args} failed ({process.returncode}):\n{stderr[-3000:]}")
    return wall, peak / 1024, stdout


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

    from registry.census import open_census
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

    by_name = dict(Area.objects.filter(level="village").values_list("name", "code"))
    dataset = tablib.Dataset(headers=ElderResource.Meta.fields)
    with open_census(path, filename=Path(path).name) as census:
        for row in census.rows():
            values = row.values
            if not row.ok or values.get("village") not in by_name:
                continue
            dataset.append([by_name[values["village"]], *[str(values.get(key, "")) for key in ElderResource.Meta.fields[1:]]])
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


def main() -> None:
    rows = int(os.environ.get("CENSUS_BENCH_ROWS", 200_000))
    workbook, seeded = _prepare(rows)
    if seeded:
        print(f"county dataset seeded in {seeded:.0f} s")
    env = {"EMBEDDED_DB_NAME": COPY_DB, "DEBUG": "1"}
    python = sys.executable
    size = os.path.getsize(workbook) / 1024 / 1024
    print(f"workbook: {workbook} ({size:.1f} MB, {rows} rows)")

    calamine, calamine_rss, _ = _measure([python, "-m", "bench.bench_census", "calamine", workbook])
    calamine_cpu = CPU["last"]
    print(f"calamine read:         {calamine:6.1f} s   peak {calamine_rss:5.0f} MB   cpu {calamine_cpu:6.1f} s")

    full, full_rss, out = _measure([python, "manage.py", "import_census", workbook, "--user", BENCH_USER, "--json"],
                                   env)
    result = json.loads(out)
    print(f"full import:           {full:6.1f} s   peak {full_rss:5.0f} MB   ratio {full / calamine:4.1f}×  "
          f"cpu {CPU['last']:6.1f} s ({CPU['last'] / calamine_cpu:4.1f}× calamine cpu)  "
          f"(new {result['new']}, updated {result['updated']}, unchanged {result['unchanged']}, "
          f"rejected {result['rejected']}, warnings {result['warnings']})")

    again, again_rss, out = _measure([python, "manage.py", "import_census", workbook, "--user", BENCH_USER, "--json"],
                                     env)
    result2 = json.loads(out)
    print(f"re-import unchanged:   {again:6.1f} s   peak {again_rss:5.0f} MB   ratio {again / calamine:4.1f}×  "
          f"cpu {CPU['last']:6.1f} s ({CPU['last'] / calamine_cpu:4.1f}× calamine cpu)  "
          f"(new {result2['new']}, updated {result2['updated']}, unchanged {result2['unchanged']})")

    slice_rows = int(os.environ.get("CENSUS_BENCH_BASELINE_ROWS", 10_000))
    if not slice_rows:
        return
    _, _, out = _measure([python, "-m", "bench.bench_census", "baseline", workbook, str(slice_rows)],
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
    if sys.argv[1] == "calamine":
        _calamine_read(sys.argv[2])
    elif sys.argv[1] == "baseline":
        _baseline(sys.argv[2], int(sys.argv[3]))
