"""Status changes, guardians shared between parents, contacts, duties and supervision."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from eldercare.audit import history_of
from registry.models import (
    ContactEvent,
    DutyObservation,
    Elder,
    ElderGuardian,
    ElderStatusChange,
    Guardian,
    Supervision,
)
from tests.factories import make_elder, make_guardian

pytestmark = pytest.mark.django_db


def test_status_change_is_kept_with_history_and_list_shows_active_by_default(client, world):
    elder = make_elder(world.village, name="迁出者")
    make_elder(world.village, name="在册者")
    client.force_login(world.users["town"])
    today = timezone.localdate()
    response = client.post(reverse("registry:elder_status", args=[elder.pk]), {
        "to_status": "moved", "changed_on": today.isoformat(), "reason": "随子女迁往宁波"})
    assert response.status_code == 302
    elder = Elder.objects.get(pk=elder.pk)
    assert elder.status == "moved" and elder.status_changed_on == today
    change = ElderStatusChange.objects.get(elder=elder)
    assert (change.from_status, change.to_status, change.reason) == ("active", "moved", "随子女迁往宁波")
    assert any(e.pgh_diff and "status" in e.pgh_diff for e in history_of(elder))
    page = client.get(reverse("registry:elders")).content.decode()
    assert "在册者" in page and "迁出者" not in page
    assert "迁出者" in client.get(reverse("registry:elders") + "?status=all").content.decode()
    changelist = client.get(reverse("admin:registry_elder_changelist")).content.decode()
    assert "在册者" in changelist and "迁出者" not in changelist
    profile = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert "随子女迁往宁波" in profile and "变更历史" in profile


def test_status_change_without_reason_or_in_future_is_refused(client, world):
    elder = make_elder(world.village)
    client.force_login(world.users["village"])
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(reverse("registry:elder_status", args=[elder.pk]), {
        "to_status": "deceased", "changed_on": tomorrow.isoformat(), "reason": "病故"})
    assert "变更日期不能晚于今天" in response.content.decode()
    assert Elder.objects.get(pk=elder.pk).status == "active"


def test_a_son_supporting_both_parents_is_one_guardian_linked_twice(client, world):
    father = make_elder(world.village, name="张父")
    mother = make_elder(world.village, name="李母", male=False)
    son = make_guardian(father, name="张建华")
    client.force_login(world.users["village"])
    form_page = client.get(reverse("registry:guardian_add", args=[mother.pk])).content.decode()
    assert "张建华" in form_page
    response = client.post(reverse("registry:guardian_add", args=[mother.pk]), {
        "existing": son.pk, "relation": "son", "is_primary": "on"})
    assert response.status_code == 302
    assert Guardian.objects.count() == 1
    assert set(ElderGuardian.objects.filter(guardian=son).values_list("elder__name", flat=True)) == {"张父", "李母"}
    assert "张建华" in client.get(reverse("registry:elder", args=[mother.pk])).content.decode()


def test_new_guardian_with_call_link_and_primary_replaced(client, world):
    elder = make_elder(world.village)
    make_guardian(elder, name="旧主要", is_primary=True)
    client.force_login(world.users["village"])
    client.post(reverse("registry:guardian_add", args=[elder.pk]), {
        "name": "张新华", "phone": "13700001111", "relation": "daughter", "is_primary": "on"})
    primary = ElderGuardian.objects.get(elder=elder, is_primary=True)
    assert primary.guardian.name == "张新华" and primary.guardian.village_id == world.village.code
    assert 'href="tel:13700001111"' in client.get(reverse("registry:elder", args=[elder.pk])).content.decode()


def test_guardian_form_offers_no_guardians_of_other_villages(client, world):
    other = make_elder(world.village2)
    make_guardian(other, name="外村人")
    elder = make_elder(world.village)
    client.force_login(world.users["village"])
    assert "外村人" not in client.get(reverse("registry:guardian_add", args=[elder.pk])).content.decode()


def test_contact_event_shows_last_contact_on_list_and_profile(client, world):
    elder = make_elder(world.village, name="王秀英")
    guardian = make_guardian(elder)
    client.force_login(world.users["village"])
    day = timezone.localdate() - timedelta(days=3)
    client.post(reverse("registry:contact_add", args=[elder.pk]), {
        "guardian": guardian.pk, "kind": "visit", "occurred_on": day.isoformat(), "note": "回家看望"})
    assert day.isoformat() in client.get(reverse("registry:elders")).content.decode()
    assert "回家看望" in client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    stale = client.get(reverse("registry:elders") + "?no_contact=1").content.decode()
    assert "王秀英" not in stale


def test_non_fulfilment_leads_to_supervision_and_refusal_is_flagged(client, world):
    elder = make_elder(world.village)
    guardian = make_guardian(elder)
    client.force_login(world.users["village"])
    today = timezone.localdate().isoformat()
    response = client.post(reverse("registry:duty_add", args=[elder.pk]), {
        "guardian": guardian.pk, "duty": "economic", "fulfilment": "not", "observed_on": today})
    observation = DutyObservation.objects.get()
    assert response["Location"].endswith(f"?observation={observation.pk}")
    page = client.get(response["Location"]).content.decode()
    assert "请记录督促情况" in page
    response = client.post(response["Location"], {"guardian": guardian.pk, "supervised_on": today,
                                                  "method": "in_person", "result": "refused",
                                                  "guardian_response": "不愿出钱"})
    assert response.status_code == 302
    assert Supervision.objects.get().observation == observation
    profile = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert '<span class="flag alert">拒不履行</span>' in profile


def test_fulfilled_duty_does_not_ask_for_supervision(client, world):
    elder = make_elder(world.village)
    guardian = make_guardian(elder)
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:duty_add", args=[elder.pk]), {
        "guardian": guardian.pk, "duty": "care", "fulfilment": "fulfilled",
        "observed_on": timezone.localdate().isoformat()})
    assert response["Location"] == reverse("registry:elder", args=[elder.pk])


def test_clinic_profile_hides_income_agreements_and_obligations(client, world):
    elder = make_elder(world.village, name="王秀英", dibao=True, monthly_income=300, diseases="高血压",
                       phones=["13812345678"])
    guardian = make_guardian(elder, name="王儿子", phone="13900002222")
    from tests.registry.helpers import agreement

    agreement(elder, None, None, caregiver_name="邻居赵")
    Supervision.objects.create(elder=elder, guardian=guardian, supervised_on=timezone.localdate(),
                               method="phone", result="refused", recorded_by=world.users["village"])
    client.force_login(world.users["clinic"])
    page = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert "高血压" in page and "13812345678" in page and "王儿子" in page and "13900002222" in page
    for hidden in ("月收入", "低保", "邻居赵", "拒不履行", "委托照顾协议", "经济困难", "变更历史"):
        assert hidden not in page, hidden


def test_a_contact_added_in_the_admin_records_who_added_it(client, world):
    elder = make_elder(world.village, name="王秀英")
    client.force_login(world.users["village"])
    response = client.post(reverse("admin:registry_contactevent_add"), {
        "elder": elder.pk, "guardian": "", "kind": "phone", "occurred_on": "2026-11-01", "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ContactEvent.objects.get(elder=elder).recorded_by == world.users["village"]
