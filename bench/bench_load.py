"""The production server under load (`python -m bench load`).

On a fresh copy of the county dataset it starts the server exactly as README.md "Deployment"
says (the ExecStart of the systemd unit the README installs, deploy/systemd/eldercare-web.service,
read from that file, bound to a port of this machine), with DEBUG=0 and static files collected,
and drives it from this same machine:

- N village sessions, each a different village's worker, through the field loop as fast as the
  server answers: 今日待访 → the elder (the row's name link) → the visit form (the row's 记巡访
  link) → submit a phone visit with the form's defaults (multipart, as the page's script sends
  it) → the redirect back to 今日待访, which starts the next round;
- plus 2 town sessions going round the town's queues (救助待办, 救助个案), 巡访总览 and the
  dashboards (the oversight app's menu entries for town staff);

for 60 s at each of 5, 20 and 50 village sessions (BENCH_LOAD_SESSIONS="5,20,50",
BENCH_LOAD_SECONDS=60), after a warm-up. Every level uses villages of its own. It prints
requests per second, latency percentiles (overall and per page), errors, the CPU time the
server's processes (gunicorn workers and their PostgreSQL backends) spent per request, and
checks that every submit answered as stored is stored exactly once.

Targets (issue 18), at 20 village sessions: ≥ 40 requests/s, p95 ≤ 500 ms, zero errors.

BENCH_LOAD_PROFILE=1 samples the gunicorn workers with py-spy during each level (py-spy leaves
out idle workers waiting for a request; a worker waiting on PostgreSQL inside psycopg is counted,
as "the PostgreSQL driver") and prints where their time went: by layer (template rendering, the
database driver, the ORM building queries, compression, sessions and authentication, …) and the
functions with the most samples of their own; the raw stacks are kept in var/bench/profile-N.txt.
"""

from __future__ import annotations

import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.common import cpu_seconds, town_dashboards

ROOT = Path(__file__).resolve().parent.parent
COPY_SUFFIX = "load"
TOWN_SESSIONS = 2
WARMUP_SECONDS = 10


WEB_UNIT = ROOT / "deploy" / "systemd" / "eldercare-web.service"


def production_server_command(port: int) -> list[str]:
    """The production web server as README.md "Deployment" starts it: the ExecStart of the
    systemd unit it installs (deploy/systemd/eldercare-web.service), with this checkout's
    gunicorn, bound to `port`. BENCH_LOAD_SERVER="gunicorn …" replaces it (to compare settings)."""
    readme = (ROOT / "README.md").read_text()
    deployment = readme[readme.index("## Deployment"):readme.index("\n## ", readme.index("## Deployment") + 3)]
    assert "eldercare-web" in deployment and "deploy/systemd" in deployment, "README no longer installs the unit"
    line = os.environ.get("BENCH_LOAD_SERVER") or next(
        raw.split("=", 1)[1] for raw in WEB_UNIT.read_text().splitlines() if raw.startswith("ExecStart="))
    argv = shlex.split(line)
    for i, arg in enumerate(argv):
        if arg in ("--bind", "-b"):
            argv[i + 1] = f"127.0.0.1:{port}"
        elif arg.startswith("--bind="):
            argv[i] = f"--bind=127.0.0.1:{port}"
    if not any(a in ("--bind", "-b") or a.startswith("--bind=") for a in argv):
        argv += ["--bind", f"127.0.0.1:{port}"]
    argv[0] = str(Path(sys.executable).parent / "gunicorn")
    return argv


def _free_port() -> int:
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class ServerCPU:
    """CPU seconds of the gunicorn master, its workers and the PostgreSQL backends serving the
    benchmark's database (read from /proc; the backends persist: CONN_MAX_AGE)."""

    def __init__(self, master: int, dsn_params: dict, database: str):
        self.master = master
        self.params = dsn_params
        self.database = database

    def backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as conn:
            return [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database]).fetchall()]

    def snapshot(self) -> dict:
        workers = [self.master, *_children(self.master)]
        return {"app": {p: cpu_seconds(p) for p in workers}, "db": {p: cpu_seconds(p) for p in self.backends()}}

    @staticmethod
    def spent(before: dict, after: dict, kind: str) -> float:
        return sum(cpu - before[kind].get(pid, 0.0) for pid, cpu in after[kind].items())


class Run:
    """The requests of one level: (page kind, start, seconds, ok) and the submits stored."""

    def __init__(self):
        self.deadline = float("inf")
        self.lock = threading.Lock()
        self.requests: list[tuple[str, float, float, bool]] = []
        self.errors: list[str] = []
        self.submitted: list[str] = []  # submission keys answered as stored
        self.fallbacks = 0

    def record(self, kind, response, ok, note=""):
        with self.lock:
            self.requests.append((kind, time.perf_counter() - response.seconds, response.seconds, ok))
            if not ok:
                self.errors.append(f"{kind} {response.method} {response.path} → {response.status} {note}"[:300])


