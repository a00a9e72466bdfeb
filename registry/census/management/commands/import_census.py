"""`manage.py import_census FILE --user USERNAME [--dry-run] [--strict] [--errors-out PATH] [--json]`.

The same engine and writer as the web import, in the user's jurisdiction. Exit status: 0 every
row accepted, 1 some rows rejected (or, with --strict, the file refused), 2 the file could not
be read at all.
"""

import contextlib
import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models.functions import Now
from django.utils import timezone

from eldercare.jobs import Heartbeat, freeze_startup_heap
from registry.census.choices import CensusImportStatus
from registry.census.models import CensusImport
from registry.census.reader import CensusFileError
from registry.census.services import can_import, execute


class Command(BaseCommand):
    help = "导入农村留守老年人基本情况调查表（与网页导入相同的规则）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="以该用户的身份和辖区导入")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--strict", action="store_true", help="有任何一行被退回时，整个文件都不导入")
        parser.add_argument("--errors-out", help="把被退回的行写入这个 .xlsx 文件（原列 + 错误原因）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--sheet", help="工作表名称（默认第一个可见的工作表）")

    def handle(self, *args, **options):
        freeze_startup_heap()  # a batch process: see eldercare.jobs
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"用户 {options['user']} 不存在") from None
        if not can_import(user):
            raise CommandError(f"用户 {user.username} 没有导入调查表的权限（乡镇或村账号）")
        path = Path(options["file"])
        dry_run, strict = options["dry_run"], options["strict"]
        job = None
        if not dry_run:
            job = CensusImport.objects.create(
                uploaded_by=user, area_code=user.area_id or "", file_name=path.name[:200],
                file_size=path.stat().st_size if path.exists() else 0, status=CensusImportStatus.RUNNING,
                confirmed_at=timezone.now(), started_at=timezone.now(), heartbeat_at=Now())
        # The heartbeat tells the import pages this command is alive; if it is killed, they mark
        # the import failed (registry.census.services.refresh_stale).
        alive = Heartbeat(CensusImport._meta.db_table, job.pk) if job else contextlib.nullcontext()
        try:
            with alive:
                outcome = execute(str(path), filename=path.name, user=user, job_id=job.pk if job else None,
                                  dry_run=dry_run, strict=strict, rejected_path=options["errors_out"],
                                  sheet=options["sheet"])
        except CensusFileError as error:
            if job is not None:
                job.status, job.error, job.finished_at = CensusImportStatus.FAILED, error.message, timezone.now()
                job.save()
            self._report({"error": error.message}, options, error.message)
            sys.exit(2)
        written = not dry_run and not (strict and outcome.rejected)
        if job is not None:
            job.status = CensusImportStatus.DONE if written else CensusImportStatus.CANCELLED
            job.new_count, job.updated_count, job.unchanged_count = outcome.new, outcome.updated, outcome.unchanged
            job.rejected_count, job.warning_count = outcome.rejected, outcome.warnings
            job.rows_processed = job.rows_total = outcome.rows
            job.preview = outcome.as_preview()
            job.finished_at = timezone.now()
            job.save()
        result = {**outcome.counts(), "written": written, "dry_run": dry_run, "strict": strict,
                  "import_id": job.pk if job else None, "rejected_rows": outcome.rejected_rows,
                  "unknown_columns": outcome.unknown_columns, "file_warnings": outcome.file_warnings}
        text = (f"新增 {outcome.new}，更新 {outcome.updated}，无变化 {outcome.unchanged}，"
                f"退回 {outcome.rejected}，提示 {outcome.warnings}"
                + ("（试运行，未写入）" if dry_run else "")
                + ("（--strict：有退回行，整个文件未导入）" if strict and outcome.rejected else ""))
        self._report(result, options, text)
        if outcome.rejected:
            sys.exit(1)

    def _report(self, result: dict, options: dict, text: str) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
        else:
            self.stdout.write(text)
