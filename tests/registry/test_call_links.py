"""Issue 14, hole 7: bulk lists show phones masked; a tap calls through a recorded redirect."""

import re

import pytest
from django.urls import reverse

from eldercare.models import AccessEvent
from tests.factories import make_elder, make_guardian

pytestmark = pytest.mark.django_db
FULL = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def family(world):
    elder = make_elder(world.village, name="郑玉兰", age=70, phones=["13512345678", "0831-7654321"])
    guardian = make_guardian(elder, name="郑大强", phone="13698765432")
    return elder, guardian


@pytest.mark.parametrize("username", ["clinic", "town", "county"])
def test_health_worklist_prints_no_full_number_for_any_role(client, world, family, username):
    for i in range(5):
        make_guardian(make_elder(world.village, name=f"老人{i}", age=70, phones=[f"1390000{i:04d}"]),
                      phone=f"1370000{i:04d}")
    client.force_login(world.users[username])
    page = client.get(reverse("services:clinic_worklist")).content.decode()
    assert "135****5678" in page and "136****5432" in page and "0831-***4321" in page
    assert not FULL.findall(page), FULL.findall(page)
    assert "7654321" not in page and "tel:" not in page
    assert not AccessEvent.objects.exists()  # listing reveals nothing, so records nothing


def test_tapping_a_masked_number_dials_it_and_records_the_reveal(client, world, family):
    elder, guardian = family
    user = world.users["clinic"]
    client.force_login(user)
    page = client.get(reverse("services:clinic_worklist")).content.decode()
    elder_link = reverse("registry:call", args=["elder", elder.pk, 1])
    guardian_link = reverse("registry:call", args=["guardian", guardian.pk, 0])
    assert elder_link in page and guardian_link in page
    response = client.get(elder_link + "?from=worklist")
    assert response.status_code == 302 and response["Location"] == "tel:08317654321"
    assert "no-store" in response["Cache-Control"]
    response = client.get(guardian_link)
    assert response["Location"] == "tel:13698765432"
    events = list(AccessEvent.objects.order_by("id").values_list("user", "kind", "object_type", "object_id", "field",
                                                                 "area_code"))
    assert events == [(user.pk, "reveal", "registry.Elder", str(elder.pk), "phone", world.village.code),
                      (user.pk, "reveal", "registry.Guardian", str(guardian.pk), "phone", world.village.code)]


@pytest.mark.parametrize("username", ["village2", "other_town", "other_village", "police"])
def test_an_attacker_cannot_dial_out_of_reach_numbers_by_id(client, world, family, username):
    elder, guardian = family
    client.force_login(world.users[username])
    for url in (reverse("registry:call", args=["elder", elder.pk, 0]),
                reverse("registry:call", args=["guardian", guardian.pk, 0])):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "1351234" not in response.content.decode() and not response.has_header("Location")
    assert not AccessEvent.objects.exists()


def test_unknown_kind_or_index_is_404(client, world, family):
    elder, guardian = family
    client.force_login(world.users["clinic"])
    assert client.get(reverse("registry:call", args=["elder", elder.pk, 2])).status_code == 404
    assert client.get(reverse("registry:call", args=["guardian", guardian.pk, 1])).status_code == 404
    assert client.get(reverse("registry:call", args=["user", world.users["town"].pk, 0])).status_code == 404
    assert not AccessEvent.objects.exists()


def test_anonymous_is_sent_to_login(client, family):
    response = client.get(reverse("registry:call", args=["elder", family[0].pk, 0]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
