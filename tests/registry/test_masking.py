"""Masking on lists, full phones on the profile, recorded reveals of the ID number."""

import pytest
from django.urls import reverse

from eldercare.models import AccessEvent
from tests.factories import make_elder

pytestmark = pytest.mark.django_db


@pytest.fixture
def elder(world):
    return make_elder(world.village, name="王秀英", phones=["13812345678"])


@pytest.mark.parametrize("username", ["village", "town", "county", "clinic"])
def test_list_page_masks_phone_and_never_shows_the_id(client, world, elder, username):
    client.force_login(world.users[username])
    page = client.get(reverse("registry:elders")).content.decode()
    assert "138****5678" in page and "13812345678" not in page and elder.id_number not in page


@pytest.mark.parametrize("username", ["village", "town", "county"])
def test_admin_changelist_masks_id_and_phone(client, world, elder, username):
    client.force_login(world.users[username])
    page = client.get(reverse("admin:registry_elder_changelist")).content.decode()
    masked = elder.id_number[:6] + "********" + elder.id_number[-4:]
    assert masked in page and "138****5678" in page
    assert elder.id_number not in page and "13812345678" not in page


@pytest.mark.parametrize("username", ["village", "town", "clinic"])
def test_profile_masks_id_until_revealed_and_records_the_reveal(client, world, elder, username):
    user = world.users[username]
    client.force_login(user)
    url = reverse("registry:elder", args=[elder.pk])
    page = client.get(url).content.decode()
    assert elder.id_number not in page and 'href="tel:13812345678"' in page
    assert not AccessEvent.objects.exists()
    page = client.post(url, {"field": "id_number"}).content.decode()
    assert elder.id_number in page
    event = AccessEvent.objects.get()
    assert (event.user, event.kind, event.object_id, event.field, event.area_code) == (
        user, "reveal", str(elder.pk), "id_number", world.village.code)


def test_reveal_out_of_scope_is_404_and_not_recorded(client, world, elder):
    client.force_login(world.users["village2"])
    assert client.post(reverse("registry:elder", args=[elder.pk]), {"field": "id_number"}).status_code == 404
    assert not AccessEvent.objects.exists()


def test_admin_show_action_reveals_one_and_records_it(client, world, elder):
    client.force_login(world.users["town"])
    response = client.post(reverse("admin:registry_elder_changelist"), {
        "action": "reveal_identifiers", "_selected_action": [elder.pk]}, follow=True)
    assert elder.id_number in response.content.decode()
    assert AccessEvent.objects.get().kind == "reveal"


def test_admin_search_finds_only_the_exact_full_id(client, world, elder):
    client.force_login(world.users["village"])
    url = reverse("admin:registry_elder_changelist")
    link = reverse("admin:registry_elder_change", args=[elder.pk])
    assert link in client.get(url, {"q": elder.id_number}).content.decode()
    assert link in client.get(url, {"q": elder.id_number.lower()}).content.decode()
    for partial in (elder.id_number[:10], elder.id_number[:17], elder.id_number[-6:], elder.id_number[:6]):
        assert link not in client.get(url, {"q": partial}).content.decode(), partial
    assert link in client.get(url, {"q": "5678"}).content.decode()  # phone tail
    assert link in client.get(url, {"q": "wxy"}).content.decode()  # pinyin initials
    assert link in client.get(url, {"q": "秀英"}).content.decode()


def test_clinic_list_does_not_show_or_filter_by_economic_hardship(client, world):
    make_elder(world.village, name="低保户", dibao=True)
    client.force_login(world.users["clinic"])
    page = client.get(reverse("registry:elders")).content.decode()
    assert "低保户" in page and "经济困难" not in page
    client.force_login(world.users["village"])
    assert "经济困难" in client.get(reverse("registry:elders")).content.decode()
