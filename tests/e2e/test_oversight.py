"""Town and county dashboards in a real browser, at desktop and phone width (screenshots)."""

import pytest
from playwright.sync_api import expect

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
    expect(page.locator("h1")).to_contain_text("李家湾村 · 巡访已逾期")
    expect(page.locator("body")).to_contain_text("共 6 条")

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
    expect(county.locator("h1")).to_have_text("锦屏镇 · 督导总览")


def test_monthly_report_prints_on_one_a4_page(desktop, live_server, log_in, screenshot):
    from tests.factories import make_world
    from tests.oversight.data import populate

    world = make_world()
    populate(world, per_village=2)
    page = log_in(desktop, world.users["town"])
    page.goto(f"{live_server.url}/oversight/report/")
    assert "锦屏镇农村留守老年人关爱服务统计报表" in page.locator("h1").inner_text()
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(page, "oversight-report-printed")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 1123 * 1.1, f"the printed report is {height} px high: more than one A4 page"


def test_scorecard_and_a_printed_circular(desktop, phone, live_server, log_in, screenshot):
    from tests.factories import make_world
    from tests.oversight.data import populate

    world = make_world()
    populate(world, per_village=2)
    page = log_in(desktop, world.users["town"])
    page.goto(f"{live_server.url}/oversight/scorecard/")
    assert page.locator("h1").inner_text() == "锦屏镇 · 督导评分"
    screenshot(page, "oversight-scorecard-desktop")
    page.locator("table.score-table tr", has_text="李家湾村").locator("text=扣分原因").click()
    expect(page.locator("h1")).to_have_text("李家湾村 · 督导评分")
    # The shortfall is a link to exactly the rows it counts.
    missed = page.locator("tr.missed a").first
    shortfall = missed.inner_text()
    missed.click()
    page.wait_for_url("**/oversight/rows/**")
    expect(page.locator("p.muted").first).to_contain_text(f"共 {shortfall} 条")


    page.goto(f"{live_server.url}/oversight/circulars/")
    page.click("text=按当前评分生成通报草稿")
    page.fill("textarea[name=text]", "一、请未达标的村于下月10日前补齐老人档案的必填项。\n二、高风险老人每周至少巡访一次。")
    page.click("form >> text=保存")
    page.click("text=印发（印发后不能修改）")
    expect(page.locator("article")).to_contain_text("已印发")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    screenshot(page, "oversight-circular-printed")

    # last: logging in again (the fixture sets the password) ends the desktop session
    small = log_in(phone, world.users["town"])
    small.goto(f"{live_server.url}/oversight/scorecard/")
    screenshot(small, "oversight-scorecard-phone")
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
