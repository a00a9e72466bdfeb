"""A special situation from the field to the police and back, in a real browser:
`village` reports an urgent case on a phone, `town` accepts it and refers it to 派出所, `police`
receives, acts and closes it with an outcome; `village2` cannot see it anywhere."""

import pytest
from playwright.sync_api import expect

from relief.models import ReliefCase

pytestmark = pytest.mark.django_db(transaction=True)

NARRATIVE = "老人清早出门未归，邻居在镇上车站看见其乞讨。"
OUTCOME = "民警已将老人护送回家，并联系其儿子回村照料。"


@pytest.fixture
def another_phone(browser):
    """another_phone() → a new phone-sized page in its own browser context (one per user)."""
    from tests.e2e.conftest import PHONE

    contexts = []

    def _page():
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        return context.new_page()

    yield _page
    for context in contexts:
        context.close()


def test_urgent_case_from_village_phone_to_police_and_closed(phone, desktop, another_phone, live_server, log_in,
                                                             screenshot):
    from tests.factories import make_elder, make_world

    world = make_world()
    elder = make_elder(world.village, name="王秀英", age=84, phones=["13912345678"], address="李家湾村3组12号")

    # 1. village staff report on a phone
    page = log_in(phone, world.users["village"])
    page.goto(f"{live_server.url}/relief/report/")
    page.select_option("#id_elder", str(elder.pk))
    page.select_option("#id_case_type", "vagrancy")
    page.check("input[name=urgency][value=urgent]")
    page.fill("#id_narrative", NARRATIVE)
    screenshot(page, "relief-report-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the form fits a 360 px screen"
    page.click("button:has-text('上报乡镇')")
    page.wait_for_url("**/relief/cases/*/")
    assert "已上报" in page.inner_text("#case-status")
    case = ReliefCase.objects.get()
    assert (case.urgency, case.reported_by.username) == ("urgent", "village")
    screenshot(page, "relief-case-reported-phone")

    # 2. the town sees it in its inbox, accepts it and refers it to 派出所
    town = log_in(desktop, world.users["town"])
    town.goto(f"{live_server.url}/relief/inbox/")
    assert "王秀英" in town.content() and "紧急" in town.content()
    town.click("text=王秀英 · 外出流浪乞讨")
    town.click("form[action$='/accept/'] button")
    town.wait_for_selector("form[action$='/refer/']")
    town.check(f"form[action$='/refer/'] input[value='{world.police.pk}']")
    town.fill("#id_refer-note", "请尽快核实老人下落")
    screenshot(town, "relief-town-refer")
    town.click("form[action$='/refer/'] button")
    town.wait_for_selector("text=转办至锦屏镇派出所")
    assert "已转办" in town.inner_text("#case-status")

    # 3. the police officer receives it, acts and closes it with an outcome (on a phone)
    police = log_in(another_phone(), world.users["police"])
    police.goto(f"{live_server.url}/relief/inbox/")
    assert "王秀英" in police.content()
    police.click("text=王秀英 · 外出流浪乞讨")
    police.wait_for_url("**/relief/cases/*/")
    assert NARRATIVE in police.content() and "13912345678" in police.content()
    police.click("form[action$='/receive/'] button")
    police.wait_for_selector("form[action$='/start/']")
    police.click("form[action$='/start/'] button")
    police.wait_for_selector("form[action$='/close/']")
    police.click("form[action$='/close/'] button")  # no outcome: refused, with a message
    expect(police.locator("body")).to_contain_text("请填写办理结果")
    police.fill("#id_rclose-outcome", OUTCOME)
    police.click("form[action$='/close/'] button")
    police.wait_for_selector("#case-outcome")
    assert "已办结" in police.inner_text("#case-status") and OUTCOME in police.inner_text("#case-outcome")
    screenshot(police, "relief-police-closed-phone")
    case.refresh_from_db()
    assert case.status == "closed" and OUTCOME in case.outcome

    # 4. the reporting village sees the outcome; village2 sees nothing anywhere
    page.goto(f"{live_server.url}/relief/cases/{case.pk}/")
    assert OUTCOME in page.content()
    other = log_in(another_phone(), world.users["village2"])
    for path in ("/relief/cases/?status=all", "/relief/inbox/", "/"):
        other.goto(f"{live_server.url}{path}")
        assert "王秀英" not in other.content(), path
    response = other.goto(f"{live_server.url}/relief/cases/{case.pk}/")
    assert response.status == 404 and "王秀英" not in other.content()


def test_town_queue_flags_overdue_cases_and_risk_page_fits_a_phone(phone, desktop, live_server, log_in, screenshot):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from relief.choices import ReliefCaseStatus, ReliefCaseUrgency
    from tests.factories import make_elder, make_world
    from tests.relief.factories import make_case

    world = make_world()
    with time_machine.travel(timezone.now() - timedelta(hours=5)):
        make_case(world, urgency=ReliefCaseUrgency.URGENT,
                         elder=make_elder(world.village, name="李桂兰", age=88))
    make_case(world, status=ReliefCaseStatus.REFERRED, elder=make_elder(world.village2, name="陈德明"),
              village=world.village2)
    town = log_in(desktop, world.users["town"])
    town.goto(f"{live_server.url}/relief/cases/")
    overdue = town.locator("li.is-overdue")
    assert overdue.count() == 1 and "李桂兰" in overdue.inner_text() and "已超时" in overdue.inner_text()
    assert "陈德明" in town.content()
    screenshot(town, "relief-town-queue")

    elder = make_elder(world.village, name="王秀英", age=86, self_care="disabled", living="alone")
    page = log_in(phone, world.users["village"])
    page.goto(f"{live_server.url}/relief/risk/{elder.pk}/")
    assert "系统建议：高风险" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "relief-assess-phone")
    page.click("button:has-text('确认评估')")
    page.wait_for_selector("text=已确认王秀英的风险等级")
