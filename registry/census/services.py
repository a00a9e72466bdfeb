"""Census import services: upload, preview, confirm, run, cancel, stale detection, retention.

The workflow (CensusImport.TRANSITIONS): uploaded → previewing → previewed → queued → running →
done / failed / cancelled. Preview and run are background jobs (registry.census.tasks) on the
database queue; small files are previewed inside the upload request so errors show at once.

The run writes every accepted row in ONE transaction with the import job attached to each
history row (`pghistory.context(job=…)`). Progress is written per batch through a separate
autocommit connection, so the page can show it while the big transaction is still open; a
cancel request is noticed at the next batch and rolls everything back.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from eldercare.choices import UserRole
from eldercare.jobs import Heartbeat, database_connection_lost

from .choices import CensusImportStatus as S
from .engine import open_census
from .models import CensusImport
from .reader import CensusFileError
from .writer import CensusWriter, ImportOutcome

log = logging.getLogger(__name__)

__all__ = [
    "IMPORT_ROLES", "CensusUploadError", "ImportCancelled", "cancel_import", "confirm_import", "execute",
    "purge_census_uploads", "refresh_stale", "run_import", "run_preview", "store_upload", "stored_file",
]

# Who may import: town staff (their town) and village staff (their own village). County officers
# are read-mostly (DESIGN.md §1): they see every town's import history but do not import.
IMPORT_ROLES = (UserRole.TOWN, UserRole.VILLAGE)
SYNC_PREVIEW_BYTES = 512 * 1024  # smaller uploads are previewed inside the request (< 2 s)
INTERRUPTED = "导入过程被中断（运行导入的程序已停止），登记库没有任何改动。请重新上传文件导入"
NOT_STARTED = "后台任务没能开始这次导入（任务中断或没有排上队），登记库没有任何改动。请重新上传文件导入"
FAILED = "导入时发生系统错误，登记库没有任何改动。请稍后重试；如仍失败请联系管理员"


class CensusUploadError(Exception):
    """The upload is refused before it is stored (too big, no file); str() is for staff."""


class ImportCancelled(Exception):
    """Raised inside the run's transaction to roll it back (cancelled, or --strict)."""


def stored_file(name: str) -> str:
    """Filesystem path of a file in the private storage."""
    return default_storage.path(name)


def _limits() -> dict:
    return {"max_bytes": settings.CENSUS_MAX_UPLOAD_BYTES, "max_zip_entries": settings.CENSUS_MAX_ZIP_ENTRIES,
            "max_inflated_bytes": settings.CENSUS_MAX_INFLATED_BYTES}


def can_import(user) -> bool:
    return user.is_superuser or (user.role in IMPORT_ROLES and user.area_id is not None)


@transaction.atomic
def store_upload(upload, *, acting_user, sheet: str = "") -> CensusImport:
    """Store an uploaded workbook privately and create its import record (status uploaded)."""
    if not can_import(acting_user):
        raise CensusUploadError("您的账号没有导入调查表的权限")
    if upload is None or not upload.name:
        raise CensusUploadError("请选择要上传的调查表文件")
    if upload.size > settings.CENSUS_MAX_UPLOAD_BYTES:
        limit = settings.CENSUS_MAX_UPLOAD_BYTES // (1024 * 1024)
        raise CensusUploadError(
            f"文件太大（{upload.size / 1024 / 1024:.0f} MB），最大允许 {limit} MB。请删除多余的工作表、图片后重试，"
            "或把调查表分成几个文件分别导入")
    extension = Path(upload.name).suffix.lower()[:10]
    name = default_storage.save(f"census/uploads/{timezone.now():%Y%m}/{uuid.uuid4().hex}{extension}", upload)
    return CensusImport.objects.create(
        uploaded_by=acting_user, area_code=acting_user.area_id or "", file_name=Path(upload.name).name[:200],
        stored_path=name, file_size=upload.size, sheet=sheet[:100],
    )


def start_preview(job: CensusImport, *, acting_user) -> None:
    """Preview now (small files) or queue the preview job (large ones)."""
    from .tasks import preview_census_import

    if job.file_size <= SYNC_PREVIEW_BYTES:
        run_preview(job.pk)
    else:
        transaction.on_commit(lambda: _enqueue(preview_census_import, job.pk))


