"""The work of the census import's background jobs (registry.census.tasks runs them; services
runs a small file's preview inside the upload request): check a stored upload, write a
confirmed one, and `execute`, the one transaction both the jobs and the CLI write through.

Progress is written per batch through a separate autocommit connection, so the page can show it
while the big transaction is still open; a cancel request is noticed at the next batch and rolls
everything back. Imports nothing from services or tasks (they import this).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import pghistory
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from eldercare.jobs import Heartbeat, database_connection_lost

from .choices import CensusImportStatus as S
from .engine import open_census
from .models import TRANSITIONS, CensusImport
from .preview import paths as preview_paths
from .reader import CensusFileError
from .writer import CensusWriter, ImportOutcome

log = logging.getLogger(__name__)

__all__ = ["FAILED", "ImportCancelled", "execute", "fail", "limits", "remove", "run_import", "run_preview",
           "stored_file"]

FAILED = "导入时发生系统错误，登记库没有任何改动。请稍后重试；如仍失败请联系管理员"


class ImportCancelled(Exception):
    """Raised inside the run's transaction to roll it back (cancelled, or --strict)."""


def stored_file(name: str) -> str:
    """Filesystem path of a file in the private storage."""
    return default_storage.path(name)


def limits() -> dict:
    """The upload limits of settings, as open_census takes them."""
    return {"max_bytes": settings.CENSUS_MAX_UPLOAD_BYTES, "max_zip_entries": settings.CENSUS_MAX_ZIP_ENTRIES,
            "max_inflated_bytes": settings.CENSUS_MAX_INFLATED_BYTES}


def remove(name: str) -> None:
    """Delete a stored file, if it is there."""
    if name and default_storage.exists(name):
        default_storage.delete(name)


