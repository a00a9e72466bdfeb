"""Real-browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Skipped (with the reason) when /usr/bin/chromium is missing; `make test` installs it as root.
Screenshots go to docs/screenshots/ via the `screenshot` fixture.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# Playwright's sync API runs an event loop in this thread; the ORM calls made by test code
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def csp_watched(page):
    """The page, with every Content-Security-Policy violation the browser reports collected in
    `page.csp_violations`: the suite runs under the site's real policy and fails on any block."""
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    return page


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    page = csp_watched(context.new_page())
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = csp_watched(context.new_page())
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


@pytest.fixture
def log_in(live_server):
    """log_in(page, user) — through the real login form (passwords are set here)."""

    def _log_in(page, user, password="correct-horse-battery-staple"):
        user.set_password(password)
        user.save()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return _log_in


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name): a full-page PNG. `make screenshots` (SCREENSHOTS=1) writes them to
    docs/screenshots/; a plain test run takes them into a scratch folder, so running the tests
    leaves the checkout unchanged."""
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") == "1" else tmp_path

    def _shot(page, name):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return _shot
