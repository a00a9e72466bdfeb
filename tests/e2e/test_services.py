"""Clinic staff record a health check from the worklist on a phone, and the coverage moves."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _world_with_elders():
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_elder, make_guardian, make_world
    from tests.services.factories import make_check, make_contract, make_item, make_pairing, make_volunteer

    world = make_world()
    elders = [make_elder(world.village, name=n, age=a, phones=["13800001111"])
              for n, a in (("王秀英", 72), ("李德明", 81), ("张桂兰", 67), ("陈国华", 75))]
    make_guardian(elders[0], name="王建国", phone="13900002222")
    make_check(elders[3], world.users["clinic"])
    make_contract(elders[1], valid_until=timezone.localdate() + timedelta(days=12))
    make_item(world.town, name="上门助浴", eligibility=["disabled"])
    make_item(world.town, name="重阳节文艺活动")
    make_pairing(make_volunteer(world.village, name="刘志愿"), elders[0],
                 started_on=timezone.localdate() - timedelta(days=20))
    return world, elders


def test_clinic_records_a_check_from_the_worklist_and_coverage_moves(phone, live_server, log_in, screenshot):
    world, elders = _world_with_elders()
    page = log_in(phone, world.users["clinic"])
    page.click("nav.mainnav >> text=健康管理")
    assert page.locator("#coverage").inner_text() == "25.0%"
    screenshot(page, "services-worklist-phone")
    page.locator("li", has_text="王秀英").locator("text=录入体检").click()
    page.fill("#id_systolic", "300")
    page.fill("#id_diastolic", "85")
    page.fill("#id_summary", "血压偏高，需复查")
    page.click("form.card button[type=submit]")
    page.wait_for_selector(".errorlist")
    assert "60–260" in page.content()  # the range is named, the input kept
    assert page.input_value("#id_summary") == "血压偏高，需复查"
    page.fill("#id_systolic", "150")
    page.fill("#id_glucose", "6.1")
    page.fill("#id_height_cm", "158")
    page.fill("#id_weight_kg", "60")
    screenshot(page, "services-health-check-phone")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/services/health/")
    assert page.locator("#coverage").inner_text() == "50.0%"
    assert "已保存 王秀英" in page.content()


def test_town_sees_catalogue_and_village_prints_it_on_desktop(desktop, live_server, log_in, screenshot):
    world, _ = _world_with_elders()
    page = log_in(desktop, world.users["town"])
    page.goto(f"{live_server.url}/services/catalogue/")
    assert "上门助浴" in page.content()
    screenshot(page, "services-catalogue-desktop")
    page.goto(f"{live_server.url}/services/health/")
    screenshot(page, "services-worklist-desktop")
    page.goto(f"{live_server.url}/services/catalogue/{world.village.code}/print/")
    assert "李家湾村" in page.content() and "重阳节文艺活动" in page.content()
    screenshot(page, "services-catalogue-print")


def test_village_sees_overdue_pairings_on_a_phone(phone, live_server, log_in, screenshot):
    world, _ = _world_with_elders()
    page = log_in(phone, world.users["village"])
    page.click("nav.mainnav >> text=结对帮扶")
    page.wait_for_url("**/services/pairings/")
    assert "已逾期" in page.content() and "王秀英" in page.content()
    screenshot(page, "services-pairings-phone")
