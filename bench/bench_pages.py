"""Server time per page at county scale, with production settings (`python -m bench pages`).

On a fresh copy of the county dataset (`seed_demo --scale county`: a village of ~200 elders
with two years of visits), a child process with DEBUG=0 and the README's production settings
requests each page through the Django test client in-process (sessions, middleware, view,
queries, template; the X-Forwarded-Proto header nginx adds) and prints per page:

- the median wall time and the median CPU time of the process (time.process_time: the
  Python side alone, and far less inflated than wall time on a shared, loaded machine);
- the query count and the median SQL time (measured in separate, instrumented requests).

Targets (issue 18): 今日待访, the visit form, the elder profile, 老人名册 ≤ 40 ms; the town's
救助待办, 巡访总览 and dashboard ≤ 80 ms. BENCH_PAGES_REPEAT sets the timed requests per page
(default 15, after 3 warm-up requests); BENCH_PAGES_JSON=PATH writes the figures as JSON;
BENCH_PAGES_PROFILE=LABEL prints a cProfile of that page instead; BENCH_PAGES_ONLY=LABEL,…
measures only those pages.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY_SUFFIX = "pages"
VILLAGE_TARGET_MS = 40
TOWN_TARGET_MS = 80


def main() -> None:
    from bench.common import measure_in_production

    measure_in_production("bench_pages", COPY_SUFFIX)


def _pages():
    """(label, username, method, url, target ms) of the pages measured."""
    from django.db.models import Count
    from django.urls import reverse

    from bench.common import town_dashboards
    from eldercare.models import User
    from registry.models import Elder

    village = User.objects.get(username="village")
    # The village's elder with the longest history: the profile and timeline at their fullest.
    elder = (Elder.objects.filter(village=village.area).annotate(n=Count("visits")).order_by("-n", "pk")
             .values_list("pk", flat=True).first())
    pages = [
        ("今日待访", "village", "GET", reverse("visits:today"), VILLAGE_TARGET_MS),
        ("elder profile", "village", "GET", reverse("registry:elder", args=[elder]), VILLAGE_TARGET_MS),
        ("visit form", "village", "GET", reverse("visits:record", args=[elder]), VILLAGE_TARGET_MS),
        ("submit a phone visit", "village", "POST", reverse("visits:record", args=[elder]), None),
        ("老人名册", "village", "GET", reverse("registry:elders"), VILLAGE_TARGET_MS),
        ("visit timeline", "village", "GET", reverse("visits:elder_visits", args=[elder]), None),
        ("home", "village", "GET", reverse("home"), None),
        ("救助待办", "town", "GET", reverse("relief:inbox"), TOWN_TARGET_MS),
        ("巡访总览 (14 villages)", "town", "GET", reverse("visits:overview"), TOWN_TARGET_MS),
        ("救助个案", "town", "GET", reverse("relief:case_list"), None),
        ("elder profile", "town", "GET", reverse("registry:elder", args=[elder]), None),
    ]
    # The town's dashboards (issues 12/13), once they exist: the oversight app's menu entries.
    pages += [(label, "town", "GET", url, TOWN_TARGET_MS) for label, url in town_dashboards()]
    return pages


def measure() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.browser import parse_form
    from bench.common import StatementTimes, backend_pid, cpu_seconds, load_average, print_profile
    from eldercare.models import User

    assert not settings.DEBUG
    repeat = int(os.environ.get("BENCH_PAGES_REPEAT", 15))
    profile = os.environ.get("BENCH_PAGES_PROFILE", "")
    only = set(filter(None, os.environ.get("BENCH_PAGES_ONLY", "").split(",")))
    print(f"production settings (DEBUG=0), database {connection.settings_dict['NAME']}, {load_average()}")
    clients = {}
    for username in ("village", "town"):
        clients[username] = Client(headers={"x-forwarded-proto": "https"})  # as behind nginx
        clients[username].force_login(User.objects.get(username=username))

    backend = backend_pid()

    def prepare(client, method, url):
        """The request to time: a GET, or a POST of what the visit form shows (its GET untimed)."""
        if method == "GET":
            return lambda: client.get(url)
        data = {}
        for name, value in parse_form(client.get(url).content.decode(), "data-outbox").fields:
            data.setdefault(name, []).append(value)
        return lambda: client.post(url, data)

    def timed(client, method, url):
        """(wall, CPU of this process, CPU of its PostgreSQL backend) of one request, in seconds."""
        send = prepare(client, method, url)
        started, cpu, db_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        response = send()
        times = time.perf_counter() - started, time.process_time() - cpu, cpu_seconds(backend) - db_cpu
        assert response.status_code in ((302,) if method == "POST" else (200, 302)), (url, response.status_code)
        return times

    sql = StatementTimes()

    rows = []
    for label, username, method, url, target in _pages():
        client = clients[username]
        if only and label not in only:
            continue
        if profile:
            if label == profile:
                print_profile(lambda c=client, m=method, u=url: prepare(c, m, u)(), warmup=3, runs=20, top=60)
            continue
        for _ in range(3):
            timed(client, method, url)
        samples = [timed(client, method, url) for _ in range(repeat)]
        queries, sql_ms = [], []
        for _ in range(5):
            sql.clear()
            send = prepare(client, method, url)
            with connection.execute_wrapper(sql):
                send()
            queries.append(len(sql))
            sql_ms.append(sum(sql) * 1000)
        wall = statistics.median(s[0] for s in samples) * 1000
        cpu = statistics.median(s[1] for s in samples) * 1000
        db_cpu = statistics.mean(s[2] for s in samples) * 1000  # /proc counts 10 ms ticks: the mean
        row = {"page": label, "user": username, "wall_ms": round(wall, 1), "cpu_ms": round(cpu, 1),
               "db_cpu_ms": round(db_cpu, 1),
               "queries": max(queries), "sql_ms": round(statistics.median(sql_ms), 1), "target_ms": target}
        rows.append(row)
        verdict = "" if target is None else ("met" if wall <= target else "NOT MET")
        if target is not None and wall > target >= cpu + row["sql_ms"]:
            verdict += " (CPU + SQL within)"
        print(f"  {label:24} {username:8} {wall:7.1f} ms wall {cpu:6.1f} ms cpu {db_cpu:5.1f} ms db cpu "
              f"{max(queries):3d} queries {row['sql_ms']:6.1f} ms sql  {f'≤ {target} ms ' if target else ''}{verdict}",
              flush=True)
    print(f"  ({repeat} timed requests per page, medians; {load_average()})")
    if os.environ.get("BENCH_PAGES_JSON"):
        Path(os.environ["BENCH_PAGES_JSON"]).write_text(json.dumps(
            {"when": time.strftime("%Y-%m-%d %H:%M"), "load": os.getloadavg(), "pages": rows},
            ensure_ascii=False, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eldercare.settings")
    if sys.argv[1:] == ["measure"]:
        measure()
