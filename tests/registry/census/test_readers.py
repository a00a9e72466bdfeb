"""One survey, the same cells, through every way a file can reach the importer: .xlsx written by
openpyxl (shared strings; dates as numbers, or as ISO `t="d"` cells), by xlsxwriter (Excel's own
layout, rich-text shared strings, formulas with cached results, or inline strings in its
constant-memory mode), read in the reader's child process or in this one; legacy .xls (xlwt,
read by calamine); CSV in UTF-8 and GBK. Every path must give the same checked rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwt
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from registry.census import xlsx_stream

from .builders import TODAY, id_number, parse

HEADER = ["序号", "村", "姓名", "身份证号码", "性别", "出生日期", "联系电话", "是否低保", "月收入（元）", "调查日期", "备注"]


class Rich(str):
    """Text written as rich-text runs (two fonts) where the writer can."""


class Formula(str):
    """Text written as a formula's cached result where the writer can (`t="str"`)."""


# One row per line; dates are date cells where the format has them, text in CSV.
ROWS = [
    [1, "李家湾村", "张三", id_number(dt.date(1946, 3, 12), 1), "男", dt.date(1946, 3, 12), 13812345678, True,
     1200, dt.date(2025, 3, 1), "长期卧床"],
    [2, "李家湾村委会", Rich("王秀英"), id_number(dt.date(1950, 1, 2), 2), "", "1950年1月2日", "13812345678、0831-7654321",
     "否", "1,200元", "2025年3月1日", Formula("由公式得出")],
    [3, "石龙", "吉克·阿呷", 511529194905059968.0, "", "", 8317654321, "√", "", "", "a & b <c>"],  # an ID typed as a number
    [4, "李家湾村", "李四", id_number(dt.date(1980, 1, 1), 5), "", "", "", 1, 860.5, dt.date(2025, 2, 1), ""],
    [5, "李家湾村", "王五", id_number(dt.date(1946, 3, 12), 8), "女", dt.date(1946, 3, 12), "", "有", 0,
     dt.date(2025, 2, 1), ""],
]


def _cell_text(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value >= 1e15:
        return f"{value:.5E}"  # what Excel shows, and saves as CSV, for an 18-digit number
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def openpyxl_file(path: Path, *, iso_dates=False) -> Path:
    workbook = openpyxl.Workbook(iso_dates=iso_dates)
    sheet = workbook.active
    sheet.append(["锦屏镇农村留守老年人基本情况调查表"])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append([CellRichText(TextBlock(InlineFont(b=True), v[:1]), v[1:]) if isinstance(v, Rich) else
                      (str(v) if isinstance(v, Formula) else v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


def xlsxwriter_file(path: Path, *, constant_memory=False) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("调查表")
    date, bold = workbook.add_format({"num_format": "yyyy\"年\"m\"月\"d\"日\""}), workbook.add_format({"bold": True})
    sheet.write_row(0, 0, ["锦屏镇农村留守老年人基本情况调查表"])
    sheet.write_row(1, 0, HEADER)
    for r, row in enumerate(ROWS, start=2):
        for c, value in enumerate(row):
            if isinstance(value, Rich) and not constant_memory:
                sheet.write_rich_string(r, c, bold, value[:1], value[1:])
            elif isinstance(value, Formula):
                sheet.write_formula(r, c, f'="{value}"', None, str(value))
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, value)
    workbook.close()
    return path


def xls_file(path: Path) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("调查表")
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    sheet.write(0, 0, "锦屏镇农村留守老年人基本情况调查表")
    for c, text in enumerate(HEADER):
        sheet.write(1, c, text)
    for r, row in enumerate(ROWS, start=2):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date)
            elif value != "":
                sheet.write(r, c, str(value) if isinstance(value, str) else value)
    book.save(str(path))
    return path


def csv_file(path: Path, encoding="utf-8") -> Path:
    lines = ["锦屏镇农村留守老年人基本情况调查表", ",".join(HEADER)]
    lines += [",".join(f'"{_cell_text(value)}"' for value in row) for row in ROWS]
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def in_this_process(monkeypatch):
    def no_process(*_args, **_kwargs):
        raise OSError("no process to be had")

    monkeypatch.setattr(xlsx_stream.subprocess, "Popen", no_process)


PATHS = {
    "openpyxl": lambda tmp, mp: openpyxl_file(tmp / "a.xlsx"),
    "openpyxl-iso-dates": lambda tmp, mp: openpyxl_file(tmp / "a.xlsx", iso_dates=True),
    "xlsxwriter": lambda tmp, mp: xlsxwriter_file(tmp / "a.xlsx"),
    "xlsxwriter-inline-strings": lambda tmp, mp: xlsxwriter_file(tmp / "a.xlsx", constant_memory=True),
    "xlsx-read-in-this-process": lambda tmp, mp: (in_this_process(mp), xlsxwriter_file(tmp / "a.xlsx"))[1],
    "xls": lambda tmp, mp: xls_file(tmp / "a.xls"),
    "csv-utf8": lambda tmp, mp: csv_file(tmp / "a.csv"),
    "csv-gbk": lambda tmp, mp: csv_file(tmp / "a.csv", "gbk"),
}


def checked(path: Path) -> list[tuple]:
    census, rows = parse(path, today=TODAY)
    # The cells as text are left out: a number cell and its CSV export are not written alike.
    return [(row.row_number, row.values, [(i.header, i.message) for i in row.errors],
             [(i.header, i.message) for i in row.warnings]) for row in rows]


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    return checked(csv_file(tmp_path_factory.mktemp("csv") / "a.csv"))


@pytest.mark.parametrize("way", list(PATHS))
def test_every_reader_and_path_gives_the_same_rows(tmp_path, monkeypatch, expected, way):
    assert checked(PATHS[way](tmp_path, monkeypatch)) == expected


def test_the_rows_are_the_survey(expected):
    """What every path gives, spelled out once."""
    by_row = {number: (values, errors, warnings) for number, values, errors, warnings in expected}
    values, errors, warnings = by_row[3]
    assert values["name"] == "张三" and values["dibao"] is True and values["surveyed_on"] == dt.date(2025, 3, 1)
    assert values["phones"] == ["13812345678"] and not errors and not warnings
    values, errors, _ = by_row[4]
    assert values["name"] == "王秀英" and values["notes"] == "由公式得出" and values["monthly_income"] == 1200
    assert values["phones"] == ["13812345678", "0831-7654321"] and not errors
    values, errors, warnings = by_row[5]
    assert "身份证号被 Excel 存成了数字" in errors[0][1]
    assert values["notes"] == "a & b <c>" and values["phones"] == ["0831-7654321"] and warnings
    assert "未满 60 周岁" in by_row[6][1][0][1]
    assert by_row[7][0]["dibao"] is True and by_row[7][0]["sex"] == "female"
