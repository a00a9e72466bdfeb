"""Shared benchmark helpers: the county-scale dataset, timing, query counting, memory."""

import resource
import time
from contextlib import contextmanager

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext


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
