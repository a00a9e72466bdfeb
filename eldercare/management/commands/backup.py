"""`eldercare-admin backup`: one dated archive of the database and the uploaded documents."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eldercare import backups


class Command(BaseCommand):
    help = "备份数据库（pg_dump 自定义格式）和上传的文件到一个带日期的归档，并写出 SHA-256 校验文件。"

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", type=Path, help="归档目录（默认 BACKUP_DIR）")
        parser.add_argument("--keep-days", type=int, help="删除此目录中早于这么多天的旧归档（最新一份总保留）")

    def handle(self, *args, output_dir=None, keep_days=None, **options):
        output_dir = output_dir or backups.default_dir()
        try:
            archive = backups.create_backup(output_dir)
        except (backups.BackupError, RuntimeError, OSError) as error:
            raise CommandError(f"备份失败：{error}") from error
        self.stdout.write(f"已备份：{archive}（{archive.stat().st_size / 1e6:.1f} MB），校验文件 {archive.name}.sha256")
        if keep_days is not None:
            for old in backups.prune(output_dir, keep_days):
                self.stdout.write(f"已删除 {keep_days} 天前的备份：{old.name}")
