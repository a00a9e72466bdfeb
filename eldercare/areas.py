"""Loading statistical division codes (统计用区划代码) from CSV: `code,name[,level,parent_code]`."""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from eldercare.choices import AREA_CODE_LENGTH, AreaLevel
from eldercare.models import Area

LEVEL_BY_LENGTH = {length: level for level, length in AREA_CODE_LENGTH.items()}
PARENT_LENGTH = {9: 6, 12: 9}


class AreaFileError(Exception):
    """A line of the area file is wrong; nothing was loaded."""


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def load_areas(text: str) -> LoadResult:
    """Validate every line, then write all areas in one transaction (idempotent upsert by code).

    Raises AreaFileError naming the line number and the problem; the database is untouched then.
    """
    rows = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    known = set(Area.objects.values_list("code", flat=True))
    for line_no, record in enumerate(reader, start=1):
        if not record or not "".join(record).strip():
            continue
        if line_no == 1 and record[0].strip().lower() == "code":
            continue
        code, name = (record + ["", ""])[:2]
        code, name = code.strip(), name.strip()
        level = record[2].strip() if len(record) > 2 and record[2].strip() else LEVEL_BY_LENGTH.get(len(code), "")
        parent_code = record[3].strip() if len(record) > 3 and record[3].strip() else code[: PARENT_LENGTH.get(len(code), 0)]
        problem = _check_line(code, name, level, parent_code, known)
        if problem:
            raise AreaFileError(f"第 {line_no} 行：{problem}")
        known.add(code)
        rows.append((code, name, level, parent_code or None))

    result = LoadResult()
    with transaction.atomic():
        existing = {a.code: a for a in Area.objects.filter(code__in=[r[0] for r in rows])}
        for code, name, level, parent_code in rows:
            area = existing.get(code)
            if area is None:
                area = Area(code=code, name=name, level=level, parent_id=parent_code)
                result.created += 1
            elif (area.name, area.level, area.parent_id) == (name, level, parent_code):
                result.unchanged += 1
                continue
            else:
                area.name, area.level, area.parent_id = name, level, parent_code
                result.updated += 1
            try:
                area.full_clean()
            except ValidationError as error:
                raise AreaFileError(f"{code} {name}：{'；'.join(error.messages)}") from None
            area.save()
    return result


def _check_line(code, name, level, parent_code, known) -> str:
    if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
        return f"区划代码“{code}”应为 6、9 或 12 位数字。"
    if not name:
        return "缺少名称。"
    if level not in AreaLevel.values:
        return f"级别“{level}”无法识别，应为 county、town 或 village。"
    if AREA_CODE_LENGTH[level] != len(code):
        return f"级别 {level} 的区划代码应为 {AREA_CODE_LENGTH[level]} 位，“{code}”是 {len(code)} 位。"
    if level != AreaLevel.COUNTY:
        if not code.startswith(parent_code):
            return f"区划代码“{code}”不以上级代码“{parent_code}”开头。"
        if parent_code not in known:
            return f"上级区划“{parent_code}”不存在，请先在文件中列出上级。"
    return ""
