"""python manage.py seed_demo [--scale county] [--force] — demo accounts and data, or the benchmark set."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from eldercare import demo
from eldercare.models import User


class Command(BaseCommand):
    help = "生成演示数据（演示账号密码 eldercare-demo）；--scale county 生成性能测试数据集。"

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["demo", "county"], default="demo")
        parser.add_argument("--force", action="store_true", help="DEBUG 关闭时也运行（会写入演示账号！）")
        parser.add_argument("--flush", action="store_true", help="先清空数据库中的全部数据")

    def handle(self, *args, scale, force, flush, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG 已关闭：这可能是生产环境，拒绝写入演示数据。确需运行请加 --force。")
        if flush:
            call_command("flush", interactive=False, verbosity=0)
            call_command("migrate", verbosity=0)  # flush empties the role groups: recreate them
        elif User.objects.filter(username="town").exists():
            self.stdout.write("演示数据已存在，未做改动（要重建请加 --flush）。")
            return
        started = time.monotonic()
        demo.seed(scale=scale == "county", log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {time.monotonic() - started:.1f} 秒。"))
