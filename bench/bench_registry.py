"""The register at county scale (30,000 elders): changelist, phone list, profile, export.

Prints best-of-5 wall times and query counts; targets in docs/registry.md ("Performance").
"""

from django.db.models import Count
from django.test import Client
from django.urls import reverse

from bench.common import best_of, count_queries, ensure_county_dataset


def main():
    seeded = ensure_county_dataset()
    if seeded is not None:
        print(f"seeded county dataset in {seeded:.1f} s")
    from eldercare.models import User
    from registry.models import Elder

    print(f"elders: {Elder.objects.count():,}")
    county = User.objects.filter(role="county").first()
    town = User.objects.get(username="town")
    village = User.objects.get(username="village")
    busiest = Elder.objects.for_user(town).annotate(n=Count("contact_events")).order_by("-n").values_list("pk", flat=True).first()
    cases = [
        ("admin changelist (county, 30k rows)", county, reverse("admin:registry_elder_changelist")),
        ("admin changelist (county, 重点对象 filter)", county,
         reverse("admin:registry_elder_changelist") + "?is_key_target=1"),
        ("admin changelist (county, 90 days no contact)", county,
         reverse("admin:registry_elder_changelist") + "?no_contact=90"),
        ("admin changelist (county, search phone tail)", county,
         reverse("admin:registry_elder_changelist") + "?q=1234"),
        ("admin changelist (town)", town, reverse("admin:registry_elder_changelist")),
        ("phone list (village)", village, reverse("registry:elders")),
        ("phone list (county, search name)", county, reverse("registry:elders") + "?q=%E7%8E%8B"),
        ("profile (town)", town, reverse("registry:elder", args=[busiest])),
        ("alerts (town)", town, reverse("registry:alerts")),
        ("ledger export (town, whole town)", town, reverse("admin:registry_elder_export")),
    ]
    for label, user, url in cases:
        client = Client()
        client.force_login(user)

        def get(client=client, url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        queries = count_queries(get)
        repeat = 2 if "export" in label else 5
        print(f"  {label:48} {best_of(get, repeat) * 1000:8.1f} ms  {queries:3d} queries")
