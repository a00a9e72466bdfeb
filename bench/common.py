"""Shared benchmark helpers: the county-scale dataset, timing, query counting, memory."""

import os
import resource
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parent.parent


def ensure_county_dataset(min_elders: int = 30_000) -> float | None:
    """Migrate, and seed `--scale county` unless it is there; return the seeding time (or None)."""
    from registry.models import Elder

    call_command("migrate", verbosity=0)
    if Elder.objects.count() >= min_elders:
        return None
    started = time.perf_counter()
    call_command("seed_demo", scale="county", flush=True)
    return time.perf_counter() - started


@contextmanager
def timed(label: str, results: dict):
    started = time.perf_counter()
    yield
    results[label] = time.perf_counter() - started


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` runs (the first one warms caches)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    """The machine's 1/5/15-minute load average, printed beside every timing (2 shared cores)."""
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def scratch_database(suffix: str) -> tuple[str, dict]:
    """A fresh copy of the benchmark database (the seeded county dataset), named after it with
    `suffix` (so benchmarks of two databases on one server never collide), for a benchmark that
    writes; returns its name and the environment that points a child process at it.

    The copy is made from the seeded database as a template (FILE_COPY: no gigabyte of WAL and
    the checkpoints it would set off during the run), after a VACUUM ANALYZE of the source, so
    every run starts from the same rows and the same statistics whatever earlier runs wrote.
    """
    import psycopg

    source = connection.settings_dict["NAME"]
    name = f"{source}_{suffix}"
    params = _server_params()
    with psycopg.connect(dbname=source, autocommit=True, **params) as conn:
        conn.execute("VACUUM (ANALYZE)")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        admin.execute("CHECKPOINT")
    if "DATABASE_URL" in os.environ:
        url = urlsplit(os.environ["DATABASE_URL"])
        return name, {"DATABASE_URL": urlunsplit(url._replace(path=f"/{name}"))}
    return name, {"EMBEDDED_DB_NAME": name}


def _server_params() -> dict:
    """How to reach the database server (the live connection knows the host, Unix socket
    included); the connection is closed, so the database can be copied or dropped."""
    connection.ensure_connection()
    info = connection.connection.info
    params = {"host": info.host, "port": info.port, "user": info.user,
              "password": connection.settings_dict["PASSWORD"] or None}
    connection.close()
    return params


def drop_database(name: str) -> None:
    """Drop a benchmark's copy of the database (a gigabyte) once measured."""
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_server_params()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def measure_in_production(module: str, copy_suffix: str | None = None, env: dict | None = None) -> None:
    """Run `python -m bench.<module> measure` in a child process with the README's production
    settings (production_env; static files collected as the deployment collects them): on a fresh
    copy of the county dataset named after `copy_suffix`, dropped once measured, or without one on
    the configured database in place (the province dataset: a copy would be many gigabytes)."""
    database, name = dict(env or {}), None
    if copy_suffix:
        seeded = ensure_county_dataset()
        if seeded is not None:
            print(f"seed_demo --scale county: {seeded:.0f} s")
        name, copy_env = scratch_database(copy_suffix)
        database.update(copy_env)
    child_env = production_env(database)
    collect_static(child_env)
    try:
        subprocess.run([sys.executable, "-m", f"bench.{module}", "measure"], env=child_env, cwd=ROOT, check=True)
    finally:
        if name:
            drop_database(name)


def backend_pid() -> int:
    """The PostgreSQL backend serving this process (its connection stays open: CONN_MAX_AGE)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class StatementTimes(list):
    """`with connection.execute_wrapper(times):` appends each statement's seconds to `times`."""

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.append(time.perf_counter() - started)


def production_env(database_env: dict) -> dict:
    """The environment of a production process as README "Deployment" sets it (DEBUG off, a
    SECRET_KEY, ALLOWED_HOSTS) for the database `database_env` names. Static files are collected
    into var/bench/static, not the development STATIC_ROOT."""
    env = {**os.environ, **database_env}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
               STATIC_ROOT=str(ROOT / "var" / "bench" / "static"))
    return env


def collect_static(env: dict) -> None:
    """`manage.py collectstatic --no-input` as the README's deployment runs it (the manifest the
    production static storage needs)."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=ROOT, check=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far, from /proc (0.0 once it is gone): the
    server's workers and PostgreSQL backends, whose CPU the benchmark process cannot see itself."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def town_dashboards() -> list[tuple[str, str]]:
    """(label, URL) of the town's dashboards: the oversight app's menu entries for town staff."""
    from django.apps import apps
    from django.urls import reverse

    return [(str(label), reverse(url_name)) for label, url_name, roles, *_ in apps.get_app_config("oversight").nav_items
            if "town" in roles]


def print_profile(call, *, warmup: int, runs: int, top: int) -> None:
    """cProfile of `runs` calls after `warmup` unmeasured ones: the `top` entries by cumulative
    time, then 40 by own time (BENCH_PAGES_PROFILE, BENCH_OVERSIGHT_PROFILE)."""
    import cProfile
    import pstats

    for _ in range(warmup):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    stats.print_stats(top)
    stats.sort_stats("tottime").print_stats(40)