class _SideChannel:
    """A separate autocommit connection for progress and cancel checks during the big transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.conn = connection.get_new_connection(connection.get_connection_params())
        self.conn.autocommit = True

    def progress(self, processed: int, outcome: ImportOutcome) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(
                "UPDATE registry_censusimport SET rows_processed = %s, heartbeat_at = now() WHERE id = %s "
                "RETURNING status", [processed, self.job_id])
            found = cursor.fetchone()
        if found and found[0] == S.CANCELLED:
            raise ImportCancelled

    def close(self) -> None:
        self.conn.close()


def _writer(path: str, user, **options) -> CensusWriter:
    """The writer for a stored file: threads for big files (CENSUS_PARALLEL_BYTES)."""
    return CensusWriter(user, preview_limit=settings.CENSUS_PREVIEW_ROWS, batch_rows=settings.CENSUS_BATCH_ROWS,
                        parallel=os.path.getsize(path) >= settings.CENSUS_PARALLEL_BYTES, **options)


def _open(job: CensusImport, max_inflated: int | None = None):
    bounds = limits()
    if max_inflated is not None:
        bounds["max_inflated_bytes"] = max_inflated
    return open_census(stored_file(job.stored_path), filename=job.file_name, sheet=job.sheet or None,
                       today=timezone.localdate(), **bounds)


def _claim(job_id: int, expected: tuple, status: str, task_id=None) -> CensusImport | None:
    """Move an import to `status` if it is in one of `expected` (row-locked); None otherwise.

    The task that already moved it there may claim it again: `db_worker` re-runs a task whose
    database connection was lost mid-way (its transaction rolled back, nothing was written).
    """
    with transaction.atomic():
        job = CensusImport.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        rerun = task_id is not None and job.status == status and job.task_id == str(task_id)
        if job.status not in expected and not rerun:
            return None
        if not rerun:
            job.move_to(status)
        job.worker_pid, job.worker_host = os.getpid(), socket.gethostname()[:100]
        job.heartbeat_at = Now()  # the database's clock, the one services.refresh_stale compares with
        job.rows_processed = 0
        if status == S.RUNNING:
            job.started_at = timezone.now()
        job.save()
        return job


def fail(job_id: int, message: str, expected: tuple | None = None) -> bool:
    """Mark the import failed with `message` for staff (if it is still in one of `expected`)."""
    with transaction.atomic():
        job = CensusImport.objects.select_for_update().get(pk=job_id)
        if S.FAILED not in TRANSITIONS[job.status] or (expected is not None and job.status not in expected):
            return False
        job.move_to(S.FAILED)
        job.error = message
        job.finished_at = timezone.now()
        job.save()
        return True


def run_preview(job_id: int, task_id=None, *, max_inflated: int | None = None) -> None:
    """Check every row against the engine and the register (nothing written): store the counts,
    the rejected-rows workbook (downloadable before any confirmation) and the lists of new and
    updated rows (preview.py). `max_inflated` bounds what a preview inside a request may read
    (services.start_preview)."""
    job = _claim(job_id, (S.UPLOADED, S.PREVIEWED), S.PREVIEWING, task_id)
    if job is None:
        return
    side = _SideChannel(job.pk)
    rejected_name, details_base = _new_file_names("preview")
    try:
        with _open(job, max_inflated) as census, Heartbeat(CensusImport._meta.db_table, job.pk):
            writer = _writer(stored_file(job.stored_path), job.uploaded_by, dry_run=True, job_id=job.pk,
                             progress=side.progress, rejected_path=stored_file(rejected_name),
                             details_base=details_base)
            outcome = writer.run(census)
    except CensusFileError as error:
        remove(rejected_name)
        fail(job.pk, error.message)
        return
    except ImportCancelled:
        remove(rejected_name)
        return
    except Exception as error:
        remove(rejected_name)
        if database_connection_lost(error):
            raise  # db_worker runs the task again once the database is back
        log.exception("census preview %s failed", job.pk)
        fail(job.pk, FAILED)
        return
    finally:
        side.close()
    with transaction.atomic():
        job = CensusImport.objects.select_for_update().get(pk=job.pk)
        stale = [job.rejected_path, *preview_paths(job.preview.get("details"))]  # of an earlier preview
        if job.status != S.PREVIEWING:
            stale = [rejected_name, *preview_paths(outcome.details)]
        else:
            job.move_to(S.PREVIEWED)
            _store_counts(job, outcome)
            job.preview = outcome.as_preview()
            job.rows_total = outcome.rows
            job.rejected_path = rejected_name if outcome.rejected else ""
            job.save()
            if not outcome.rejected:
                stale.append(rejected_name)
    for name in stale:
        remove(name)


def _new_file_names(kind: str) -> tuple[str, str]:
    """Storage names for a run's rejected-rows workbook and (a preview's) lists, their folder made."""
    stem = f"census/{kind}/{timezone.now():%Y%m}/{uuid.uuid4().hex}"
    os.makedirs(os.path.dirname(stored_file(stem)), exist_ok=True)
    return f"{stem}-rejected.xlsx", stem


def _store_counts(job: CensusImport, outcome: ImportOutcome) -> None:
    job.new_count, job.updated_count, job.unchanged_count = outcome.new, outcome.updated, outcome.unchanged
    job.rejected_count, job.warning_count = outcome.rejected, outcome.warnings
    job.rows_processed = outcome.rows


def execute(path: str, *, filename: str, user, job_id: int | None = None, dry_run: bool = False,
            strict: bool = False, rejected_path: str | None = None, sheet: str | None = None,
            progress=None, before_commit=None) -> ImportOutcome:
    """Parse, resolve and (unless dry_run) write a census file for `user` in ONE transaction.

    Raises CensusFileError for an unreadable file. With `strict`, any rejected row rolls the
    whole write back. `before_commit(outcome)` runs inside the transaction (the job's status).
    """
    def opened():
        return open_census(path, filename=filename, sheet=sheet, today=timezone.localdate(), **limits())

    options = {"job_id": job_id, "progress": progress}
    if strict and not dry_run:
        # Check first without writing; write only a file with no rejected row.
        with opened() as census:
            outcome = _writer(path, user, dry_run=True, rejected_path=rejected_path, **options).run(census)
        if outcome.rejected:
            return outcome
        rejected_path = None
    with opened() as census:
        writer = _writer(path, user, dry_run=dry_run, rejected_path=rejected_path, **options)
        if dry_run:
            return writer.run(census)
        with transaction.atomic(), pghistory.context(job=job_id, user=user.pk, username=user.username,
                                                     source="census_import"):
            outcome = writer.run(census)
            if before_commit is not None:
                before_commit(outcome)
        return outcome


def run_import(job_id: int, task_id=None) -> None:
    """The background job: write a confirmed import (see execute); counts and the rejected-rows
    workbook are stored with it. Any failure leaves the register untouched."""
    job = _claim(job_id, (S.QUEUED,), S.RUNNING, task_id)
    if job is None:
        return
    rejected_name, _ = _new_file_names("rejected")
    rejected_path = stored_file(rejected_name)
    replaced = []
    side = _SideChannel(job.pk)

    def finish(outcome: ImportOutcome) -> None:
        locked = CensusImport.objects.select_for_update().get(pk=job_id)
        if locked.status != S.RUNNING:
            raise ImportCancelled
        locked.move_to(S.DONE)
        _store_counts(locked, outcome)
        locked.rows_total = max(locked.rows_total, outcome.rows)
        replaced.append(locked.rejected_path)  # the preview's: this run's outcome replaces it
        locked.rejected_path = rejected_name if outcome.rejected else ""
        locked.finished_at = timezone.now()
        locked.save()

    try:
        with Heartbeat(CensusImport._meta.db_table, job.pk):
            outcome = execute(stored_file(job.stored_path), filename=job.file_name, user=job.uploaded_by,
                              job_id=job.pk, sheet=job.sheet or None, rejected_path=rejected_path,
                              progress=side.progress, before_commit=finish)
    except ImportCancelled:
        remove(rejected_name)
        return
    except CensusFileError as error:
        remove(rejected_name)
        fail(job_id, error.message)
        return
    except Exception as error:
        remove(rejected_name)
        if database_connection_lost(error):
            raise  # db_worker runs the task again once the database is back; nothing was committed
        log.exception("census import %s failed", job_id)
        fail(job_id, FAILED)
        return
    finally:
        side.close()
    if not outcome.rejected:
        remove(rejected_name)
    for name in replaced:
        remove(name)


