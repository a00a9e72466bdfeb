"""Fixed query counts: the list page, the admin changelist and the profile do not grow with rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.models import DutyObservation, Supervision
from tests.factories import make_elder, make_guardian
from tests.registry.helpers import agreement, contact

pytestmark = pytest.mark.django_db


def populate(world, n):
    today = timezone.localdate()
    user = world.users["village"]
    for i in range(n):
        elder = make_elder(world.village, name=f"王{i}", phones=["13812345678"], self_care="disabled", living="alone")
        guardian = make_guardian(elder, name=f"子{i}")
        contact(elder, user, today - timedelta(days=i), guardian)
        agreement(elder, today, today + timedelta(days=20))


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("url_name", "username"), [
    ("registry:elders", "village"), ("registry:elders", "clinic"), ("admin:registry_elder_changelist", "town"),
    ("registry:alerts", "village"),
])
def test_list_queries_do_not_grow_with_rows(client, world, url_name, username):
    client.force_login(world.users[username])
    client.get(reverse(url_name))  # warm: the session's renewal and the menu's counts, kept a minute
    populate(world, 2)
    small = count(client, reverse(url_name))
    populate(world, 18)
    assert count(client, reverse(url_name)) == small


def test_elder_list_query_count_is_pinned(client, world, django_assert_num_queries):
    populate(world, 3)
    client.force_login(world.users["village"])
    client.get(reverse("registry:elders"))  # warm caches (content types, groups)
    # session, user (with their area), count, villages, page; the menu's counts and the
    # session's renewal happened in the first request (eldercare.middleware)
    with django_assert_num_queries(5):
        client.get(reverse("registry:elders"))


def test_changelist_query_count_is_pinned(client, world, django_assert_num_queries):
    populate(world, 3)
    client.force_login(world.users["town"])
    client.get(reverse("admin:registry_elder_changelist"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("admin:registry_elder_changelist"))
    assert len(ctx.captured_queries) == 7, [q["sql"][:100] for q in ctx.captured_queries]


@pytest.mark.parametrize("username", ["town", "village", "clinic"])
def test_profile_queries_do_not_grow_with_the_elders_records(client, world, username):
    today = timezone.localdate()
    user = world.users["village"]

    def fill(elder, n):
        for i in range(n):
            guardian = make_guardian(elder, name=f"子{i}", is_primary=False)
            contact(elder, user, today - timedelta(days=i), guardian)
            agreement(elder, today, today + timedelta(days=100))
            observation = DutyObservation.objects.create(elder=elder, guardian=guardian, duty="care", fulfilment="not",
                                                         observed_on=today, observed_by=user)
            Supervision.objects.create(elder=elder, guardian=guardian, observation=observation, supervised_on=today,
                                       method="phone", result="refused", recorded_by=user)

    small, large = make_elder(world.village, name="少"), make_elder(world.village, name="多")
    fill(small, 2)
    fill(large, 20)
    client.force_login(world.users[username])
    count(client, reverse("registry:elder", args=[small.pk]))
    assert count(client, reverse("registry:elder", args=[small.pk])) == \
        count(client, reverse("registry:elder", args=[large.pk]))
