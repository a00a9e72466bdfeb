"""Correcting a visit closes the same loops as recording it: the worker forgot to tick 通知子女 or
申请服务, opens 修改巡访记录 the same afternoon and ticks it → the follow-up and the service request
appear exactly as if ticked at first; editing the visit again never makes a second one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.choices import ServiceRequestSource
from services.models import ServiceRequest
from tests.factories import make_elder, make_guardian
from tests.visits.test_recording import form_data
from visits.choices import FamilyNoticeStatus
from visits.models import FamilyNotice, Visit, VisitPolicy
from visits.services import update_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(login, world):
    """A visit recorded with nothing ticked, and the edit form's data for it."""
    elder = make_elder(world.village, name="王秀英")
    son = make_guardian(elder, name="张建华")
    client = login(world.users["village"])
    data = form_data(diet_check="problem", outcome="attention", needs_raised="需要送米送油")
    assert client.post(reverse("visits:record", args=[elder.pk]), data).status_code == 302
    visit = Visit.objects.get(elder=elder)
    data.pop("submission_key")
    data["visited_at"] = timezone.localtime(visit.visited_at).strftime("%Y-%m-%dT%H:%M")
    return client, visit, son, data


def edit(client, visit, data, **ticked):
    return client.post(reverse("visits:edit", args=[visit.pk]), {**data, **ticked})


def test_ticking_notify_family_on_the_edit_makes_the_follow_up_once(world, recorded):
    client, visit, son, data = recorded
    VisitPolicy.objects.create(town=world.town, family_followup_days=5)
    page = client.get(reverse("visits:edit", args=[visit.pk])).content.decode()
    assert "通知了哪位赡养人" in page and "请子女做什么" in page  # asked as on the first entry
    assert not FamilyNotice.objects.exists()

    response = edit(client, visit, data, notify_family="on", notice_guardian=son.pk, notice_method="message",
                    notice_asked="请本周回家送粮")
    assert response.status_code == 302
    notice = FamilyNotice.objects.get()
    visit_day = timezone.localdate(visit.visited_at)
    assert (notice.visit, notice.guardian, notice.method, notice.asked, notice.notified_on, notice.due_on,
            notice.status) == (visit, son, "message", "请本周回家送粮", visit_day, visit_day + timedelta(days=5),
                               FamilyNoticeStatus.OPEN)
    assert "王秀英" in client.get(reverse("visits:followups")).content.decode()

    # editing again (ticked still, or unticked and ticked again) makes no second notice
    page = client.get(reverse("visits:edit", args=[visit.pk])).content.decode()
    assert "通知了哪位赡养人" not in page  # the notice is followed up on its own page now
    assert edit(client, visit, data, notify_family="on", notes="补记").status_code == 302
    assert edit(client, visit, data).status_code == 302
    assert edit(client, visit, data, notify_family="on").status_code == 302
    assert FamilyNotice.objects.count() == 1


def test_ticking_request_service_on_the_edit_makes_the_request_once(recorded):
    client, visit, _son, data = recorded
    assert edit(client, visit, data, request_service="on").status_code == 302
    request = ServiceRequest.objects.get()
    assert (request.elder_id, request.source, request.need, request.requested_on, request.source_visit_id) == (
        visit.elder_id, ServiceRequestSource.VISIT, "需要送米送油", timezone.localdate(visit.visited_at), visit.pk)
    assert "需要送米送油" in client.get(reverse("services:requests")).content.decode()

    assert edit(client, visit, data, request_service="on", notes="补记").status_code == 302
    assert edit(client, visit, data).status_code == 302  # unticked …
    assert edit(client, visit, data, request_service="on").status_code == 302  # … and ticked again
    assert ServiceRequest.objects.count() == 1


def test_a_visit_ticked_when_recorded_gets_no_second_request_or_notice_when_edited(login, world):
    elder = make_elder(world.village, name="李桂兰")
    client = login(world.users["village"])
    data = form_data(notify_family="on", request_service="on", needs_raised="需要理发")
    client.post(reverse("visits:record", args=[elder.pk]), data)
    visit = Visit.objects.get(elder=elder)
    assert FamilyNotice.objects.count() == 1 and ServiceRequest.objects.count() == 1
    data.pop("submission_key")
    data["visited_at"] = timezone.localtime(visit.visited_at).strftime("%Y-%m-%dT%H:%M")
    assert edit(client, visit, data, notes="改了备注").status_code == 302
    assert FamilyNotice.objects.count() == 1 and ServiceRequest.objects.count() == 1


def test_an_older_ticked_visit_without_a_linked_follow_up_gets_none_on_an_unrelated_edit(world):
    """Visits stored with the boxes ticked before notices and requests were linked to their visit
    (their follow-ups exist unlinked, or were handled by phone) are not given new ones."""
    elder = make_elder(world.village, name="赵一")
    user = world.users["village"]
    visit = Visit.objects.create(elder=elder, visitor=user, visited_at=timezone.now() - timedelta(hours=1),
                                 method="phone", outcome="normal", notify_family=True, request_service=True,
                                 submission_key="11111111-1111-1111-1111-111111111111")
    update_visit(visit, acting_user=user, notes="补记")
    assert not FamilyNotice.objects.exists() and not ServiceRequest.objects.exists()
