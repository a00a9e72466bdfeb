"""Pairing overdue, the volunteer hours ledger and the group entry of service records."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from eldercare.audit import history_of
from registry.models import Elder
from services import views as services_views
from services.models import Pairing, ServiceRecord
from tests.factories import make_elder
from tests.services.factories import make_item, make_pairing, make_record, make_volunteer

pytestmark = pytest.mark.django_db


def test_pairing_without_contact_is_overdue_after_frequency_from_start(world):
    today = timezone.localdate()
    elder = make_elder(world.village, name="李秀英")
    vol = make_volunteer(world.village)
    late = make_pairing(vol, elder, started_on=today - timedelta(days=10), frequency_days=7)
    fresh = make_pairing(make_volunteer(world.village, name="新人"), elder, started_on=today - timedelta(days=3))
    rows = {p.pk: p for p in Pairing.objects.with_due(today)}
    assert rows[late.pk].is_overdue and rows[late.pk].due_on == today - timedelta(days=3)
    assert not rows[fresh.pk].is_overdue


def test_service_record_by_that_volunteer_resets_the_clock_but_others_do_not(world):
    today = timezone.localdate()
    elder = make_elder(world.village)
    vol, other = make_volunteer(world.village), make_volunteer(world.village, name="别人")
    pairing = make_pairing(vol, elder, started_on=today - timedelta(days=30), frequency_days=7)
    item = make_item(world.town)
    make_record(elder, item, world.users["village"], volunteer=other, served_on=today - timedelta(days=1))
    assert Pairing.objects.overdue(today).filter(pk=pairing.pk).exists()
    make_record(elder, item, world.users["village"], volunteer=vol, served_on=today - timedelta(days=2))
    row = Pairing.objects.with_due(today).get(pk=pairing.pk)
    assert not row.is_overdue and row.last_contact_on == today - timedelta(days=2)
    assert row.due_on == today + timedelta(days=5)


def test_ended_pairing_is_never_overdue(world):
    today = timezone.localdate()
    pairing = make_pairing(make_volunteer(world.village), make_elder(world.village),
                           started_on=today - timedelta(days=60), ended_on=today - timedelta(days=20))
    assert not Pairing.objects.overdue(today).filter(pk=pairing.pk).exists()


def test_pairings_page_shows_overdue_first_to_village_only(login, world):
    today = timezone.localdate()
    elder = make_elder(world.village, name="周桂兰")
    make_pairing(make_volunteer(world.village, name="志愿者甲"), elder, started_on=today - timedelta(days=20))
    page = login(world.users["village"]).get(reverse("services:pairings")).content.decode()
    assert "周桂兰" in page and "已逾期" in page
    page = login(world.users["village2"]).get(reverse("services:pairings")).content.decode()
    assert "周桂兰" not in page


def test_hours_ledger_sums_minutes_per_volunteer_per_month(world, django_assert_num_queries):
    elder = make_elder(world.village)
    item = make_item(world.town)
    a, b = make_volunteer(world.village, name="甲"), make_volunteer(world.village, name="乙")
    user = world.users["village"]
    make_record(elder, item, user, volunteer=a, served_on=date(2026, 10, 3), duration_minutes=90)
    make_record(elder, item, user, volunteer=a, served_on=date(2026, 10, 20), duration_minutes=30)
    make_record(elder, item, user, volunteer=a, served_on=date(2026, 11, 2), duration_minutes=45)
    make_record(elder, item, user, volunteer=b, served_on=date(2026, 10, 5), duration_minutes=60)
    make_record(elder, item, user, served_on=date(2026, 10, 5), duration_minutes=600)  # no volunteer
    with django_assert_num_queries(1):
        rows = list(ServiceRecord.objects.for_user(user).hours_ledger())
    got = {(r["volunteer__name"], r["month"].month): r["minutes"] for r in rows}
    assert got == {("甲", 10): 120, ("甲", 11): 45, ("乙", 10): 60}
    assert list(ServiceRecord.objects.for_user(world.users["village2"]).hours_ledger()) == []


def test_group_entry_stores_one_record_per_ticked_elder(login, world):
    elders = [make_elder(world.village, name=n) for n in ("赵一", "钱二", "孙三")]
    item = make_item(world.town, name="重阳节文艺活动")
    vol = make_volunteer(world.village)
    client = login(world.users["village"])
    response = client.post(reverse("services:group_entry"), {
        "item": item.pk, "served_on": timezone.localdate().isoformat(), "duration_minutes": 120,
        "volunteer": vol.pk, "elders": [elders[0].pk, elders[2].pk]})
    assert response.status_code == 302
    stored = ServiceRecord.objects.filter(item=item)
    assert sorted(stored.values_list("elder__name", flat=True)) == ["孙三", "赵一"]
    assert all(r.volunteer_id == vol.pk and r.duration_minutes == 120 for r in stored)
    assert "已记录 2 位老人" in client.get(response["Location"]).content.decode()


def test_group_entry_is_all_or_nothing_when_an_elder_leaves_reach_midway(login, world, monkeypatch):
    """Each elder's record goes through save_service_record; when the second elder has just been
    moved to another village by a colleague, the first elder's record is not kept either."""
    first, second = make_elder(world.village, name="本村甲"), make_elder(world.village, name="本村乙")
    item = make_item(world.town)
    real, calls = services_views.save_service_record, []

    def colleague_moves_the_second(record, *, acting_user):
        calls.append(record.elder_id)
        if len(calls) == 2:
            Elder.objects.filter(pk=record.elder_id).update(village=world.village2)
        return real(record, acting_user=acting_user)

    monkeypatch.setattr(services_views, "save_service_record", colleague_moves_the_second)
    response = login(world.users["village"]).post(reverse("services:group_entry"), {
        "item": item.pk, "served_on": timezone.localdate().isoformat(), "duration_minutes": 30,
        "elders": [first.pk, second.pk]})
    assert len(calls) == 2 and response.status_code == 404
    assert ServiceRecord.objects.count() == 0


def test_group_entry_records_carry_the_same_history_as_one_record(login, world):
    elder = make_elder(world.village, name="钱五")
    item = make_item(world.town)
    user = world.users["village"]
    login(user).post(reverse("services:group_entry"), {
        "item": item.pk, "served_on": timezone.localdate().isoformat(), "duration_minutes": 30,
        "elders": [elder.pk]})
    record = ServiceRecord.objects.get(elder=elder)
    assert record.recorded_by == user
    events = list(history_of(record))
    assert events and events[0].pgh_context["username"] == user.username


def test_group_entry_rejects_future_date_and_keeps_input(login, world):
    elder = make_elder(world.village, name="吴四")
    item = make_item(world.town)
    response = login(world.users["village"]).post(reverse("services:group_entry"), {
        "item": item.pk, "served_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "duration_minutes": 45, "note": "集体理发", "elders": [elder.pk]})
    page = response.content.decode()
    assert response.status_code == 200 and "服务日期不能晚于今天" in page and "集体理发" in page
    assert ServiceRecord.objects.count() == 0


def test_group_entry_does_not_offer_or_accept_other_village_elders(login, world):
    theirs = make_elder(world.village2, name="外村人")
    item = make_item(world.town)
    client = login(world.users["village"])
    assert "外村人" not in client.get(reverse("services:group_entry")).content.decode()
    client.post(reverse("services:group_entry"), {"item": item.pk, "served_on": timezone.localdate().isoformat(),
                                                 "duration_minutes": 30, "elders": [theirs.pk]})
    assert ServiceRecord.objects.count() == 0
