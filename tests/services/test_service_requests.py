"""申请服务 and stated needs reach a provider: a need → a request on the town's list → matched
against the catalogue's eligibility → a provider → a service record → closed; open requests
per village with their age."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.choices import ServiceItemEligibility, ServiceRequestSource, ServiceRequestStatus
from services.models import ServiceRecord, ServiceRequest
from services.services import matching_items, request_service, requests_from_stated_needs
from tests.factories import make_elder
from tests.matrix import PageMatrix
from tests.services.factories import make_item, make_provider
from tests.visits.test_recording import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(world):
    association = make_provider(world.town, name="锦屏镇老年协会")
    bath = make_item(world.town, name="助浴服务", eligibility=[ServiceItemEligibility.DISABLED])
    bath.providers.add(association)
    meals = make_item(world.town, name="送餐服务", eligibility=[ServiceItemEligibility.VERY_OLD])
    meals.providers.add(association)
    return association, bath, meals


def test_need_to_service_story(login, world, catalogue):
    association, bath, meals = catalogue
    elder = make_elder(world.village, name="王秀英", age=72, self_care="disabled")
    village = login(world.users["village"])
    response = village.post(reverse("visits:record", args=[elder.pk]), form_data(
        request_service="on", needs_raised="想请人每周帮忙洗一次澡"))
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert (request.elder, request.source, request.need, request.status) == (
        elder, ServiceRequestSource.VISIT, "想请人每周帮忙洗一次澡", ServiceRequestStatus.OPEN)
    # the town's list: per village, with the request's age
    ServiceRequest.objects.filter(pk=request.pk).update(requested_on=timezone.localdate() - timedelta(days=3))
    town = login(world.users["town"])
    page = town.get(reverse("services:requests")).content.decode()
    assert "王秀英" in page and "李家湾村" in page and "已 3 天" in page
    # matched against the catalogue: 失能 → 助浴服务; not 80+ → no 送餐服务
    assert matching_items(request) == [bath]
    detail = town.get(reverse("services:request", args=[request.pk])).content.decode()
    assert "助浴服务" in detail and "锦屏镇老年协会" in detail
    response = town.post(reverse("services:request", args=[request.pk]), {
        "action": "assign", "assign-item": meals.pk, "assign-provider": association.pk})
    assert "不符合" in response.content.decode() or "选择一个有效的选项" in response.content.decode()
    response = town.post(reverse("services:request", args=[request.pk]), {
        "action": "assign", "assign-item": bath.pk, "assign-provider": association.pk})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.item, request.provider) == (ServiceRequestStatus.ASSIGNED, bath, association)
    # the village records the service: a service record closes the request
    village = login(world.users["village"])
    response = village.post(reverse("services:request", args=[request.pk]), {
        "action": "close", "close-served_on": timezone.localdate().isoformat(), "close-duration_minutes": 45,
        "close-note": "协会志愿者上门助浴"})
    assert response.status_code == 302
    request.refresh_from_db()
    record = ServiceRecord.objects.get()
    assert request.status == ServiceRequestStatus.CLOSED and request.record == record
    assert (record.elder, record.item, record.provider, record.duration_minutes) == (elder, bath, association, 45)
    assert "王秀英" not in login(world.users["town"]).get(reverse("services:requests")).content.decode()


def test_stated_needs_become_requests_once(login, world, catalogue):
    make_elder(world.village, name="有需求", needs="希望有人陪同看病")
    make_elder(world.village, name="没需求")
    make_elder(world.other_village, name="外镇需求", needs="送餐")
    town = login(world.users["town"])
    assert "1 位在册老人登记了服务需求" in town.get(reverse("services:requests")).content.decode()
    town.post(reverse("services:requests_from_needs"))
    assert list(ServiceRequest.objects.values_list("elder__name", "source", "need")) == [
        ("有需求", ServiceRequestSource.STATED_NEED, "希望有人陪同看病")]
    assert requests_from_stated_needs(acting_user=world.users["town"]) == 0  # not twice


def test_the_village_cannot_assign_and_the_town_declines_with_a_reason(login, world, catalogue):
    elder = make_elder(world.village, name="王秀英", age=85)
    request = request_service(elder, need="送餐", source=ServiceRequestSource.OTHER, acting_user=world.users["village"])
    village = login(world.users["village"])
    assert village.post(reverse("services:request", args=[request.pk]), {"action": "decline",
                                                                         "decline-reason": "x"}).status_code == 404
    town = login(world.users["town"])
    town.post(reverse("services:request", args=[request.pk]), {"action": "decline", "decline-reason": "老人已随子女外出"})
    request.refresh_from_db()
    assert request.status == ServiceRequestStatus.DECLINED and request.decline_reason == "老人已随子女外出"


class TestServiceRequestList(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        elder = make_elder(world.village, name="甄申请")
        return request_service(elder, need="助浴", source=ServiceRequestSource.OTHER, acting_user=world.users["village"])

    def url(self, obj):
        return reverse("services:requests")

    def marker(self, obj):
        return "甄申请"


class TestServiceRequestPage(TestServiceRequestList):
    kind = "detail"

    def url(self, obj):
        return reverse("services:request", args=[obj.pk])


def test_request_list_queries_do_not_grow_with_requests(login, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n, village):
        for i in range(n):
            elder = make_elder(village, name=f"王{i}", needs="送餐")
            request_service(elder, need="助浴", source=ServiceRequestSource.OTHER, acting_user=world.users["town"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("services:requests")).status_code == 200
        return len(ctx.captured_queries)

    client = login(world.users["town"])
    client.get(reverse("services:requests"))  # warm: the session's renewal and the menu's counts
    add(2, world.village)
    small = count()
    add(10, world.village)
    add(5, world.village2)
    assert count() == small
