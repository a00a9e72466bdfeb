"""The read-only oversight pages read through replica_reads() (eldercare/replica.py): with a
replica configured, the figures, lists, reports and scorecards come from it; the access record of
an export and a closed period's stored report are written on the primary. A router-level test:
every read the router is asked about is recorded with whether the page had marked it for the
replica; tests/eldercare/test_replica_router.py has what the router does with a marked read, and
tests/deploy/test_replica.py runs it against a real streaming replica."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from eldercare import replica
from eldercare.models import AccessEvent
from oversight.models import ReportSnapshot
from tests.oversight.data import populate

pytestmark = pytest.mark.django_db

# The figures' own models: every read of them on these pages must be marked for the replica.
FIGURE_MODELS = {"elder", "visit", "reliefcase", "healthcheck", "careagreement", "supervision", "referral",
                 "pairing", "guardian", "elderstatuschange", "servicerecord", "familydoctorcontract",
                 "eldervisitstate", "riskassessment", "caseevent", "scorecardversion"}


@pytest.fixture
def reads(monkeypatch):
    """[(model name, marked for the replica)] of every read the router decides."""
    seen = []
    original = replica.ReplicaRouter.db_for_read

    def db_for_read(self, model, **hints):
        seen.append((model._meta.model_name, replica._reading_from_replica.get()))
        return original(self, model, **hints)

    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", db_for_read)
    return seen


def _pages(world):
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).isoformat()
    return [
        (reverse("oversight:dashboard"), {}),
        (reverse("oversight:dashboard"), {"period": "year"}),
        (reverse("oversight:rows", args=["overdue"]), {}),
        (reverse("oversight:rows_export", args=["visits_done"]), {}),
        (reverse("oversight:table_export"), {}),
        (reverse("oversight:report"), {}),
        (reverse("oversight:report"), {"on": last_month}),  # closed: stored on the primary
        (reverse("oversight:report_export"), {"period": "quarter"}),
        (reverse("oversight:scorecard"), {}),
        (reverse("oversight:scorecard_area", args=[world.village.code]), {}),
        (reverse("oversight:scorecard_versions"), {}),
    ]


def test_read_only_oversight_pages_read_their_figures_from_the_replica(world, login, reads):
    populate(world, per_village=1)
    client = login(world.users["town"])
    client.get(reverse("oversight:dashboard"))  # the session and the menu's counts, once
    for url, params in _pages(world):
        reads.clear()
        response = client.get(url, params)
        assert response.status_code == 200, url
        figures = [marked for model, marked in reads if model in FIGURE_MODELS]
        assert figures and all(figures), (url, [r for r in reads if r[0] in FIGURE_MODELS and not r[1]])
    # Their writes went to the primary (the router sends every write there, marked or not).
    assert AccessEvent.objects.filter(kind="export").count() == 3
    assert ReportSnapshot.objects.count() == 1


def test_pages_that_write_do_not_read_from_the_replica(world, login, reads):
    populate(world, per_village=1)
    client = login(world.users["town"])
    client.get(reverse("oversight:circulars"))
    reads.clear()
    response = client.post(reverse("oversight:circulars"), {"period": "quarter"})
    assert response.status_code == 302
    assert reads and not any(marked for _model, marked in reads)
