"""The loops of issue #17 in a real browser on a 360-px phone: a visit's 通知子女 becomes a
follow-up until the family's answer is recorded; a visit's 申请服务 becomes a service request the
town assigns to a provider and that closes with a service record; an elder moving into the
township 敬老院 is recorded with the home and the move-in date."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


def _family():
    from tests.factories import make_elder, make_guardian, make_world

    world = make_world()
    elder = make_elder(world.village, name="王秀英", age=78, phones=["13800001111"], self_care="disabled",
                       responsible_worker=world.users["village"])
    son = make_guardian(elder, name="张建华", phone="13900002222")
    return world, elder, son


def test_notify_the_family_loop_on_a_phone(phone, live_server, log_in, screenshot):
    world, elder, son = _family()
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("visits:record", args=[elder.pk]))
    page.check("input[name=notify_family]")
    page.click("details.notice-details > summary")
    page.select_option("#id_notice_guardian", str(son.pk))
    page.fill("#id_notice_asked", "请本周回家送粮，每周打一次电话")
    screenshot(page, "loops-notify-family-visit-phone")
    page.click("button.submit-visit")
    page.wait_for_url(re.compile(r"/visits/today/$"))
    page.click(".mainnav >> text=子女答复待跟进")
    row = page.locator(".due-row", has_text="王秀英")
    assert "请本周回家送粮" in row.inner_text() and "张建华" in row.inner_text()
    screenshot(page, "loops-family-followups-phone")
    row.locator("text=记答复或督促").click()
    page.fill("#id_answer-response", "张建华答应周六回家送粮")
    screenshot(page, "loops-family-answer-phone")
    page.click("form:has(input[value=answer]) button[type=submit]")
    page.wait_for_url(re.compile(r"/visits/followups/$"))
    assert "没有等待子女答复的通知" in page.content()


def test_need_to_service_loop_on_a_phone(browser, phone, live_server, log_in, screenshot):
    from services.models import ServiceRecord
    from tests.services.factories import make_item, make_provider

    world, elder, _son = _family()
    association = make_provider(world.town, name="锦屏镇老年协会")
    bath = make_item(world.town, name="上门助浴", eligibility=["disabled"])
    bath.providers.add(association)
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("visits:record", args=[elder.pk]))
    page.fill("#id_needs_raised", "想请人每周帮忙洗一次澡")
    page.check("input[name=request_service]")
    page.click("button.submit-visit")
    page.wait_for_url(re.compile(r"/visits/today/$"))
    town = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                               has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    log_in(town, world.users["town"])
    town.goto(live_server.url + reverse("services:requests"))
    assert "想请人每周帮忙洗一次澡" in town.content()
    screenshot(town, "loops-service-requests-phone")
    town.click("text=王秀英")
    town.select_option("#id_assign-item", label="上门助浴")
    town.select_option("#id_assign-provider", label="锦屏镇老年协会")
    screenshot(town, "loops-service-request-assign-phone")
    town.click("form:has(input[value=assign]) button[type=submit]")
    town.wait_for_selector("text=已派单")
    page.goto(town.url)
    page.fill("#id_close-duration_minutes", "45")
    page.fill("#id_close-note", "协会志愿者上门助浴")
    page.click("form:has(input[value=close]) button[type=submit]")
    page.wait_for_selector("text=已记录服务")
    screenshot(page, "loops-service-request-closed-phone")
    assert ServiceRecord.objects.get().item == bath


def test_moving_into_a_care_home_on_a_phone(phone, live_server, log_in, screenshot):
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import CareHome, Elder

    world, elder, _son = _family()
    home = CareHome.objects.create(name="锦屏镇敬老院", area=world.town, phone="0831-1234567")
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("registry:elder_status", args=[elder.pk]))
    page.select_option("#id_to_status", "institution")
    page.select_option("#id_care_home", str(home.pk))
    moved_in = timezone.localdate() - timedelta(days=3)
    page.fill("#id_changed_on", moved_in.isoformat())
    page.fill("#id_reason", "子女外出务工，本人自愿入住乡镇敬老院")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the form scrolls sideways ({width} px)"
    screenshot(page, "loops-care-home-status-change-phone")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(re.escape(reverse("registry:elder", args=[elder.pk])) + "$"))
    assert "锦屏镇敬老院" in page.content() and moved_in.isoformat() in page.content()
    screenshot(page, "loops-care-home-profile-phone")
    stored = Elder.objects.get(pk=elder.pk)
    assert (stored.status, stored.care_home, stored.moved_in_on) == ("institution", home, moved_in)
