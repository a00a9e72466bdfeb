"""Patrol visits at county scale: 今日待访 for one village and the town overview.

Prints the dataset size, the query count of each page (pinned in tests/visits/test_pages.py at
small scale) and the best-of-5 wall time of the full request (view + template) through the
Django test client, plus the county-wide overdue count that dashboards will use.
"""

from django.db import connection
from django.test import Client
from django.urls import reverse

from bench.common import best_of, count_queries, ensure_county_dataset


def main():
    seeded = ensure_county_dataset()
    if seeded is not None:
        print(f"seed_demo --scale county (all apps): {seeded:.1f} s")
    from eldercare.models import User
    from registry.models import Elder
    from visits.models import Visit
    from visits.schedule import annotate_schedule

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE visits_visit")
    print(f"elders {Elder.objects.count():,}, visits {Visit.objects.count():,}")
    village_user = User.objects.get(username="village")
    town_user = User.objects.get(username="town")
    county_user = User.objects.get(username="county")
    village_elders = Elder.objects.filter(village=village_user.area).count()
    print(f"village {village_user.area} ({village_elders} elders), town {town_user.area}")

    for label, user, url in [
        ("今日待访 (one village)", village_user, reverse("visits:today")),
        ("town overview (14 villages)", town_user, reverse("visits:overview")),
        ("county overview (154 villages)", county_user, reverse("visits:overview")),
    ]:
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        queries = count_queries(lambda c=client, u=url: c.get(u))
        seconds = best_of(lambda c=client, u=url: c.get(u))
        print(f"{label:34} {queries:3} queries  {seconds * 1000:8.1f} ms")

    scheduled = annotate_schedule(Elder.objects.for_user(county_user))
    overdue = best_of(lambda: scheduled.filter(is_overdue=True).count(), repeat=3)
    print(f"{'county-wide overdue count':34} {1:3} query    {overdue * 1000:8.1f} ms "
          f"({scheduled.filter(is_overdue=True).count():,} overdue)")
