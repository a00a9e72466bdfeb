"""Workbooks for the census import tests, in the template's column names."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

from tests.factories import make_id_number

HEADER = ["序号", "乡镇", "村", "姓名", "身份证号码", "联系电话", "居住情况", "主要赡养人姓名", "主要赡养人关系",
          "主要赡养人联系电话", "是否签订委托照顾协议", "受托人", "备注"]


def person(village="李家湾村", name="王秀英", id_number=None, *, town="", phone="", living="", guardian="",
           relation="", guardian_phone="", agreement="", caregiver="", notes=""):
    """One survey row as cells, in HEADER order (序号 filled in later)."""
    id_number = id_number or make_id_number(date(1948, 5, 6))
    return [None, town, village, name, id_number, phone, living, guardian, relation, guardian_phone, agreement,
            caregiver, notes]


def write_workbook(path: Path, rows, header=HEADER, title_rows=("锦屏镇农村留守老年人基本情况调查表",)) -> Path:
    """An .xlsx like a town's: title row(s), header, data rows (ID cells stored as text)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "调查表"
    for title in title_rows:
        sheet.append([title])
    sheet.append(list(header))
    for number, row in enumerate(rows, start=1):
        row = list(row)
        if row and row[0] is None and header[0] == "序号":
            row[0] = number
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING
    workbook.save(path)
    return path