def _enqueue(task, job_id: int) -> None:
    """Queue `task` for the import and note the task's id on it, so refresh_stale can tell a
    job still waiting in the queue from one whose task died or never got there."""
    result = task.enqueue(job_id)
    CensusImport.objects.filter(pk=job_id, task_id="").update(task_id=str(result.id))


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
    return CensusWriter(user, preview_limit=settings.CENSUS_PREVIEW_ROWS, batch_rows=settings.CENSUS_BATCH_ROWS,
                        parallel=os.path.getsize(path) >= settings.CENSUS_PARALLEL_BYTES, **options)


def _open(job: CensusImport):
    return open_census(stored_file(job.stored_path), filename=job.file_name, sheet=job.sheet or None,
                       today=timezone.localdate(), **_limits())


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
        job.heartbeat_at = Now()  # the database's clock, the one refresh_stale compares with
        job.rows_processed = 0
        if status == S.RUNNING:
            job.started_at = timezone.now()
        job.save()
        return job


def _fail(job_id: int, message: str, expected: tuple | None = None) -> bool:
    """Mark the import failed with `message` (if it is still in one of `expected`)."""
    with transaction.atomic():
        job = CensusImport.objects.select_for_update().get(pk=job_id)
        if S.FAILED not in _allowed(job) or (expected is not None and job.status not in expected):
            return False
        job.move_to(S.FAILED)
        job.error = message
        job.finished_at = timezone.now()
        job.save()
        return True


def _allowed(job: CensusImport) -> set:
    from .models import TRANSITIONS

    return TRANSITIONS[job.status]


def run_preview(job_id: int, task_id=None) -> None:
    """Check every row against the engine and the register, store the counts (nothing written)."""
    job = _claim(job_id, (S.UPLOADED, S.PREVIEWED), S.PREVIEWING, task_id)
    if job is None:
        return
    side = _SideChannel(job.pk)
    try:
        with _open(job) as census, Heartbeat(CensusImport._meta.db_table, job.pk):
            writer = _writer(stored_file(job.stored_path), job.uploaded_by, dry_run=True, job_id=job.pk,
                             progress=side.progress)
            outcome = writer.run(census)
    except CensusFileError as error:
        _fail(job.pk, error.message)
        return
    except ImportCancelled:
        return
    except Exception as error:
        if database_connection_lost(error):
            raise  # db_worker runs the task again once the database is back
        log.exception("census preview %s failed", job.pk)
        _fail(job.pk, FAILED)
        return
    finally:
        side.close()
    with transaction.atomic():
        job = CensusImport.objects.select_for_update().get(pk=job.pk)
        if job.status != S.PREVIEWING:
            return
        job.move_to(S.PREVIEWED)
        _store_counts(job, outcome)
        job.preview = outcome.as_preview()
        job.rows_total = outcome.rows
        job.save()


def _store_counts(job: CensusImport, outcome: ImportOutcome) -> None:
    job.new_count, job.updated_count, job.unchanged_count = outcome.new, outcome.updated, outcome.unchanged
    job.rejected_count, job.warning_count = outcome.rejected, outcome.warnings
    job.rows_processed = outcome.rows


@transaction.atomic
def confirm_import(job: CensusImport, *, acting_user) -> CensusImport:
    """Queue a previewed import for writing (the same user's scope is re-checked)."""
    from .tasks import run_census_import

    job = CensusImport.objects.for_user(acting_user).select_for_update().get(pk=job.pk)
    if not can_import(acting_user):
        raise CensusUploadError("您的账号没有导入调查表的权限")
    job.move_to(S.QUEUED)
    job.confirmed_at = timezone.now()
    job.rows_processed = 0
    job.save()
    transaction.on_commit(lambda: _enqueue(run_census_import, job.pk))
    return job


@transaction.atomic
def cancel_import(job: CensusImport, *, acting_user) -> CensusImport:
    """Cancel an import that has not finished; a running one rolls back at its next batch."""
    job = CensusImport.objects.for_user(acting_user).select_for_update().get(pk=job.pk)
    job.move_to(S.CANCELLED)
    job.finished_at = timezone.now()
    job.save()
    return job


