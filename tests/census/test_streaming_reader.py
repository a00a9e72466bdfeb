"""The streaming .xlsx reader gives exactly what calamine gives, on every kind of workbook."""

import datetime as dt

import pytest
from openpyxl import Workbook

from registry.census import reader
from tests.census.helpers import person, write_workbook


def rows_of(table):
    out = []
    for row in table:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def both(path):
    calamine = reader._open_workbook(path, None)
    streaming = reader._open_streaming(path, None)
    assert streaming is not None
    try:
        return (rows_of(calamine), calamine.merged_ranges), (rows_of(streaming), streaming.merged_ranges)
    finally:
        calamine.close()
        streaming.close()


def test_streaming_matches_calamine_on_a_survey(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", [person("李家湾村", f"老人{i}", phone="13800001111") for i in range(50)],
                          title_rows=("标题", "", "填报单位：锦屏镇"))
    first, second = both(path)
    assert first == second


def test_streaming_matches_calamine_on_types_merges_formulas_and_gaps(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["合并标题"])
    sheet.merge_cells("A1:D1")
    sheet.append([1, 1.5, "x&y<z>", True, dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4), 123456789012345678])
    sheet["B5"] = "=1+2"
    sheet["C7"] = "after a gap"
    sheet.cell(row=8, column=3, value="  空格  ")
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    first, second = both(path)
    assert first == second


@pytest.mark.parametrize("name", ["a.xlsx"])
def test_big_files_use_the_streaming_reader(tmp_path, monkeypatch, name):
    path = write_workbook(tmp_path / name, [person()])
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    table = reader.read_table(path, filename=name)
    assert table._workbook.__class__.__name__ == "StreamingSheet"
    table.close()
