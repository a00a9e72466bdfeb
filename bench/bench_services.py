"""Clinic worklist, pairings and hours ledger at county scale: wall time and query counts."""

from django.test import Client
from django.urls import reverse

from bench.common import best_of, count_queries, ensure_county_dataset


def measure():
    """Time the services pages for the demo accounts against whatever dataset is loaded."""
    from eldercare.models import User

    results = {}
    for username, url_name in (("clinic", "services:clinic_worklist"), ("county", "services:clinic_worklist"),
                               ("town", "services:pairings"), ("county", "services:hours"),
                               ("village", "services:catalogue")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        url = reverse(url_name)

        def get(client=client, url=url):
            assert client.get(url).status_code == 200

        results[f"{url_name} as {username}"] = (best_of(get, 5), count_queries(get))
    for label, (seconds, queries) in results.items():
        print(f"  {label:45} {seconds * 1000:7.1f} ms  {queries:3d} queries")
    return results


def main():
    seeded = ensure_county_dataset()
    if seeded:
        print(f"  (seeded county dataset in {seeded:.0f} s)")
    measure()
