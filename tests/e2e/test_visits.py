"""A village worker on a 360×740 phone: 今日待访 → record a phone visit → the elder leaves the
overdue list and the visit is on the elder's profile page and full timeline; a double tap stores
one visit; a dropped connection keeps the form filled and offers a retry."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


def setup_village():
    from tests.factories import make_elder, make_world
    from tests.visits.factories import make_visit

    world = make_world()
    worker = world.users["village"]
    late = make_elder(world.village, name="王秀英", village_group="第3组", phones=["13912345678"],
                      responsible_worker=worker)
    make_visit(late, worker, days_ago=40)
    today = make_elder(world.village, name="李桂兰", village_group="第1组", phones=["13800001111"],
                       self_care="disabled", living="alone")
    make_visit(today, worker, days_ago=7, method="home")
    soon = make_elder(world.village, name="陈德明", village_group="第5组")
    make_visit(soon, worker, days_ago=27)
    return world, late, today, soon


def test_village_worker_records_a_phone_visit_and_the_elder_leaves_the_overdue_list(
        phone, live_server, log_in, screenshot):
    from visits.models import Visit

    world, late, _today, _soon = setup_village()
    page = log_in(phone, world.users["village"])
    page.click(".mainnav >> text=今日待访")
    overdue = page.locator("section[data-bucket=overdue]")
    assert "王秀英" in overdue.inner_text()
    assert overdue.locator(".overdue").first.inner_text() == "逾期 10 天"
    assert page.locator(".mainnav a", has_text="今日待访").locator(".badge").inner_text() == "2"
    screenshot(page, "visits-today-phone")

    overdue.locator(".due-row", has_text="王秀英").locator("a.record").click()
    page.wait_for_url(re.compile(r"/visits/elder/\d+/record/"))
    assert page.locator("input[name=method][value=phone]").is_checked()
    screenshot(page, "visits-form-phone")
    page.fill("input[name=met_with]", "本人")
    page.click("button.quick-save")
    page.wait_for_url(re.compile(r"/visits/today/$"))
    page.wait_for_selector(".messages >> text=已保存 王秀英 的巡访记录")
    assert page.locator("section[data-bucket=overdue]").count() == 0 or \
        "王秀英" not in page.locator("section[data-bucket=overdue]").inner_text()

    visit = Visit.objects.filter(elder=late).latest("visited_at")
    assert visit.method == "phone" and visit.met_with == "本人"
    page.goto(live_server.url + reverse("registry:elder", args=[late.pk]))
    assert "本人" in page.locator(".timeline .visit-item").first.inner_text()
    screenshot(page, "visits-profile-timeline-phone")
    page.goto(live_server.url + reverse("visits:elder_visits", args=[late.pk]))
    first = page.locator(".timeline .visit-item").first.inner_text()
    assert "电话" in first and "本人" in first
    assert "共 2 次" in page.content()


def test_a_double_tap_on_submit_stores_one_visit(phone, live_server, log_in):
    from visits.models import Visit

    world, _late, today, _soon = setup_village()
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("visits:record", args=[today.pk]))
    page.check("input[name=method][value=home]", force=True)
    page.dblclick("button.quick-save")
    page.wait_for_url(re.compile(r"/visits/(today|visit/\d+)/$"))
    assert Visit.objects.filter(elder=today).count() == 2  # the factory's visit + exactly one new


def test_a_dropped_connection_keeps_the_form_filled_and_retry_saves_it(phone, live_server, log_in, screenshot):
    from visits.models import Visit

    world, late, _today, _soon = setup_village()
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("visits:record", args=[late.pk]))
    page.fill("textarea[name=needs_raised]", "想要助餐")
    page.route("**/record/", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.click("button.submit-visit")
    page.wait_for_selector(".outbox-note:not([hidden])")
    assert "网络不通，还没有发送" in page.locator(".outbox-note").inner_text()
    assert page.input_value("textarea[name=needs_raised]") == "想要助餐"
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    screenshot(page, "visits-form-offline-phone")
    assert Visit.objects.filter(elder=late).count() == 1

    page.unroute("**/record/")
    page.click("button.retry")
    page.wait_for_url(re.compile(r"/visits/today/$"))
    assert Visit.objects.filter(elder=late, needs_raised="想要助餐").count() == 1


def test_a_future_time_shows_the_message_and_keeps_the_form(phone, live_server, log_in):
    from visits.models import Visit

    world, late, _today, _soon = setup_village()
    page = log_in(phone, world.users["village"])
    page.goto(live_server.url + reverse("visits:record", args=[late.pk]))
    page.fill("textarea[name=notes]", "院坝有积水")
    page.fill("input[name=visited_at]", "2099-01-01T10:00")
    page.click("button.submit-visit")
    page.wait_for_selector("text=巡访时间不能晚于现在")
    assert page.input_value("textarea[name=notes]") == "院坝有积水"
    assert Visit.objects.filter(elder=late).count() == 1
    page.fill("input[name=visited_at]", "")
    page.locator("input[name=visited_at]").fill(page.evaluate(
        "new Date(Date.now() - 3600e3 + 8*3600e3).toISOString().slice(0, 16)"))
    page.click("button.submit-visit")  # the re-rendered form is enhanced again
    page.wait_for_url(re.compile(r"/visits/today/$"))
    assert Visit.objects.filter(elder=late, notes="院坝有积水").count() == 1
