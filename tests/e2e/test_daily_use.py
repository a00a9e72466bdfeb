"""Every page of every role on a 360-px phone, as that role: axe-core finds no serious or critical
accessibility problem, and the field pages keep text at 14 px or more and every tap target at
44 × 44 px or more. Each role's first screen is its work; screenshots of it at phone and desktop.

The pages are `tests.matrix.role_pages`: the permission matrix's pages in the role's scope, with
the objects they make, plus the role's menu. axe-core comes from npm (package.json at the
repository root, `make npm`); it is evaluated in the page through the DevTools protocol, which the
page's Content-Security-Policy does not block, so the pages are checked as they are served.

Tap targets: 44 × 44 CSS px (WCAG 2.5.5, Apple's and Android's guidance: a thumb on a cheap phone
held in one hand). A checkbox or radio counts by its label, which is what the finger hits.
"""

from pathlib import Path

import pytest
from django.test import Client

from tests.matrix import role_pages

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ROLES = ["village", "town", "county", "clinic", "police"]
FIRST_SCREEN = {"village": "/visits/today/", "clinic": "/services/health/", "police": "/relief/referrals/",
                "town": "/oversight/", "county": "/oversight/"}
# At least this many pages per role are checked (the menu plus the matrix's pages in scope).
MIN_PAGES = {"village": 20, "town": 20, "county": 12, "clinic": 5, "police": 3}
MIN_TARGET = 44
MIN_FONT = 14

# Offenders on the page: visible text under MIN_FONT px, visible tap targets under MIN_TARGET px.
MEASURE = """([minTarget, minFont]) => {
  const shown = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== "hidden" && s.display !== "none" && s.opacity !== "0"; };
  const name = (el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : "")
    + " “" + (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 20) + "”";
  const small = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || !shown(el) || el.closest(".visually-hidden")) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minFont) small.push(name(el) + " " + size + "px");
  }
  const tiny = [];
  for (let el of document.querySelectorAll("a[href], button, input, select, textarea, summary")) {
    if (el.type === "hidden") continue;
    if (el.type === "checkbox" || el.type === "radio") el = el.closest("label") || el;
    if (!shown(el) || el.closest(".visually-hidden")) continue;
    const r = el.getBoundingClientRect();
    if (r.height < minTarget - 0.5 || r.width < minTarget - 0.5)
      tiny.push(name(el) + " " + Math.round(r.width) + "×" + Math.round(r.height));
  }
  return {small: [...new Set(small)], tiny: [...new Set(tiny)]};
}"""


def session_cookie(user, live_server):
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def axe_problems(page):
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""")
    return result


@pytest.mark.skipif(not AXE.exists(), reason="axe-core missing: run `make npm` (make test does)")
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_passes_axe_at_360_px(role, browser, live_server, world_with_work, screenshot):
    from tests.e2e.conftest import DESKTOP, PHONE

    world = world_with_work
    user = world.users[role]
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    context.add_cookies([session_cookie(user, live_server)])
    page = context.new_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    # The first screen is the role's work, its menu item current and in view.
    page.goto(live_server.url + "/")
    assert page.url == live_server.url + FIRST_SCREEN[role]
    current = page.locator(".mainnav [aria-current]")
    assert current.count() == 1 and current.is_visible()
    box, strip = current.bounding_box(), page.locator(".mainnav").bounding_box()
    assert box["x"] >= strip["x"] - 1 and box["x"] + box["width"] <= strip["x"] + strip["width"] + 1
    assert strip["y"] + strip["height"] <= 100  # header and menu take under 100 of 740 px
    screenshot(page, f"first-screen-{role}-phone")

    # The check can fail: a button without a name is a critical violation.
    page.set_content('<html lang="zh"><title>x</title><main><button></button></main></html>')
    assert any(p.startswith("button-name") for p in axe_problems(page))

    problems = {}
    pages = role_pages(role, world)
    assert len(pages) >= MIN_PAGES[role], pages
    for label, url in pages:
        response = page.goto(live_server.url + url)
        assert response.status == 200, (label, url, response.status)
        found = axe_problems(page)
        if found:
            problems[f"{label} {url}"] = found
    assert not problems, problems
    assert not missing, missing  # no 404 for a favicon, a stylesheet or a script
    context.close()

    desktop = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    desktop.add_cookies([session_cookie(user, live_server)])
    page = desktop.new_page()
    page.goto(live_server.url + "/")
    screenshot(page, f"first-screen-{role}-desktop")
    desktop.close()


FIELD_PAGES = [  # (what, url name, needs the elder) — the pages used on a phone in the field
    ("今日待访", "visits:today", False),
    ("记巡访", "visits:record", True),
    ("老人信息", "registry:elder", True),
    ("巡访记录", "visits:elder_visits", True),
    ("上报特殊情况", "relief:case_report", False),
    ("登记老人", "registry:elder_add", False),
    ("老人名册", "registry:elders", False),
]


def test_field_pages_keep_text_at_14_px_and_tap_targets_at_44_px(phone, live_server, world_with_work):
    from django.urls import reverse

    from registry.models import Elder

    world = world_with_work
    elder = Elder.objects.get(name="王秀英")
    phone.context.add_cookies([session_cookie(world.users["village"], live_server)])
    offenders = {}
    for what, url_name, with_elder in FIELD_PAGES:
        phone.goto(live_server.url + reverse(url_name, args=[elder.pk] if with_elder else []))
        phone.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")  # folded too
        found = phone.evaluate(MEASURE, [MIN_TARGET, MIN_FONT])
        if found["small"] or found["tiny"]:
            offenders[what] = found
    assert not offenders, __import__("json").dumps(offenders, ensure_ascii=False, indent=1)
