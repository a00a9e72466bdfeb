"""Oversight at county scale: the dashboards, a drill-down list, the reports and the scorecard
(`python -m bench oversight`; issues 12, 13, 18).

On a fresh copy of the county dataset (`seed_demo --scale county`: 30,705 elders, 870,411 visits;
copied and `VACUUM ANALYZE`d by bench.common.scratch_database, so every run starts from the same
rows and statistics), a child process with DEBUG=0 and the README's production settings requests
each page through the Django test client and prints, per page:

- the median wall time of the timed requests (inflated on a loaded machine);
- the median CPU time of the Django process (`time.process_time()`: view, template) and the mean
  CPU time of its PostgreSQL backend (/proc; 10 ms ticks, parallel workers not counted) — the
  figures that hold up on the shared 2-core machine — and their sum beside the target;
- the query count (pinned at small scale in tests/oversight/test_pages.py) and the page's slowest
  queries, each re-run alone;

and the load average before and after. Targets: the town dashboard, the county dashboard and a
yearly county report < 300 ms; the county scorecard for a quarter < 500 ms; issue 18: town pages
≤ 80 ms. BENCH_OVERSIGHT_REPEAT sets the timed requests per page (default 7, after 2 warm-up
requests); BENCH_OVERSIGHT_ONLY="LABEL;…" measures only those pages (labels contain commas); BENCH_OVERSIGHT_PROFILE=LABEL
prints a cProfile of that page's Python instead; BENCH_OVERSIGHT_SLOWEST=N the slowest queries
shown per page (default 3; 0: none); BENCH_OVERSIGHT_ACCOUNTS="town=NAME;county=NAME" the accounts
(bench/province.py measures the province dataset's with it).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY_SUFFIX = "oversight"


def main() -> None:
    from bench.common import measure_in_production

    measure_in_production("bench_oversight", COPY_SUFFIX)


# (label, username, URL, target ms)
PAGES = [
    ("town dashboard (month)", "town", "/oversight/", 300),
    ("county dashboard (month)", "county", "/oversight/", 300),
    ("county dashboard (year)", "county", "/oversight/?period=year", None),
    ("county: one town's dashboard", "county", "/oversight/?area={town_area}", None),
    ("drill-down: county overdue", "county", "/oversight/rows/overdue/", None),
    ("county report, this year (live)", "county", "/oversight/report/?period=year", 300),
    ("town report, this month (live)", "town", "/oversight/report/", None),
    ("county scorecard, this quarter", "county", "/oversight/scorecard/", 500),
    ("town scorecard, this quarter", "town", "/oversight/scorecard/", None),
]


def _slowest(client, url, n):
    """The page's SELECTs, each re-run once on its own and timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    timed = []
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timed.append((time.perf_counter() - started, sql[:110].replace("\n", " ")))
    return sorted(timed, reverse=True)[:n]


def measure() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.common import StatementTimes, backend_pid, cpu_seconds, load_average, print_profile
    from eldercare.models import User
    from registry.models import Elder
    from visits.models import Visit

    assert not settings.DEBUG
    repeat = int(os.environ.get("BENCH_OVERSIGHT_REPEAT", 7))
    profile = os.environ.get("BENCH_OVERSIGHT_PROFILE", "")
    only = set(filter(None, os.environ.get("BENCH_OVERSIGHT_ONLY", "").split(";")))
    n_slowest = int(os.environ.get("BENCH_OVERSIGHT_SLOWEST", 3))
    print(f"production settings (DEBUG=0), database {connection.settings_dict['NAME']}: "
          f"elders {Elder.objects.count():,}, visits {Visit.objects.count():,}; "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, {load_average()}", flush=True)
    accounts = dict(pair.split("=") for pair in os.environ.get("BENCH_OVERSIGHT_ACCOUNTS", "town=town;county=county").split(";"))
    users = {role: User.objects.get(username=username) for role, username in accounts.items()}
    backend = backend_pid()
    sql = StatementTimes()

    print(f"  {'page':34} {'wall':>9} {'cpu':>9} {'db cpu':>9} {'sum':>9} queries {'sql':>9}  target")
    for label, username, url, target in PAGES:
        if only and label not in only:
            continue
        url = url.format(town_area=users["town"].area_id)
        client = Client(headers={"x-forwarded-proto": "https"})  # as behind nginx
        client.force_login(users[username])
        if profile:
            if label == profile:
                print_profile(lambda c=client, u=url: c.get(u), warmup=2, runs=10, top=50)
            continue

        def timed(client=client, url=url):
            started, cpu, db_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return time.perf_counter() - started, time.process_time() - cpu, cpu_seconds(backend) - db_cpu

        for _ in range(2):
            timed()
        samples = [timed() for _ in range(repeat)]
        sql.clear()
        with connection.execute_wrapper(sql):
            client.get(url)
        wall = statistics.median(s[0] for s in samples) * 1000
        cpu = statistics.median(s[1] for s in samples) * 1000
        db_cpu = statistics.mean(s[2] for s in samples) * 1000
        verdict = ""
        if target:
            verdict = f"< {target} ms: wall {'met' if wall < target else 'NOT MET'}, " \
                      f"CPU {'met' if cpu + db_cpu < target else 'NOT MET'}"
        print(f"  {label:34} {wall:6.0f} ms {cpu:6.0f} ms {db_cpu:6.0f} ms {cpu + db_cpu:6.0f} ms {len(sql):7d} "
              f"{sum(sql) * 1000:6.0f} ms  {verdict}", flush=True)
        if n_slowest:
            for spent, text in _slowest(client, url, n_slowest):
                print(f"      {spent * 1000:7.1f} ms  {text}")
    print(f"  ({repeat} timed requests per page: wall and Django CPU medians, PostgreSQL backend CPU mean; "
          f"{load_average()})")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
    if sys.argv[1:] == ["measure"]:
        measure()
