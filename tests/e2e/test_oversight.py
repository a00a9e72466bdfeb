"""Town and county dashboards in a real browser, at desktop and phone width (screenshots)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_town_dashboard_opens_the_list_behind_a_figure(desktop, phone, live_server, log_in, screenshot):
    from tests.factories import make_world
    from tests.oversight.data import populate

    world = make_world()
    populate(world, per_village=3)
    page = log_in(desktop, world.users["town"])
    page.goto(f"{live_server.url}/oversight/")
    assert page.locator("h1").inner_text() == "锦屏镇 · 督导总览"
    screenshot(page, "oversight-town-dashboard-desktop")
    page.locator("table.unit-table tr", has_text="李家湾村").locator("td").nth(7).locator("a").click()
    assert "李家湾村 · 巡访已逾期" in page.locator("h1").inner_text()
    assert "共 6 条" in page.content()

    small = log_in(phone, world.users["town"])
    small.goto(f"{live_server.url}/oversight/")
    screenshot(small, "oversight-town-dashboard-phone")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360-px phone"

    county = log_in(desktop, world.users["county"])
    county.goto(f"{live_server.url}/oversight/")
    assert "屏山县 · 督导总览" in county.locator("h1").inner_text()
    screenshot(county, "oversight-county-dashboard-desktop")
    county.click("table.unit-table >> text=锦屏镇")
    assert county.locator("h1").inner_text() == "锦屏镇 · 督导总览"
