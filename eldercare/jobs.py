"""Long jobs that can tell the living from the dead: a heartbeat stamped on the job's row.

A job (a census preview or import, in the `db_worker` process, a web request or the
`import_census` command) stamps `heartbeat_at = now()` on its own row every
JOB_HEARTBEAT_SECONDS while it runs. Whoever looks at the job later — a page, in another
container — compares that stamp with the database clock: no stamp for the app's stale limit
means the process is gone (killed, out of memory, its database connection lost), whatever
host or container it ran in. A process id says nothing across containers; a stamp does.

The stamp is written by a thread over a connection of its own, in autocommit, so it keeps
coming while the job's main transaction is still open (a census import writes everything in
one transaction) and stops only when the process does.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections

log = logging.getLogger(__name__)

__all__ = ["Heartbeat", "database_connection_lost", "freeze_startup_heap", "rerun_after_lost_connection",
           "wait_for_database"]

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0


class Heartbeat:
    """`with Heartbeat("registry_censusimport", job.pk): …` — stamps the row's `heartbeat_at`
    every `interval` seconds (JOB_HEARTBEAT_SECONDS) until the block ends.

    The connection is opened at the first stamp, so short jobs never open one. A failed stamp
    (the database restarting) is logged and tried again at the next beat; the stamp never waits
    for a lock (the job's own transaction may hold the row) — it skips that beat instead.
    """

    def __init__(self, table: str, pk: int, *, interval: float | None = None):
        self.sql = f'UPDATE "{table}" SET heartbeat_at = now() WHERE id = %s'
        self.pk = pk
        self.interval = settings.JOB_HEARTBEAT_SECONDS if interval is None else interval
        self.params = connection.get_connection_params()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{table}-{pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        # Not joined: a stamp stuck behind a lock must not hold the job up; it gives up within
        # its lock timeout and the thread ends.
        self._stop.set()

    def _run(self) -> None:
        conn, missing = None, False
        while not self._stop.wait(self.interval):
            try:
                if conn is None:
                    conn = connection.get_new_connection(self.params)
                    conn.autocommit = True
                    conn.execute("SET lock_timeout = '1s'")
                conn.execute(self.sql, [self.pk])
            except Exception as error:  # noqa: BLE001 - a missed beat is logged, the next one tries again
                if not missing:  # once per outage, not at every beat
                    log.warning("heartbeat of row %s missed: %s", self.pk, str(error).strip())
                missing = True
                if conn is not None:
                    conn.close()
                conn = None
            else:
                missing = False
        if conn is not None:
            conn.close()


# PostgreSQL error classes that mean "the connection is gone", not "this statement failed":
# 08 connection exception, 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now.
_LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def database_connection_lost(error: BaseException) -> bool:
    """Whether `error` means the database connection was lost (a restart, a dropped network),
    as opposed to a statement failing on a live connection (a deadlock, a constraint).

    A job that loses its connection is run again once the database is back (`db_worker`); a
    job whose statement failed is marked failed with its message.
    """
    import psycopg

    if isinstance(error, InterfaceError | psycopg.InterfaceError):
        return True
    if not isinstance(error, OperationalError | psycopg.OperationalError):
        return False
    cause = error.__cause__ or error  # Django's errors wrap psycopg's, which carry the SQLSTATE
    sqlstate = getattr(cause, "sqlstate", None)
    # No SQLSTATE at all: libpq itself failed ("server closed the connection unexpectedly").
    return sqlstate is None or sqlstate.startswith(_LOST_SQLSTATES)


def wait_for_database(max_wait: float | None = None) -> None:
    """Drop this thread's broken connections and wait until the database answers again, trying
    after 1, 2, 4 … 30 seconds (with jitter, so a fleet of workers does not knock in step).
    Raises the last connection error after `max_wait` seconds (None: wait as long as it takes)."""
    deadline = None if max_wait is None else time.monotonic() + max_wait
    delay = BACKOFF_FIRST
    while True:
        for conn in connections.all(initialized_only=True):
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
                conn.connection = None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except (OperationalError, InterfaceError) as error:
            if deadline is not None and time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable (%s); trying again in %.0f s", str(error).strip(), delay)
        time.sleep(delay * (0.75 + random.random() / 2))  # noqa: S311 - jitter, not security
        delay = min(delay * 2, BACKOFF_MAX)


def rerun_after_lost_connection(function, *args, **kwargs):
    """Run a background job; if its database connection is lost (a restart), wait for the
    database (up to JOB_DATABASE_WAIT_SECONDS) and run it again from the start.

    Only for jobs written to be run again: their work is one transaction that the lost
    connection rolled back, and they take up their own job row where they left it.
    """
    deadline = time.monotonic() + settings.JOB_DATABASE_WAIT_SECONDS
    while True:
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if not database_connection_lost(error) or time.monotonic() > deadline:
                raise
            log.warning("job lost its database connection (%s); running it again when the database is back",
                        str(error).strip())
        wait_for_database(max(deadline - time.monotonic(), 0))


def freeze_startup_heap() -> None:
    """Keep the garbage collector off the objects the process started with (Django, the apps,
    their modules and settings: some 100,000 containers), for a batch process: the `db_worker`
    and the `import_census` command call it once, before their first job, never a web process.

    A county census holds each batch of rows for a while; the collector's full passes, which a
    long import sets off again and again, would otherwise walk the whole startup heap each time:
    12 % of an unchanged 100,000-row re-import's CPU (docs/performance.md). Frozen objects are
    never collected, which is right for what lives as long as the process; everything made later,
    each job's rows included, is collected as usual."""
    gc.collect()
    gc.freeze()