def execute(path: str, *, filename: str, user, job_id: int | None = None, dry_run: bool = False,
            strict: bool = False, rejected_path: str | None = None, sheet: str | None = None,
            progress=None, before_commit=None) -> ImportOutcome:
    """Parse, resolve and (unless dry_run) write a census file for `user` in ONE transaction.

    Raises CensusFileError for an unreadable file. With `strict`, any rejected row rolls the
    whole write back. `before_commit(outcome)` runs inside the transaction (the job's status).
    """
    def opened():
        return open_census(path, filename=filename, sheet=sheet, today=timezone.localdate(), **_limits())

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
    rejected_name = f"census/rejected/{timezone.now():%Y%m}/{uuid.uuid4().hex}.xlsx"
    rejected_path = stored_file(rejected_name)
    os.makedirs(os.path.dirname(rejected_path), exist_ok=True)
    side = _SideChannel(job.pk)

    def finish(outcome: ImportOutcome) -> None:
        locked = CensusImport.objects.select_for_update().get(pk=job_id)
        if locked.status != S.RUNNING:
            raise ImportCancelled
        locked.move_to(S.DONE)
        _store_counts(locked, outcome)
        locked.rows_total = max(locked.rows_total, outcome.rows)
        locked.rejected_path = rejected_name if outcome.rejected else ""
        locked.finished_at = timezone.now()
        locked.save()

    try:
        with Heartbeat(CensusImport._meta.db_table, job.pk):
            outcome = execute(stored_file(job.stored_path), filename=job.file_name, user=job.uploaded_by,
                              job_id=job.pk, sheet=job.sheet or None, rejected_path=rejected_path,
                              progress=side.progress, before_commit=finish)
    except ImportCancelled:
        _remove(rejected_name)
        return
    except CensusFileError as error:
        _remove(rejected_name)
        _fail(job_id, error.message)
        return
    except Exception as error:
        _remove(rejected_name)
        if database_connection_lost(error):
            raise  # db_worker runs the task again once the database is back; nothing was committed
        log.exception("census import %s failed", job_id)
        _fail(job_id, FAILED)
        return
    finally:
        side.close()
    if not outcome.rejected:
        _remove(rejected_name)


def _remove(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def refresh_stale(queryset=None) -> int:
    """Mark failed, with a message in Chinese, every unfinished import that nothing runs any more.

    - 正在检查 / 正在导入: its heartbeat (eldercare.jobs.Heartbeat, every JOB_HEARTBEAT_SECONDS
      while it runs, wherever it runs) is older than CENSUS_STALE_SECONDS by the database's clock:
      the worker, the web process or the `import_census` command running it died. Its
      transaction died with it, so the register is untouched.
    - 已上传 / 排队中 (waiting for a task): its task ended, is gone, or has been marked running for
      longer than that without the import starting (the worker died between the two), or it
      never got a task at all.
    A task still waiting in the queue is not stuck: the page says how long it has waited.
    Called by the pages that show imports; returns how many were marked.
    """
    queryset = CensusImport.objects.all() if queryset is None else queryset
    stale = timedelta(seconds=settings.CENSUS_STALE_SECONDS)
    marked = 0
    silent = Q(heartbeat_at__lt=Now() - stale) | Q(heartbeat_at__isnull=True, created_at__lt=Now() - stale)
    for job in queryset.filter(silent, status__in=(S.RUNNING, S.PREVIEWING)).order_by().only("pk"):
        marked += _fail(job.pk, INTERRUPTED, expected=(S.RUNNING, S.PREVIEWING))
    for job in queryset.filter(status__in=(S.UPLOADED, S.QUEUED)).order_by():
        if _task_dead(job, stale):
            marked += _fail(job.pk, NOT_STARTED, expected=(S.UPLOADED, S.QUEUED))
    return marked


def _task_dead(job: CensusImport, stale: timedelta) -> bool:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    waiting_since = job.confirmed_at or job.created_at
    try:
        task = DBTaskResult.objects.filter(pk=job.task_id).first() if job.task_id else None
    except ValidationError:  # not a queue id (TASKS_BACKEND=immediate runs the task in line)
        task = None
    if task is None:  # never queued (the process died before), or the queue was pruned
        return waiting_since < now - stale
    if task.status == TaskResultStatus.RUNNING:
        return task.started_at is not None and task.started_at < now - stale
    return task.status != TaskResultStatus.READY


def purge_census_uploads(*, now=None) -> int:
    """Delete stored uploads and rejected-rows workbooks older than CENSUS_RETENTION_DAYS.

    The import records (who, when, counts) stay; only the files go. Returns how many imports
    had files removed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CENSUS_RETENTION_DAYS)
    purged = 0
    for job in CensusImport.objects.filter(created_at__lt=cutoff, files_purged_at__isnull=True).exclude(
            status__in=(S.QUEUED, S.RUNNING, S.PREVIEWING)):
        _remove(job.stored_path)
        _remove(job.rejected_path)
        job.files_purged_at = now
        job.stored_path = job.rejected_path = ""
        job.save(update_fields=["files_purged_at", "stored_path", "rejected_path"])
        purged += 1
    return purged
