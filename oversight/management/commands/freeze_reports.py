"""python manage.py freeze_reports [--date YYYY-MM-DD] — store the reports of periods that just closed."""

from datetime import timedelta
from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from eldercare.choices import AreaLevel
from eldercare.models import Area
from oversight.reports import freeze, periods_closed_on

# The job reads every town; it acts as a superuser would (the whole database), writing nothing
# but the stored reports.
SYSTEM = SimpleNamespace(is_authenticated=True, is_active=True, is_superuser=True, role="", area=None, pk=None)


class Command(BaseCommand):
    help = "封存昨天结束的月、季度、年度统计报表（每个乡镇和县各一份）；建议每天凌晨运行。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="结束的那一天（默认昨天），格式 2026-03-31")

    def handle(self, *args, date=None, **options):
        day = parse_date(date) if date else timezone.localdate() - timedelta(days=1)
        if day is None:
            raise CommandError("日期格式应为 2026-03-31。")
        periods = periods_closed_on(day)
        areas = Area.objects.filter(level__in=[AreaLevel.COUNTY, AreaLevel.TOWN]).order_by("code")
        for period in periods:
            for area in areas:
                freeze(SYSTEM, area, period)
            self.stdout.write(f"{period.label}：已封存 {len(areas)} 份报表")
        if not periods:
            self.stdout.write(f"{day} 不是月末，没有要封存的报表。")
