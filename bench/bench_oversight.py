"""Oversight at county scale: the dashboards, a drill-down list, the reports and the scorecard.

Whole requests through the Django test client (best of 5) with their query counts (pinned at
small scale in tests/oversight/test_pages.py), and the slowest queries of each page. Run with
DEBUG=0 for production settings (SECRET_KEY and ALLOWED_HOSTS must then be set).
"""

import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import best_of, ensure_county_dataset


def _slowest(client, url, n=4):
    """The page's queries, each re-run once on its own and timed (CaptureQueries has no timings
    when DEBUG is off)."""
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, secure=True)
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
    return len(ctx.captured_queries), sorted(timed, reverse=True)[:n]


def main():
    seeded = ensure_county_dataset()
    if seeded is not None:
        print(f"seed_demo --scale county (all apps): {seeded:.1f} s")
    from eldercare.models import User
    from registry.models import Elder
    from visits.models import Visit

    print(f"elders {Elder.objects.count():,}, visits {Visit.objects.count():,}")
    town, county = User.objects.get(username="town"), User.objects.get(username="county")
    pages = [
        ("town dashboard (month)", town, "/oversight/"),
        ("county dashboard (month)", county, "/oversight/"),
        ("county dashboard (year)", county, "/oversight/?period=year"),
        ("county: one town's dashboard", county, f"/oversight/?area={town.area_id}"),
        ("drill-down: county overdue", county, "/oversight/rows/overdue/"),
        ("county report, this year (live)", county, "/oversight/report/?period=year"),
        ("town report, this month (live)", town, "/oversight/report/"),
        ("county scorecard, this quarter", county, "/oversight/scorecard/"),
        ("town scorecard, this quarter", town, "/oversight/scorecard/"),
    ]
    for label, user, url in pages:
        client = Client()
        client.force_login(user)
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        seconds = best_of(lambda c=client, u=url: c.get(u, secure=True))
        queries, slowest = _slowest(client, url)
        print(f"{label:34} {queries:3} queries  {seconds * 1000:8.1f} ms")
        for spent, sql in slowest:
            print(f"    {spent * 1000:7.1f} ms  {sql}")
