"""Village staff on a phone: find an elder, open the profile, register a new elder."""

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_village_staff_find_an_elder_and_register_another_on_a_phone(phone, live_server, log_in, screenshot):
    from stdnum.cn import ric

    from registry.models import Elder
    from tests.factories import make_elder, make_guardian, make_id_number, make_world

    world = make_world()
    alone = make_elder(world.village, name="王秀英", age=84, self_care="disabled", living="alone",
                       phones=["13812345678"], village_group="第3组", diseases="高血压、关节炎")
    make_guardian(alone, name="王建华", phone="13900001111", whereabouts="浙江宁波")
    make_elder(world.village, name="李德明", age=72, living="spouse", phones=["15912340000"])
    make_elder(world.village2, name="外村人")

    page = log_in(phone, world.users["village"])
    page.click("text=老人名册")
    page.wait_for_url("**/registry/elders/")
    content = page.content()
    assert "王秀英" in content and "李德明" in content and "外村人" not in content
    assert "138****5678" in content
    screenshot(page, "registry-elder-list-phone")

    page.fill("input[name=q]", "wxy")
    page.click("button:has-text('查找')")
    page.wait_for_url("**q=wxy*")
    assert "王秀英" in page.content() and "李德明" not in page.content()
    page.click("a.name:has-text('王秀英')")
    page.wait_for_url("**/registry/elders/*/")
    assert page.locator(".alert-box").is_visible()
    assert page.locator("a[href='tel:13900001111']").count() == 1
    screenshot(page, "registry-elder-profile-phone")

    page.goto(f"{live_server.url}/registry/elders/add/")
    body = "51152919480602123"
    wrong = body + ("0" if ric.calc_check_digit(body + "0") != "0" else "1")
    page.fill("#id_name", "刘桂兰")
    page.fill("#id_id_number", wrong)
    page.click("button:has-text('保存')")
    expect(page.locator("body")).to_contain_text("校验位不符")
    assert page.input_value("#id_name") == "刘桂兰"  # input kept
    screenshot(page, "registry-elder-add-error-phone")
    page.fill("#id_id_number", make_id_number(date(1948, 6, 2), male=False))
    page.click("button:has-text('保存')")
    page.wait_for_url("**/registry/elders/*/")
    assert Elder.objects.filter(name="刘桂兰", village=world.village).exists()
