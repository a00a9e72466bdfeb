"""Recording visits on a slow mobile network, with and without the service worker (issue #15).

Chromium throttled through CDP Network.emulateNetworkConditions: 400 ms latency, 400 kbit/s
down and up. Once 今日待访 is loaded (and, with the service worker, the day's pages stored on
the phone), the worker records visits: tap 记巡访, tap 情况都正常，直接保存, back on the list
with 已保存. Per visit: the bytes the network carried (CDP encodedDataLength of every answer
not served by the service worker), the requests, and the seconds from the tap to the list.

With the service worker a visit costs the submit and its small JSON answer; without it, the
form page and the list page are downloaded again each time. The figures go in
docs/performance.md ("Recording visits on a slow network"); printed with -s.
Run: NETWORK_BENCH=1 pytest -s tests/e2e/test_outbox_network.py (skipped otherwise: it takes
about a minute of throttled time and measures rather than checks behaviour).
"""

import os
import re
import time

import pytest

from tests.e2e.conftest import PHONE, csp_watched

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(os.environ.get("NETWORK_BENCH") != "1", reason="set NETWORK_BENCH=1 to measure")]
SLOW = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
VISITS = 4
PASSWORD = "correct-horse-battery-staple"


def setup_village(n):
    from tests.factories import make_elder, make_world
    from tests.visits.factories import make_visit

    world = make_world()
    worker = world.users["village"]
    for i in range(n):
        elder = make_elder(world.village, name=f"老人{i:02d}", village_group=f"第{i % 5 + 1}组",
                           phones=["13912345678"], responsible_worker=worker)
        make_visit(elder, worker, days_ago=40 + i)
    return world


class Meter:
    """Bytes and requests that went over the (throttled) network, from CDP's Network events."""

    def __init__(self, cdp):
        self.sizes, self.from_worker, self.kinds = {}, set(), {}
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def _response(self, event):
        if event["response"].get("fromServiceWorker"):
            self.from_worker.add(event["requestId"])
        path = event["response"]["url"].split("//", 1)[-1].split("/", 1)[-1].split("?")[0]
        self.kinds[event["requestId"]] = f"{event['type']} /{path}"

    def reading(self):
        """(bytes, requests, what) of pages and form posts; static files are left out (the test
        server serves them without the year-long cache whitenoise gives them in production), and
        so are data: URLs (the browser's own form-control icons, no network)."""
        network = {k: v for k, v in self.sizes.items() if k not in self.from_worker
                   and "/static/" not in self.kinds.get(k, "") and "svg+xml" not in self.kinds.get(k, "")}
        return sum(network.values()), len(network), sorted(self.kinds.get(k, "?") for k in network)


def measure(browser, live_server, log_in, *, service_worker):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai",
                                  service_workers="allow" if service_worker else "block")
    page = csp_watched(context.new_page())
    world = setup_village(VISITS + 2)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    meter = Meter(cdp)
    log_in(page, world.users["village"], PASSWORD)
    page.wait_for_url(re.compile(r"/visits/today/$"))
    page.wait_for_load_state("load")
    listed = meter.reading()
    if service_worker:
        page.wait_for_selector("body[data-day-stored=done]", state="attached")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    stored = meter.reading()
    print(f"\nstoring the day ({VISITS + 2} elders listed): {stored[0] - listed[0]:,} B in {stored[1] - listed[1]} requests")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    rows = []
    for i in range(VISITS):
        before = meter.reading()
        start = time.perf_counter()
        page.locator(".due-row", has_text=f"老人{i:02d}").locator("a.record").click()
        page.wait_for_url(re.compile(r"/record/$"))
        page.click("button.quick-save")
        page.wait_for_url(re.compile(r"/visits/today/$"))
        page.wait_for_selector(f".messages >> text=已保存 老人{i:02d} 的巡访记录")
        seconds = time.perf_counter() - start
        after = meter.reading()
        what = list(after[2])
        for item in before[2]:
            what.remove(item)
        rows.append((after[0] - before[0], after[1] - before[1], seconds, what))
    context.close()
    assert not page.csp_violations, page.csp_violations
    from visits.models import Visit
    assert Visit.objects.filter(notes="", elder__name__startswith="老人").count() >= VISITS
    return rows


def test_a_visit_on_a_slow_network_with_and_without_the_service_worker(browser, live_server, log_in):
    from django.core.management import call_command

    results = {}
    for mode in (True, False):
        results[mode] = measure(browser, live_server, log_in, service_worker=mode)
        call_command("flush", "--no-input", verbosity=0)
    print()
    for mode, rows in results.items():
        size = sum(r[0] for r in rows) / len(rows)
        requests = sum(r[1] for r in rows) / len(rows)
        seconds = sorted(r[2] for r in rows)
        print(f"{'with' if mode else 'without'} service worker: {size:,.0f} B, {requests:.1f} requests, "
              f"median {seconds[len(seconds) // 2]:.2f} s per visit; each: "
              + ", ".join(f"{r[0]:,} B/{r[2]:.2f} s" for r in rows))
        print("   requests of the last visit:", "; ".join(rows[-1][3]))
    with_sw = sum(r[0] for r in results[True]) / VISITS
    without_sw = sum(r[0] for r in results[False]) / VISITS
    assert with_sw * 3 < without_sw, "with the service worker a visit costs the submit, not two pages"