def _village_session(browser, run: Run, urls: dict, rng: random.Random):
    """The field loop until the deadline."""
    page = browser.get(urls["today"])
    run.record("今日待访", page, page.status == 200)
    from bench.browser import parse_form, worklist_rows

    while time.perf_counter() < run.deadline:
        rows = worklist_rows(page.body)
        if rows:
            pk, links = rng.choice(rows)
        else:  # nobody due this week in this village any more: any of its elders
            pk, links = rng.choice(urls["elders"]), []
            with run.lock:
                run.fallbacks += 1
        record_url = next((u for u in links if "record" in u), urls["record"].format(pk=pk))
        elder_url = next((u for u in links if str(pk) in u and u != record_url), urls["elder"].format(pk=pk))
        answer = browser.get(elder_url)
        run.record("elder", answer, answer.status == 200)
        if time.perf_counter() >= run.deadline:
            break
        form_page = browser.get(record_url)
        run.record("visit form", form_page, form_page.status == 200)
        if form_page.status != 200 or time.perf_counter() >= run.deadline:
            page = browser.get(urls["today"])
            continue
        form = parse_form(form_page.body, "data-outbox")
        key = dict(form.fields).get("submission_key", "")
        answer = browser.post_form(form.action or record_url, form.fields, form.files)
        stored = answer.status == 302 and answer.location.split("?")[0] == urls["today"]
        run.record("submit", answer, stored, answer.location or answer.body[:200])
        if stored:
            with run.lock:
                run.submitted.append(key)
        if time.perf_counter() >= run.deadline:
            break
        page = browser.get(answer.location if stored else urls["today"])  # fetch() follows the redirect
        run.record("今日待访", page, page.status == 200)


def _town_session(browser, run: Run, urls: dict, rng: random.Random):
    pages = list(urls["town"])
    rng.shuffle(pages)
    i = 0
    while time.perf_counter() < run.deadline:
        kind, url = pages[i % len(pages)]
        answer = browser.get(url)
        run.record(kind, answer, answer.status == 200)
        i += 1


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    from django.urls import reverse

    from bench.common import collect_static, ensure_county_dataset, load_average, production_env, scratch_database
    from eldercare.choices import UserRole
    from eldercare.models import User
    from registry.models import Elder

    seeded = ensure_county_dataset()
    if seeded is not None:
        print(f"seed_demo --scale county: {seeded:.0f} s")
    levels = [int(n) for n in os.environ.get("BENCH_LOAD_SESSIONS", "5,20,50").split(",")]
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", 60))
    home_town = User.objects.get(username="town").area_id
    # Village workers, the home town's villages first, one village per session across all levels.
    workers = sorted(User.objects.filter(role=UserRole.VILLAGE, is_active=True).select_related("area"),
                     key=lambda u: (u.area.parent_id != home_town, u.username not in ("village", "village2"),
                                    u.area_id))
    elders_of = defaultdict(list)
    for pk, village in Elder.objects.filter(status="active").values_list("pk", "village_id"):
        elders_of[village].append(pk)
    from django.db import connection

    settings = connection.settings_dict
    params = {k.lower(): settings[k] or None for k in ("HOST", "PORT", "USER", "PASSWORD")}
    urls = {
        "today": reverse("visits:today"),
        "record": reverse("visits:record", args=[0]).replace("/0/", "/{pk}/"),
        "elder": reverse("registry:elder", args=[0]).replace("/0/", "/{pk}/"),
        "town": [("救助待办", reverse("relief:inbox")), ("救助个案", reverse("relief:case_list")),
                 ("巡访总览", reverse("visits:overview")), *town_dashboards()],
    }
    database, database_env = scratch_database(COPY_SUFFIX)
    env = production_env(database_env)
    collect_static(env)
    port = _free_port()
    command = production_server_command(port)
    print(f"server: {' '.join(shlex.quote(a) for a in command[1:])!s} "
          f"(README.md \"Deployment\": {WEB_UNIT.name}), port {port}")
    print(f"town pages: {', '.join(kind for kind, _ in urls['town'])}")
    log = open(ROOT / "var" / "bench" / "gunicorn.log", "w")
    server = subprocess.Popen(["gunicorn", *command[1:]], executable=command[0], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failed = False
    try:
        _wait_until_up(port, server)
        cpu = ServerCPU(server.pid, params, database)
        offset = 0
        _level(port, workers[:5], urls, elders_of, WARMUP_SECONDS, cpu, label="warm-up")
        offset = 5
        results = []
        for n in levels:
            chosen = [workers[(offset + i) % len(workers)] for i in range(n)]
            offset += n
            results.append(_level(port, chosen, urls, elders_of, seconds, cpu))
            failed |= bool(results[-1]["errors"]) or not results[-1]["stored_once"]
        print()
        print(f"{'village sessions':>16} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6} "
              f"{'submits':>8} {'app cpu/req':>11} {'db cpu/req':>10} {'loadgen cpu/req':>15}  load")
        for r in results:
            print(f"{r['sessions']:>16} {r['rps']:7.1f} {r['p50']:6.0f}ms {r['p95']:6.0f}ms {r['p99']:6.0f}ms "
                  f"{r['errors']:>6} {r['submits']:>8} {r['app_ms']:9.1f}ms {r['db_ms']:8.1f}ms "
                  f"{r['gen_ms']:13.1f}ms  {r['load']}")
        at20 = next((r for r in results if r["sessions"] == 20), None)
        if at20:
            met = at20["rps"] >= 40 and at20["p95"] <= 500 and not at20["errors"]
            print(f"target at 20 village sessions (≥ 40 requests/s, p95 ≤ 500 ms, zero errors): "
                  f"{'met' if met else 'NOT MET'}")
        print(f"({load_average()}; gunicorn's log: var/bench/gunicorn.log)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    if failed:
        raise SystemExit("load benchmark: errors, or a submit not stored exactly once (see above)")


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    from bench.browser import Browser

    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}); see var/bench/gunicorn.log")
        try:
            if Browser(port, timeout=5).get("/health/").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer /health/ within a minute")


