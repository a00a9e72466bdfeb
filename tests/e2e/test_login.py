"""A person logs in on a phone and lands on their work, with only their own village's menu."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_village_staff_log_in_on_a_phone(phone, live_server, log_in, screenshot):
    from tests.factories import make_world

    world = make_world()
    page = log_in(phone, world.users["village"])
    assert page.url.endswith("/visits/today/") and page.locator("h1").inner_text().startswith("今日待访")
    assert page.locator(".mainnav [aria-current]").inner_text().startswith("今日待访")
    # the phone's bar names the worker; the role and the village only where there is room
    assert page.locator(".topbar .who").inner_text() == "village"
    assert page.locator(".topbar .who-more").text_content() == " · 村(居)委会 · 李家湾村"
    screenshot(page, "home-phone")


def test_wrong_password_shows_a_chinese_message(phone, live_server):
    from tests.factories import make_world

    make_world()
    phone.goto(f"{live_server.url}/login/")
    phone.fill("#id_username", "village")
    phone.fill("#id_password", "not-the-password")
    phone.click("button[type=submit]")
    expect(phone.locator("body")).to_contain_text("请输入一个正确的")  # waits for the answer to load
