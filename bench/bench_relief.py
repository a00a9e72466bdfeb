"""Relief on the county dataset: queues, inbox badge, overdue counts and the reassessment list.

Figures are wall times (best of 5) through the Django test client, with the query count of one
request; recorded in docs/relief.md under "Performance".
"""

from django.test import Client

from bench.common import best_of, count_queries, ensure_county_dataset


def main():
    seeded = ensure_county_dataset()
    if seeded is not None:
        print(f"seeded the county dataset in {seeded:.1f} s")
    from django.urls import reverse

    from eldercare.models import User
    from registry.models import Elder
    from relief.models import ReliefCase, RiskAssessment, with_reassessment
    from relief.views import inbox_rows

    county, town, police = (User.objects.get(username=u) for u in ("county", "town", "police"))
    print(f"cases {ReliefCase.objects.count():,}; assessments {RiskAssessment.objects.count():,}; "
          f"elders {Elder.objects.count():,}")
    figures = {}

    def page(user, url):
        client = Client()
        client.force_login(user)
        client.get(url)

        def fetch():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return best_of(fetch), count_queries(fetch)

    figures["town queue (锦屏镇, open)"] = page(town, reverse("relief:case_list"))
    figures["county queue (all towns, open)"] = page(county, reverse("relief:case_list"))
    figures["county queue, 全部 tab"] = page(county, reverse("relief:case_list") + "?status=all")
    figures["town inbox"] = page(town, reverse("relief:inbox"))
    figures["department queue (派出所)"] = page(police, reverse("relief:referral_list"))
    figures["town reassessment due"] = page(town, reverse("relief:reassessment_due"))
    figures["county reassessment due"] = page(county, reverse("relief:reassessment_due"))
    figures["county overdue count"] = (best_of(lambda: ReliefCase.objects.for_user(county).overdue().count()), 1)
    figures["town inbox badge"] = (best_of(lambda: inbox_rows(town).count()), 1)
    figures["county reassessment due count"] = (best_of(
        lambda: with_reassessment(Elder.objects.for_user(county)).filter(reassessment_due=True).count()), 1)
    for label, (seconds, queries) in figures.items():
        print(f"  {label:34} {seconds * 1000:8.1f} ms  {queries:3} queries")