def _level(port, workers, urls, elders_of, seconds, cpu, label=""):
    """Log the sessions in, run them for `seconds`, report; returns the level's figures."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings

    from bench.browser import Browser
    from bench.common import load_average

    password = settings.DEMO_PASSWORD
    sessions = [(Browser(port), "village", w) for w in workers]
    sessions += [(Browser(port), "town", None) for _ in range(TOWN_SESSIONS)]

    def login(session):
        browser, kind, worker = session
        browser.login(worker.username if worker else "town", password)

    with ThreadPoolExecutor(4) as pool:  # PBKDF2 logins, before the clock starts
        list(pool.map(login, sessions))
    run = Run()
    spy = _start_profile(cpu.master, seconds, len(workers)) if os.environ.get("BENCH_LOAD_PROFILE") else None
    before, gen_before, load = cpu.snapshot(), time.process_time(), os.getloadavg()
    since = datetime.now(UTC)
    started = time.perf_counter()
    run.deadline = started + seconds
    threads = []
    for i, (browser, kind, worker) in enumerate(sessions):
        session_urls = {**urls, "elders": elders_of.get(worker.area_id, [0]) if worker else []}
        target = _village_session if kind == "village" else _town_session
        thread = threading.Thread(target=_guarded, args=(target, browser, run, session_urls, random.Random(i)))
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    after, gen_cpu = cpu.snapshot(), time.process_time() - gen_before
    for browser, _, _ in sessions:
        browser.close()
    done = [r for r in run.requests if r[1] + r[2] <= run.deadline]
    latencies = [r[2] * 1000 for r in run.requests]
    n = max(len(run.requests), 1)
    result = {
        "sessions": len(workers), "rps": len(done) / seconds, "p50": _percentile(latencies, 50),
        "p95": _percentile(latencies, 95), "p99": _percentile(latencies, 99), "errors": len(run.errors),
        "submits": len(run.submitted), "app_ms": ServerCPU.spent(before, after, "app") / n * 1000,
        "db_ms": ServerCPU.spent(before, after, "db") / n * 1000, "gen_ms": gen_cpu / n * 1000,
        "load": "{:.1f} {:.1f} {:.1f}".format(*load),
    }
    stored, total = _stored(cpu, run.submitted, [w.pk for w in workers], since)
    result["stored_once"] = stored == total == len(run.submitted)
    print(f"\n{label or f'{len(workers)} village + {TOWN_SESSIONS} town sessions'}, {elapsed:.0f} s: "
          f"{result['rps']:.1f} requests/s, p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, "
          f"p99 {result['p99']:.0f} ms, max {max(latencies, default=0):.0f} ms; {len(run.errors)} errors; "
          f"{len(run.submitted)} visits answered as stored, {stored} of them in the database exactly once, {total} stored in all"
          f"{f'; {run.fallbacks} rounds with an empty worklist' if run.fallbacks else ''}; "
          f"server CPU per request: app {result['app_ms']:.1f} ms + PostgreSQL {result['db_ms']:.1f} ms; "
          f"load generator {result['gen_ms']:.1f} ms; load before {result['load']}, after {load_average()}")
    by_kind = defaultdict(list)
    for kind, _, secs, _ in run.requests:
        by_kind[kind].append(secs * 1000)
    for kind, values in by_kind.items():
        print(f"    {kind:22} {len(values):6d} requests  p50 {statistics.median(values):6.0f} ms  "
              f"p95 {_percentile(values, 95):6.0f} ms")
    for error in run.errors[:10]:
        print(f"    error: {error}")
    if spy:
        spy.wait()
        _print_profile(ROOT / "var" / "bench" / f"profile-{len(workers)}.txt")
    return result


# Where a sample's time goes: the innermost frame of its stack that belongs to one of these
# layers (marks are parts of py-spy's file names) or to the project's own code decides; frames of
# the standard library are looked through; the generic ones count only when nothing else does.
LAYERS = [
    ("compression (brotli/gzip)", ("eldercare/compression.py", "brotli", "gzip.py")),
    ("PostgreSQL driver (psycopg: send, wait, read rows)", ("psycopg/", "psycopg_c", "psycopg_binary")),
    ("template rendering", ("django/template/", "django/templatetags/", "/templatetags/", "django/utils/html.py",
                            "django/utils/formats.py", "django/utils/safestring.py")),
    ("forms and widgets", ("django/forms/", "eldercare/forms", "eldercare/widgets")),
    ("ORM: building queries, making objects", ("django/db/models/", "django/db/backends/")),
    ("sessions, authentication, CSRF", ("django/contrib/sessions/", "django/contrib/auth/", "csrf.py",
                                        "django/core/signing.py")),
    ("URL resolving and reverse", ("django/urls/",)),
    ("translation", ("django/utils/translation/",)),
    ("history context (pghistory)", ("pghistory/",)),
]
PROJECT = ("eldercare/", "registry/", "visits/", "relief/", "services/", "oversight/")
GENERIC = [("other Django (request, response, middleware)", ("django/",)),
           ("gunicorn and the WSGI server", ("gunicorn/",))]


def _layer(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, marks in LAYERS:
            if any(mark in frame for mark in marks):
                return name
        if any(f"({mark}" in frame or f"/{mark}" in frame for mark in PROJECT):
            return "the project's own code (views, services, querysets)"
    for frame in reversed(frames):
        for name, marks in GENERIC:
            if any(mark in frame for mark in marks):
                return name
    return "other (standard library, interpreter)"


def _start_profile(master: int, seconds: float, sessions: int):
    """py-spy over the gunicorn master and its workers for the level's duration."""
    out = ROOT / "var" / "bench" / f"profile-{sessions}.txt"
    spy = ROOT / ".venv" / "bin" / "py-spy"
    return subprocess.Popen([str(spy) if spy.exists() else "py-spy", "record", "--pid", str(master),
                             "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "200",
                             "--duration", str(int(seconds)), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _print_profile(path: Path) -> None:
    """The layers' and the top functions' shares of the workers' samples (py-spy raw format:
    'frame;frame;… count', outermost first)."""
    if not path.exists():
        print("    (no profile: py-spy could not attach — it needs ptrace rights)")
        return
    layers, own, total = defaultdict(int), defaultdict(int), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "gunicorn" not in stack:
            continue
        frames, n = stack.split(";"), int(count)
        if "select (selectors.py" in frames[-1] or "sleep (" in frames[-1]:
            continue  # an idle worker waiting for a request
        total += n
        own[frames[-1]] += n
        layers[_layer(frames)] += n
    if not total:
        print("    (no busy samples)")
        return
    print(f"    where the workers' CPU went ({total} busy samples; {path.name}):")
    for name, n in sorted(layers.items(), key=lambda item: -item[1]):
        print(f"      {n / total:6.1%}  {name}")
    print("    functions with the most samples of their own:")
    for frame, n in sorted(own.items(), key=lambda item: -item[1])[:15]:
        print(f"      {n / total:6.1%}  {frame[:110]}")


def _guarded(target, browser, run, urls, rng):
    try:
        target(browser, run, urls, rng)
    except Exception as error:  # a dropped connection or a timeout is an error of the run, not a crash
        with run.lock:
            run.errors.append(f"{type(error).__name__}: {error}"[:300])


def _stored(server: ServerCPU, keys: list[str], visitors: list[int], since: datetime) -> tuple[int, int]:
    """(how many of `keys` are in the database, how many visits `visitors` stored since `since`).

    Visit.submission_key is unique, so a key found is stored exactly once; the second figure
    equals the first when no request that failed or timed out stored a visit unseen."""
    import psycopg

    with psycopg.connect(dbname=server.database, **server.params) as conn:
        found = conn.execute("SELECT count(*) FROM visits_visit WHERE submission_key = ANY(%s::uuid[])",
                             [keys]).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM visits_visit WHERE visitor_id = ANY(%s) AND created_at >= %s",
                             [visitors, since]).fetchone()[0]
    return found, total
