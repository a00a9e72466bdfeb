"""Every state an import can be stuck in is found and marked failed in Chinese; a job still
waiting in the queue, or one whose heartbeat is fresh, is left alone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from registry.census import services
from registry.census.models import CensusImport
from registry.census.tasks import run_census_import

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(minutes=10)


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CENSUS_STALE_SECONDS = 60


def make_job(world, status, *, since=LONG_AGO, task_status=None, task_started=None, heartbeat=None):
    """An import in `status`, confirmed `since` ago, with (optionally) its queued task in
    `task_status`."""
    now = timezone.now()
    job = CensusImport.objects.create(uploaded_by=world.users["town"], area_code=world.town.code,
                                      file_name="survey.xlsx", status=status, heartbeat_at=heartbeat)
    CensusImport.objects.filter(pk=job.pk).update(created_at=now - since, confirmed_at=now - since)
    if task_status is not None:
        result = run_census_import.enqueue(job.pk)
        DBTaskResult.objects.filter(pk=result.id).update(status=task_status, started_at=task_started)
        CensusImport.objects.filter(pk=job.pk).update(task_id=str(result.id))
    return CensusImport.objects.get(pk=job.pk)


def marked(job):
    job.refresh_from_db()
    return job.status == "failed"


@pytest.mark.parametrize("task_status", [TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL])
def test_a_queued_import_whose_task_ended_without_running_it_is_marked_failed(world, queue, task_status):
    job = make_job(world, "queued", since=timedelta(seconds=5), task_status=task_status)
    assert services.refresh_stale() == 1 and marked(job)
    assert job.error == services.NOT_STARTED and "登记库没有任何改动" in job.error


def test_a_queued_import_whose_task_died_after_the_worker_took_it_is_marked_failed(world, queue):
    job = make_job(world, "queued", task_status=TaskResultStatus.RUNNING, task_started=timezone.now() - LONG_AGO)
    just_taken = make_job(world, "queued", task_status=TaskResultStatus.RUNNING, task_started=timezone.now())
    assert services.refresh_stale() == 1
    assert marked(job) and not marked(just_taken)


def test_an_import_that_never_got_a_task_is_marked_failed_after_the_stale_limit(world, queue):
    lost = make_job(world, "queued")
    upload_died = make_job(world, "uploaded")  # the request previewing it died before starting
    just_confirmed = make_job(world, "queued", since=timedelta(seconds=5))
    assert services.refresh_stale() == 2
    assert marked(lost) and marked(upload_died) and not marked(just_confirmed)


def test_an_import_waiting_in_the_queue_is_not_failed_but_the_page_says_it_waits(world, queue, login):
    job = make_job(world, "queued", task_status=TaskResultStatus.READY)
    assert services.refresh_stale() == 0 and not marked(job)
    assert job.waiting_long
    client = login(world.users["town"])
    page = client.get(reverse("census:detail", args=[job.pk])).content.decode()
    assert "排队中" in page and "db_worker" in page and 'id="census-waiting" hidden' not in page
    assert client.get(reverse("census:progress", args=[job.pk])).json()["waiting_long"] is True

    fresh = make_job(world, "queued", since=timedelta(seconds=5), task_status=TaskResultStatus.READY)
    assert not fresh.waiting_long
    assert 'id="census-waiting" hidden' in client.get(reverse("census:detail", args=[fresh.pk])).content.decode()


@pytest.mark.parametrize("status", ["running", "previewing"])
def test_a_running_import_without_a_heartbeat_is_marked_failed_and_the_page_says_why(world, queue, login, status):
    dead = make_job(world, status, heartbeat=timezone.now() - LONG_AGO)
    alive = make_job(world, status, heartbeat=timezone.now())
    client = login(world.users["town"])
    page = client.get(reverse("census:detail", args=[dead.pk])).content.decode()
    assert marked(dead) and not marked(alive)
    assert "失败" in page and services.INTERRUPTED in page


def test_the_import_list_marks_the_dead_imports_it_shows(world, queue, login):
    dead = make_job(world, "running", heartbeat=timezone.now() - LONG_AGO)
    page = login(world.users["town"]).get(reverse("census:imports")).content.decode()
    assert marked(dead) and "失败" in page
