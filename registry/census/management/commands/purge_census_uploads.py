"""`manage.py purge_census_uploads`: delete stored census uploads and rejected-rows workbooks older
than CENSUS_RETENTION_DAYS (run daily from cron; the upload page also runs it now and then)."""

from django.core.management.base import BaseCommand

from registry.census.services import purge_census_uploads


class Command(BaseCommand):
    help = "删除超过保存期限的调查表上传文件和退回行文件"

    def handle(self, *args, **options):
        count = purge_census_uploads()
        self.stdout.write(f"已清理 {count} 次导入的文件")
