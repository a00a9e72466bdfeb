"""`eldercare-admin restore_drill ARCHIVE`: prove a backup by restoring it into a scratch database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eldercare import backups


class Command(BaseCommand):
    help = ("恢复演练：校验归档，把数据库恢复到一个临时数据库、文件恢复到临时目录，逐表比对行数和内容、"
            "修改历史和每个文件；有任何不一致时以非零状态退出。")

    def add_arguments(self, parser):
        parser.add_argument("archive", nargs="?", type=Path, help="备份归档（eldercare-*.tar）")
        parser.add_argument("--latest", action="store_true", help="演练 BACKUP_DIR 中最新的一份")
        parser.add_argument("--keep", action="store_true", help="演练后保留临时数据库（供人工查看）")

    def handle(self, *args, archive=None, latest=False, keep=False, **options):
        try:
            if latest:
                archive = backups.latest(backups.default_dir())
            if archive is None:
                raise CommandError("请给出备份归档的路径，或使用 --latest。")
            report = backups.restore_drill(archive, keep=keep)
        except (backups.BackupError, RuntimeError, OSError) as error:
            raise CommandError(f"恢复演练失败：{error}") from error
        self.stdout.write(backups.format_report(report))
        if not report.ok:
            raise CommandError("恢复演练发现不一致（见上）。")
