"""The replica router's rule (eldercare.replica): only reads inside replica_reads(), with a replica
configured and no transaction open, go to the replica; writes and everything else to the primary.
tests/deploy/test_replica.py runs it against a real streaming replica."""

import warnings

import pytest
from django.db import transaction

from eldercare.replica import ReplicaRouter, reads_from_replica, replica_reads
from registry.models import Elder


@pytest.fixture
def with_replica(settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Django warns about changing DATABASES; only the router reads it here
        settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}


def test_without_a_replica_every_read_stays_on_the_primary():
    with replica_reads():
        assert ReplicaRouter().db_for_read(Elder) == "default"


@pytest.mark.django_db(transaction=True)  # a test transaction would keep every read on the primary
def test_marked_reads_go_to_the_replica_but_not_inside_a_transaction_and_never_writes(with_replica):
    router = ReplicaRouter()
    assert router.db_for_read(Elder) == "default"
    with replica_reads():
        assert router.db_for_read(Elder) == "replica"
        assert router.db_for_write(Elder) == "default"
        with transaction.atomic():  # a view that writes reads its own writes
            assert router.db_for_read(Elder) == "default"
    assert router.db_for_read(Elder) == "default"
    assert router.allow_migrate("replica", "registry") is False and router.allow_migrate("default", "registry")


def test_the_view_decorator_marks_the_view_body_only(with_replica, rf):
    seen = []

    @reads_from_replica
    def view(request):
        seen.append(ReplicaRouter().db_for_read(Elder))
        return "page"

    request = rf.get("/")
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    assert view(request) == "page" and seen == ["replica"]
    assert ReplicaRouter().db_for_read(Elder) == "default"
