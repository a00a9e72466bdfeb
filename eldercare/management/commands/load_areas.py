"""python manage.py load_areas FILE.csv — load statistical division codes, idempotently."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eldercare.areas import AreaFileError, load_areas


class Command(BaseCommand):
    help = "从 CSV（code,name[,level,parent_code]）导入行政区划；重复导入不会改变数据。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"无法读取 {file}：{error}") from None
        try:
            result = load_areas(text)
        except AreaFileError as error:
            raise CommandError(f"{file}：{error}（未导入任何数据）") from None
        self.stdout.write(f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
