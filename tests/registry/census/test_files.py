"""Opening uploads: formats, encodings, sheets, and every way a file can be unusable."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from registry.census.reader import CensusFileError, read_table

from .builders import encrypted_xlsx_bytes, id_number, parse, write_csv, write_xlsx, zip_with

ID = id_number()
FIXTURES = Path(__file__).with_name("fixtures")
ROWS = [
    ["序号", "村", "姓名", "身份证号码", "民族"],
    [1, "李家湾", "张三", ID, "汉"],
    [2, "石龙", "李四", id_number(sequence=3), "彝族"],
]


def names(rows):
    return [row.values["name"] for row in rows]


def test_xlsx_is_read(tmp_path):
    census, rows = parse(write_xlsx(tmp_path / "t.xlsx", ROWS))
    assert names(rows) == ["张三", "李四"] and census.sheet_name == "调查表"


def test_xls_is_read_with_merged_two_row_header_and_numeric_id_cell():
    census, rows = parse(FIXTURES / "census.xls")
    assert census.headers == [
        "序号",
        "村",
        "姓名",
        "身份证号码",
        "出生日期",
        "联系电话",
        "主要赡养人/姓名",
        "主要赡养人/关系",
    ]
    assert rows[0].row_number == 4
    assert rows[0].values["birth_date"] == dt.date(1946, 3, 12)
    assert rows[0].values["phones"] == ["13812345678"]
    assert rows[0].values["guardians"] == [{"name": "张大", "relation": "son"}]
    assert rows[1].errors[0].message.startswith("身份证号被 Excel 存成了数字")
    assert len(rows) == 2  # the 合计 row ends the data


def test_xlsx_content_with_xls_extension_and_the_reverse_are_read_by_content(tmp_path):
    xlsx = write_xlsx(tmp_path / "t.xlsx", ROWS)
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(xlsx.read_bytes())
    assert names(parse(renamed)[1]) == ["张三", "李四"]
    legacy = tmp_path / "legacy.xlsx"
    legacy.write_bytes((FIXTURES / "census.xls").read_bytes())
    assert names(parse(legacy)[1])[0] == "张三"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_utf8_with_or_without_bom_and_gbk(tmp_path, encoding):
    path = write_csv(tmp_path / "t.csv", ROWS, encoding=encoding)
    census, rows = parse(path)
    assert names(rows) == ["张三", "李四"]
    assert rows[1].values["ethnicity"] == "彝族"


def test_gbk_csv_whose_first_lines_are_ascii_is_still_detected(tmp_path):
    rows = [["xm", "id"]] * 3 + ROWS
    path = write_csv(tmp_path / "t.csv", rows, encoding="gbk")
    assert names(parse(path)[1]) == ["张三", "李四"]


def test_csv_with_semicolons_or_tabs(tmp_path):
    for delimiter in (";", "\t"):
        path = write_csv(tmp_path / "t.csv", ROWS, delimiter=delimiter)
        assert names(parse(path)[1]) == ["张三", "李四"]


def test_row_numbers_count_from_the_top_of_the_sheet_even_when_it_starts_lower_right(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for offset, row in enumerate(ROWS):
        for column, value in enumerate(row):
            sheet.cell(row=5 + offset, column=3 + column, value=value)
    workbook.save(tmp_path / "t.xlsx")
    census, rows = parse(tmp_path / "t.xlsx")
    assert [row.row_number for row in rows] == [6, 7]
    assert census.headers[2] == "序号" and rows[0].raw[4] == "张三"  # columns from A, in every reader


def test_first_visible_sheet_is_read_and_a_named_sheet_can_be_chosen(tmp_path):
    workbook = Workbook()
    hidden = workbook.active
    hidden.title = "隐藏"
    hidden.sheet_state = "hidden"
    hidden.append(["村", "姓名", "身份证号码"])
    hidden.append(["李家湾", "隐藏的人", ID])
    visible = workbook.create_sheet("调查表")
    for row in ROWS:
        visible.append(row)
    workbook.save(tmp_path / "t.xlsx")
    assert names(parse(tmp_path / "t.xlsx")[1]) == ["张三", "李四"]
    assert names(parse(tmp_path / "t.xlsx", sheet="隐藏")[1]) == ["隐藏的人"]


def test_named_sheet_not_found_lists_the_sheets(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS)
    with pytest.raises(CensusFileError, match="找不到名为“汇总”的工作表。这个文件中的工作表有：“调查表”"):
        parse(path, sheet="汇总")


def _rewrite_member(source: Path, target: Path, member: str, change) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, change(data) if info.filename == member else data)
    return target


def test_no_visible_sheet(tmp_path):
    # openpyxl refuses to save such a workbook, Excel does not: hide the sheet afterwards.
    path = _rewrite_member(
        write_xlsx(tmp_path / "good.xlsx", ROWS),
        tmp_path / "t.xlsx",
        "xl/workbook.xml",
        lambda data: data.replace(b'state="visible"', b'state="hidden"'),
    )
    with pytest.raises(CensusFileError, match="没有可见的工作表"):
        parse(path)


def test_empty_file(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(b"")
    with pytest.raises(CensusFileError, match="空的（0 字节）"):
        parse(tmp_path / "t.xlsx")


def test_renamed_pdf(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(CensusFileError, match="这是 PDF 文件"):
        parse(tmp_path / "t.xlsx")


def test_renamed_word_document(tmp_path):
    zip_with(tmp_path / "t.xlsx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    with pytest.raises(CensusFileError, match="这是 Word 文档"):
        parse(tmp_path / "t.xlsx")


def test_renamed_zip_archive(tmp_path):
    zip_with(tmp_path / "t.xlsx", {"照片.jpg": b"\xff\xd8\xff"})
    with pytest.raises(CensusFileError, match="不是 Excel 工作簿"):
        parse(tmp_path / "t.xlsx")


def test_html_saved_as_xls(tmp_path):
    (tmp_path / "t.xls").write_bytes("<html><table><tr><td>姓名</td></tr></table></html>".encode())
    with pytest.raises(CensusFileError, match="网页（HTML/XML）格式"):
        parse(tmp_path / "t.xls")


def test_random_bytes_named_xlsx(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(CensusFileError, match="不是有效的 Excel 文件"):
        parse(tmp_path / "t.xlsx")


def test_truncated_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", ROWS).read_bytes()
    for cut in (len(good) // 3, len(good) - 30):
        (tmp_path / "t.xlsx").write_bytes(good[:cut])
        with pytest.raises(CensusFileError, match="损坏或不完整"):
            parse(tmp_path / "t.xlsx")


def test_corrupt_member_inside_an_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", ROWS)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(tmp_path / "t.xlsx", "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, data[: len(data) // 2] if "sheet1" in info.filename else data)
    with pytest.raises(CensusFileError):
        parse(tmp_path / "t.xlsx")


def test_password_protected_xlsx(tmp_path):
    (tmp_path / "t.xlsx").write_bytes(encrypted_xlsx_bytes())
    with pytest.raises(CensusFileError) as error:
        parse(tmp_path / "t.xlsx")
    assert "设置了打开密码" in str(error.value) and "取消密码" in str(error.value)


def test_file_over_the_size_cap(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS)
    with pytest.raises(CensusFileError, match="文件太大"):
        parse(path, max_bytes=path.stat().st_size - 1)
    assert parse(path, max_bytes=path.stat().st_size)[1]


def test_zip_bomb_by_entry_count(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS)
    with pytest.raises(CensusFileError, match="包含 .* 个部件"):
        parse(path, max_zip_entries=3)
    members = {f"xl/media/{n}.bin": b"" for n in range(2000)} | {"xl/workbook.xml": b"<workbook/>"}
    with pytest.raises(CensusFileError, match="包含 2001 个部件，上限 1000"):
        parse(zip_with(tmp_path / "many.xlsx", members))


def test_zip_bomb_by_inflated_size(tmp_path):
    bomb = zip_with(
        tmp_path / "bomb.xlsx", {"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": b"\0" * 20_000_000}
    )
    assert bomb.stat().st_size < 100_000
    with pytest.raises(CensusFileError, match="解压后过大"):
        parse(bomb, max_inflated_bytes=10_000_000)


@pytest.mark.parametrize("far_cell", ["XFD1048576", "A300000", "EA1", "AAA1"])
def test_cells_far_away_are_refused_before_the_reader_allocates_the_grid(tmp_path, far_cell):
    # calamine would allocate rows x columns cells for this 5 KB file and abort the process.
    workbook = Workbook()
    sheet = workbook.active
    for row in ROWS:
        sheet.append(row)
    sheet[far_cell] = "x"
    workbook.save(tmp_path / "t.xlsx")
    with pytest.raises(CensusFileError, match="超出了可导入的范围"):
        parse(tmp_path / "t.xlsx")


def test_cells_within_the_bounds_are_accepted(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for row in ROWS:
        sheet.append(row)
    sheet["DZ3"] = "x"
    sheet["A299999"] = None
    workbook.save(tmp_path / "t.xlsx")
    assert names(parse(tmp_path / "t.xlsx")[1]) == ["张三", "李四"]


def test_xml_with_entity_declarations_is_refused(tmp_path):
    dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'

    def add_dtd(data: bytes) -> bytes:
        if data.startswith(b"<?xml"):
            end = data.index(b"?>") + 2
            return data[:end] + dtd + data[end:]
        return dtd + data

    path = _rewrite_member(write_xlsx(tmp_path / "good.xlsx", ROWS), tmp_path / "t.xlsx", "xl/workbook.xml", add_dtd)
    with pytest.raises(CensusFileError, match="结构异常"):
        parse(path)


@pytest.mark.parametrize("filename", ["t.ods", "t.numbers", "t.txt", "t", "t.pdf", "t.docx"])
def test_unknown_extension(tmp_path, filename):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS)
    with pytest.raises(CensusFileError, match="请上传 .xlsx、.xls 或 .csv"):
        parse(path, filename=filename)


def test_extension_is_taken_from_the_upload_name_not_the_stored_path(tmp_path):
    stored = tmp_path / "upload-123.tmp"
    stored.write_bytes(write_xlsx(tmp_path / "t.xlsx", ROWS).read_bytes())
    assert names(parse(stored, filename="调查表.XLSX")[1]) == ["张三", "李四"]


def test_csv_with_bytes_that_are_neither_utf8_nor_gbk(tmp_path):
    (tmp_path / "t.csv").write_bytes("村,姓名,身份证号码\n".encode() + b"\x81\x20\xff\xfe\xfd,x,y\n")
    with pytest.raises(CensusFileError):
        parse(tmp_path / "t.csv")


def test_binary_file_named_csv(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"\x00\x00\x00\x01" * 10)
    with pytest.raises(CensusFileError, match="不是文本文件"):
        parse(tmp_path / "t.csv")


def test_no_library_exception_escapes_for_junk_inputs(tmp_path):
    samples = [
        b"PK\x03\x04" + b"\x00" * 100,
        b"PK\x05\x06" + b"\x00" * 18,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        io.BytesIO(b"").getvalue() + b"\xef\xbb\xbf",
    ]
    for index, data in enumerate(samples):
        path = tmp_path / f"{index}.xlsx"
        path.write_bytes(data)
        with pytest.raises(CensusFileError):
            parse(path)


def test_read_table_yields_raw_cells_and_can_be_closed(tmp_path):
    table = read_table(write_xlsx(tmp_path / "t.xlsx", ROWS), filename="t.xlsx", max_bytes=10**6)
    with table:
        rows = list(table)
    assert rows[1] == (1.0, "李家湾", "张三", ID, "汉")  # a tuple per row, numbers as floats
