"""python manage.py rebuild_rollups [--check] — recompute the dashboards' visit rollup (nightly)."""

import time

from django.core.management.base import BaseCommand, CommandError

from oversight import rollup
from oversight.models import VisitDay


class Command(BaseCommand):
    help = ("按巡访记录重新计算督导总览使用的每村每日巡访汇总（oversight_visitday）；建议每天凌晨运行。"
            "--check 只核对汇总与巡访记录是否一致，不一致时列出并以非零状态退出。")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只核对，不重算")

    def handle(self, *args, check, **options):
        if check:
            wrong = rollup.differences()
            for village, day, column, stored, live in wrong:
                label = VisitDay._meta.get_field(column).verbose_name
                self.stdout.write(f"  {village} {day} {label}：汇总 {stored} 次，实际 {live} 次")
            if wrong:
                raise CommandError("每日巡访汇总与巡访记录不一致（以上为前 20 处）：请运行 rebuild_rollups 重算。")
            self.stdout.write("每日巡访汇总与巡访记录一致。")
            return
        started = time.monotonic()
        rows = rollup.rebuild()
        self.stdout.write(self.style.SUCCESS(f"已重算每日巡访汇总：{rows} 个村·日，用时 {time.monotonic() - started:.1f} 秒。"))
