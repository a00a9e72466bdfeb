"""The import through the real database queue and a real `db_worker` process, and what a killed
worker or a killed `import_census` command leaves behind: the register exactly as it was, and —
once its heartbeat has stopped — the import marked failed with a message in Chinese."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from pghistory.models import Events

from registry.census import services
from registry.census.models import CensusImport
from registry.models import Elder, ElderGuardian, Guardian
from tests.census.helpers import person, write_workbook
from tests.factories import make_elder, make_guardian

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return settings


def environment(**env):
    """The environment of a child process working on the test database."""
    environment = {
        **os.environ, "DEBUG": "1", "TASKS_BACKEND": "db", "EMBEDDED_DB_NAME": connection.settings_dict["NAME"],
        "PRIVATE_MEDIA_ROOT": django_settings.STORAGES["default"]["OPTIONS"]["location"],
        "JOB_HEARTBEAT_SECONDS": "0.2",
    }
    environment.pop("DATABASE_URL", None)
    if "DATABASE_URL" in os.environ:  # CI with a server: point the worker at the test database
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        environment["DATABASE_URL"] = f"{base}/{connection.settings_dict['NAME']}"
    return {**environment, **env}


def start_worker(tmp_path, **env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
        env=environment(**env), stdout=open(tmp_path / "worker.log", "w"), stderr=subprocess.STDOUT)


def wait_for(check, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def confirmed_import(world, tmp_path, rows):
    path = write_workbook(tmp_path / "survey.xlsx", rows)
    job = services.store_upload(SimpleUploadedFile("survey.xlsx", path.read_bytes()), acting_user=world.users["town"])
    services.run_preview(job.pk)
    job.refresh_from_db()
    services.confirm_import(job, acting_user=world.users["town"])  # enqueued on commit (autocommit here)
    return job


def snapshot():
    return (sorted(Elder.objects.values_list("id_number", "name", "living", "phones", "source_import_id")),
            sorted(Guardian.objects.values_list("name", "phone")), ElderGuardian.objects.count(),
            Events.objects.count())


def test_a_real_worker_runs_the_import_from_the_database_queue(world, tmp_path, queue):
    rows = [person("李家湾村", f"老人{i}", guardian="张建华", guardian_phone="13900002222") for i in range(6)]
    job = confirmed_import(world, tmp_path, rows)
    assert CensusImport.objects.get(pk=job.pk).status == "queued"
    worker = start_worker(tmp_path, CENSUS_BATCH_ROWS="2", CENSUS_PARALLEL_BYTES="0")
    try:
        assert wait_for(lambda: CensusImport.objects.get(pk=job.pk).status == "done"), (tmp_path / "worker.log").read_text()
    finally:
        worker.terminate()
        worker.wait(10)
    job.refresh_from_db()
    assert job.new_count == 6 and job.rows_processed == 6
    elder = Elder.objects.get(name="老人0")
    assert elder.source_import_id == job.pk
    event = Events.objects.tracks(elder).get()
    assert event.pgh_context["job"] == job.pk and event.pgh_context["username"] == "town"


def test_killing_the_worker_mid_import_leaves_the_register_unchanged(world, tmp_path, queue, settings):
    settings.CENSUS_STALE_SECONDS = 2
    existing = make_elder(world.village, name="已登记", living="alone", phones=["13800001111"])
    make_guardian(existing, name="张建华", phone="13900002222")
    rows = [person("李家湾村", "已登记", existing.id_number, living="与配偶同住", guardian="张建华",
                   guardian_phone="13911112222")]
    rows += [person("李家湾村", f"新人{i}", guardian=f"赡养人{i}") for i in range(9)]
    before = snapshot()
    job = confirmed_import(world, tmp_path, rows)
    worker = start_worker(tmp_path, CENSUS_BATCH_ROWS="3", CENSUS_TEST_PAUSE_AFTER_BATCHES="2",
                          CENSUS_PARALLEL_BYTES="0")
    try:
        # The worker has written two batches (inside its open transaction) and reported progress.
        assert wait_for(lambda: CensusImport.objects.get(pk=job.pk).rows_processed >= 6), (
            (tmp_path / "worker.log").read_text())
        # Paused for longer than the stale limit, but alive: its heartbeat keeps it running.
        time.sleep(3)
        assert services.refresh_stale() == 0
        assert CensusImport.objects.get(pk=job.pk).status == "running"
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(10)
    assert snapshot() == before
    assert wait_for(lambda: services.refresh_stale() == 1, timeout=10)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == services.INTERRUPTED
    assert "没有任何改动" in job.error and "请重新上传文件导入" in job.error


def test_a_killed_command_line_import_is_marked_failed(world, tmp_path, settings):
    settings.CENSUS_STALE_SECONDS = 2
    before = snapshot()
    path = write_workbook(tmp_path / "survey.xlsx", [person("李家湾村", f"新人{i}") for i in range(9)])
    command = subprocess.Popen(
        [sys.executable, "manage.py", "import_census", str(path), "--user", "town"],
        env=environment(CENSUS_BATCH_ROWS="3", CENSUS_TEST_PAUSE_AFTER_BATCHES="2", CENSUS_PARALLEL_BYTES="0"),
        stdout=open(tmp_path / "command.log", "w"), stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: CensusImport.objects.filter(status="running").exists()), (
            (tmp_path / "command.log").read_text())
        job = CensusImport.objects.get()
        # The command beats while it works (here: paused after two batches, its transaction open).
        first = job.heartbeat_at
        assert wait_for(lambda: CensusImport.objects.get(pk=job.pk).heartbeat_at > first, timeout=10)
        time.sleep(3)
        assert services.refresh_stale() == 0
        os.kill(command.pid, signal.SIGKILL)
    finally:
        command.kill()
        command.wait(10)
    assert wait_for(lambda: services.refresh_stale() == 1, timeout=10)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == services.INTERRUPTED
    assert snapshot() == before
