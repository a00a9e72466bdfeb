"""The office reads the access log on a phone; pages that had inline script work under the CSP."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_town_reads_the_access_log_on_a_phone(phone, live_server, log_in, screenshot):
    from eldercare.audit import record_access
    from tests.factories import make_elder, make_world

    world = make_world()
    for i in range(4):
        elder = make_elder(world.village, name=f"老人{i}")
        record_access(user=world.users["village"], kind="reveal", obj=elder, area_code=elder.village_id,
                      field="id_number")
    record_access(user=world.users["village2"], kind="export", area_code=world.village2.code,
                  detail={"what": "registry.elder.ledger", "rows": 37, "masked": True})
    page = log_in(phone, world.users["town"])
    page.click("nav.mainnav >> text=访问记录")
    page.wait_for_url("**/access-log/")
    assert page.locator(".access-events li").count() == 5
    assert "37 行" in page.content()
    screenshot(page, "access-log-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    page.select_option("select[name=kind]", "export")
    page.click("button:has-text('筛选')")
    page.wait_for_url("**kind=export**")
    assert page.locator(".access-events li").count() == 1


def test_reassign_village_choice_submits_without_inline_script(desktop, live_server, log_in):
    from django.urls import reverse

    from tests.factories import make_world

    world = make_world()
    page = log_in(desktop, world.users["town"])
    page.goto(live_server.url + reverse("visits:reassign"))
    page.select_option("select#village", world.village.code)
    page.wait_for_url(f"**village={world.village.code}**")
