"""The streaming .xlsx reader gives exactly what calamine gives, on every kind of workbook."""

import datetime as dt
import zipfile

import pytest
from openpyxl import Workbook

from bench.make_census_workbook import write_census_workbook
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


MSG_UNSAFE = "文件内部结构异常，无法安全读取"
MSG_DAMAGED = "读取表格内容时出错，文件可能已损坏"
SHEET_PART = "xl/worksheets/sheet1.xml"


@pytest.fixture
def census_workbook(tmp_path):
    """A generated census with shared strings, a two-row merged header and a notes footer, as
    Excel writes them: the reader's fast path, unlike openpyxl's inline strings above."""
    path = tmp_path / "census.xlsx"
    write_census_workbook(path, 60, seed=3, today=dt.date(2026, 6, 1))
    return path


def with_part(path, part, change):
    """A copy of the workbook at `path` with `part` replaced by change(its bytes), zipped again
    (so the package itself is sound and only the XML inside is damaged)."""
    out = path.with_name(f"changed-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out


def read_all(path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    with reader.read_table(path, filename="x.xlsx") as table:
        return rows_of(table)


def test_streaming_matches_calamine_on_shared_strings(census_workbook):
    first, second = both(census_workbook)
    assert first == second
    assert first[1]  # the grouped header's merges came through


@pytest.mark.parametrize("cut", [40, 0], ids=["mid-row", "after-a-row"])
def test_a_sheet_cut_short_is_refused_not_read_in_part(census_workbook, monkeypatch, cut):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml[: xml.find(b'<row r="40"') + cut])
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)


@pytest.mark.parametrize("part", [SHEET_PART, "xl/sharedStrings.xml"])
def test_a_dtd_is_refused(census_workbook, monkeypatch, part):
    dtd = b'<!DOCTYPE x [<!ENTITY a "b">]>'
    damaged = with_part(census_workbook, part, lambda xml: xml.replace(b"?>", b"?>" + dtd, 1))
    with pytest.raises(reader.CensusFileError, match=MSG_UNSAFE):
        read_all(damaged, monkeypatch)


def test_a_shared_string_index_past_the_table_is_refused(census_workbook, monkeypatch):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml.replace(b't="s"><v>5</v>', b't="s"><v>99999</v>', 1))
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)
