"""Census import services: upload, preview, confirm, cancel, stale detection, retention.

The workflow (CensusImport.TRANSITIONS): uploaded → previewing → previewed → queued → running →
done / failed / cancelled. Preview and run are background jobs (registry.census.tasks, whose work
is registry.census.jobs) on the database queue; small files are previewed inside the upload
request so errors show at once.

The run writes every accepted row in ONE transaction with the import job attached to each
history row (`pghistory.context(job=…)`), see jobs.execute.
"""

from __future__ import annotations

import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from eldercare.choices import UserRole

from .choices import CensusImportStatus as S
from .jobs import ImportCancelled, execute, fail, remove, run_import, run_preview, stored_file
from .models import CensusImport
from .preview import paths as preview_paths
from .tasks import preview_census_import, run_census_import

__all__ = [
    "IMPORT_ROLES", "CensusUploadError", "ImportCancelled", "cancel_import", "confirm_import", "execute",
    "purge_census_uploads", "refresh_stale", "run_import", "run_preview", "store_upload", "stored_file",
]

# Who may import: town staff (their town) and village staff (their own village). County officers
# are read-mostly (DESIGN.md §1): they see every town's import history but do not import.
IMPORT_ROLES = (UserRole.TOWN, UserRole.VILLAGE)
# Uploads with at most this much to read (a CSV's or .xls's size, an .xlsx's inflated XML) are
# previewed inside the upload request: ≈3,000 survey rows, about a second, a few MB of memory.
# The reader enforces the bound on the bytes it really inflates; bigger files go to the queue.
SYNC_PREVIEW_BYTES = 4 * 1024 * 1024
INTERRUPTED = "导入过程被中断（运行导入的程序已停止），登记库没有任何改动。请重新上传文件导入"
NOT_STARTED = "后台任务没能开始这次导入（任务中断或没有排上队），登记库没有任何改动。请重新上传文件导入"


class CensusUploadError(Exception):
    """The upload is refused before it is stored (too big, no file); str() is for staff."""


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
    """Preview now (small files, bounded: SYNC_PREVIEW_BYTES) or queue the preview job."""
    if _bytes_to_read(stored_file(job.stored_path), job.file_size) <= SYNC_PREVIEW_BYTES:
        run_preview(job.pk, max_inflated=SYNC_PREVIEW_BYTES)
    else:
        transaction.on_commit(lambda: _enqueue(preview_census_import, job.pk))


def _enqueue(task, job_id: int) -> None:
    """Queue `task` for the import and note the task's id on it, so refresh_stale can tell a
    job still waiting in the queue from one whose task died or never got there."""
    result = task.enqueue(job_id)
    CensusImport.objects.filter(pk=job_id, task_id="").update(task_id=str(result.id))


def _bytes_to_read(path: str, size: int) -> int:
    """What reading an upload means: an .xlsx's parts as its zip directory declares them (the
    reader refuses to inflate more), any other file its size."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return size


@transaction.atomic
def confirm_import(job: CensusImport, *, acting_user) -> CensusImport:
    """Queue a previewed import for writing (the same user's scope is re-checked)."""
    job = CensusImport.objects.for_user(acting_user).select_for_update().get(pk=job.pk)
    if not can_import(acting_user):
        raise CensusUploadError("您的账号没有导入调查表的权限")
    if job.status == S.PREVIEWED and not (job.new_count or job.updated_count):
        raise CensusUploadError("这个文件没有需要写入的行（没有新增，也没有更新），不需要确认导入")
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
        marked += fail(job.pk, INTERRUPTED, expected=(S.RUNNING, S.PREVIEWING))
    for job in queryset.filter(status__in=(S.UPLOADED, S.QUEUED)).order_by():
        if _task_dead(job, stale):
            marked += fail(job.pk, NOT_STARTED, expected=(S.UPLOADED, S.QUEUED))
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
        for name in (job.stored_path, job.rejected_path, *preview_paths(job.preview.get("details"))):
            remove(name)
        job.files_purged_at = now
        job.stored_path = job.rejected_path = ""
        job.save(update_fields=["files_purged_at", "stored_path", "rejected_path"])
        purged += 1
    return purged
