"""`eldercare-admin deidentify_departed --user USERNAME [--years N] [--dry-run]` (docs/access.md, "Retention")."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eldercare.models import User
from oversight import retention


class Command(BaseCommand):
    help = ("对死亡或迁出超过 N 年（RETENTION_YEARS，默认 5）的老人去标识化：保留记录和修改历史，"
            "删除姓名、身份证号、电话、地址、备注、协议扫描件和巡访照片（历史记录中的也一并删除）。")

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="执行人（记入修改历史）")
        parser.add_argument("--years", type=int, default=None, help="年限（默认 RETENTION_YEARS）")
        parser.add_argument("--dry-run", action="store_true", help="只列出将被去标识化的老人和数量，不做改动")

    def handle(self, *args, user, years, dry_run, **options):
        years = settings.RETENTION_YEARS if years is None else years
        if years < 1:
            raise CommandError(f"--years 必须至少为 1（这里是 {years}）。")
        acting_user = User.objects.filter(username=user).first()
        if acting_user is None:
            raise CommandError(f"没有用户名为 {user} 的账号。")
        if dry_run:
            run = retention.plan(retention.departed(years))
            for elder in run.elders:
                self.stdout.write(f"  #{elder.pk} {elder.village.name} {elder.get_status_display()} "
                                  f"{elder.status_changed_on:%Y-%m-%d}")
        else:
            run = retention.deidentify_departed(years=years, acting_user=acting_user)
        verb = "将去标识化" if dry_run else "已去标识化"
        self.stdout.write(
            f"{verb}：{len(run.elders)} 位死亡或迁出满 {years} 年的老人，赡养人 {run.registry.guardians} 位，"
            f"委托照顾协议 {run.registry.agreements} 份，巡访记录 {run.visits} 条，文件 {len(run.files)} 个，"
            f"修改历史 {run.history_rows} 行。" + ("（试运行，未做改动）" if dry_run else ""))
