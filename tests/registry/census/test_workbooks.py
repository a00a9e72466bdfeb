"""Workbooks we write: the template, format_row round trip, rejected rows, the generator."""

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from bench.make_census_workbook import BAD_KINDS, main, write_census_workbook
from eldercare.spreadsheets import safe_cell_text
from registry.census.columns import CENSUS_COLUMNS
from registry.census.rejected import REASON_HEADER, RejectedBook
from registry.census.template import TEMPLATE_SHEET, format_row, write_template

from .builders import TODAY, id_number, parse, parse_rows, write_csv, write_xlsx

RICH_VALUES = {
    "town": "锦屏镇",
    "village": "李家湾村",
    "village_group": "第3组",
    "name": "阿依古丽·买买提",
    "sex": "female",
    "id_number": id_number(dt.date(1946, 3, 12), 2),
    "birth_date": dt.date(1946, 3, 12),
    "ethnicity": "维吾尔族",
    "phones": ["13812345678", "0831-7654321"],
    "address": "李家湾村3组12号",
    "living": "grandchildren",
    "health": "ill_dependent",
    "self_care": "disabled",
    "diseases": "高血压、糖尿病",
    "income_sources": ["pension", "dibao", "other"],
    "monthly_income": Decimal("860.50"),
    "dibao": True,
    "tekun": False,
    "poverty_monitored": False,
    "family_doctor": True,
    "difficulties": ["care", "loneliness", "safety"],
    "needs": "=助餐 +上门",
    "guardians": [
        {"name": "张大", "relation": "daughter_in_law", "phone": "010-12345678", "whereabouts": "浙江宁波"},
        {"name": "张二", "relation": "other_kin"},
    ],
    "agreement": True,
    "agreement_caregiver": "王五",
    "agreement_phone": "13712345678",
    "cadre": "赵书记",
    "surveyed_by": "@钱调查",
    "surveyed_on": dt.date(2025, 5, 20),
    "notes": "-行动不便",
}


def _parse_cells(tmp_path, cells, *, csv=False):
    header = [column.title for column in CENSUS_COLUMNS]
    if csv:
        path = write_csv(tmp_path / "t.csv", [header, cells])
    else:
        path = write_xlsx(tmp_path / "t.xlsx", [header, cells])
    census, rows = parse(path)
    return census, rows


@pytest.mark.parametrize("csv", [False, True])
def test_format_row_round_trips_through_the_parser(tmp_path, csv):
    census, [row] = _parse_cells(tmp_path, format_row(RICH_VALUES), csv=csv)
    assert census.unknown_columns == [] and census.file_warnings == []
    assert row.ok and not row.warnings
    assert row.values == RICH_VALUES


def test_format_row_of_a_parsed_minimal_row_round_trips(tmp_path):
    minimal = {
        "village": "李家湾村",
        "name": "张三",
        "id_number": id_number(),
        "sex": "male",
        "birth_date": dt.date(1946, 3, 12),
    }
    cells = format_row(minimal)
    assert cells.count("") == len(CENSUS_COLUMNS) - 5
    assert _parse_cells(tmp_path, cells)[1][0].values == minimal


def test_format_row_neutralises_formulas():
    cells = format_row(RICH_VALUES)
    assert cells[[c.key for c in CENSUS_COLUMNS].index("needs")] == "'=助餐 +上门"
    assert cells[[c.key for c in CENSUS_COLUMNS].index("surveyed_by")] == "'@钱调查"


def test_template_headers_validation_text_format_and_instructions(tmp_path):
    write_template(tmp_path / "template.xlsx", towns=["锦屏镇"], villages=["李家湾村", "石龙村"])
    workbook = load_workbook(tmp_path / "template.xlsx")
    assert workbook.sheetnames[0] == TEMPLATE_SHEET and "说明" in workbook.sheetnames
    sheet = workbook[TEMPLATE_SHEET]
    assert [cell.value for cell in sheet[1]] == [column.title for column in CENSUS_COLUMNS]
    letters = {
        column.key: sheet.cell(row=1, column=index).column_letter for index, column in enumerate(CENSUS_COLUMNS, 1)
    }
    validated = {str(ref).split(":")[0][:-1] for dv in sheet.data_validations.dataValidation for ref in dv.sqref.ranges}
    closed = [
        "sex",
        "living",
        "health",
        "self_care",
        "income_sources",
        "difficulties",
        "dibao",
        "tekun",
        "poverty_monitored",
        "family_doctor",
        "agreement",
        "ethnicity",
        "guardians.0.relation",
        "guardians.1.relation",
        "town",
        "village",
    ]
    assert {letters[key] for key in closed} <= validated
    for key in ("id_number", "phones", "guardians.0.phone", "agreement_phone"):
        assert sheet[f"{letters[key]}2"].number_format == "@"
    assert "身份证号码" in " ".join(str(c.value) for c in workbook["说明"]["A"])
    options = workbook["选项"]
    assert options.sheet_state == "hidden"
    lists = {column[0].value: [cell.value for cell in column[1:] if cell.value is not None] for column in options.columns}
    assert lists["乡镇"] == ["锦屏镇"] and lists["村（社区）"] == ["李家湾村", "石龙村"]
    assert {"是", "否", "有", "无", "√", "×", "1", "0"} <= set(lists["是/否"])  # as 说明 promises
    assert lists["性别"] == ["男", "女"] and "居住情况" in lists and "与老人关系" in lists
    assert all(not title.isascii() for title in lists)  # Chinese headers only
    boolean = next(dv for dv in sheet.data_validations.dataValidation
                   if any(str(ref).startswith(f"{letters['dibao']}2:") for ref in dv.sqref.ranges))
    assert not boolean.showErrorMessage  # Y/N, 已签 … typed in are accepted too


def test_every_yes_no_option_of_the_template_imports(tmp_path):
    from registry.census.template import BOOLEAN_OPTIONS

    rows = parse_rows(tmp_path, ["村", "姓名", "身份证号码", "是否低保"],
                      *[["李家湾", "张三", id_number(sequence=2 * i + 1), option] for i, option in enumerate(BOOLEAN_OPTIONS)])
    assert [row.values["dibao"] for row in rows] == [True, False] * 4 and all(row.ok for row in rows)


def test_empty_template_imports_with_no_rows_and_no_warnings(tmp_path):
    write_template(tmp_path / "template.xlsx")
    census, rows = parse(tmp_path / "template.xlsx")
    assert rows == [] and census.file_warnings == [] and census.unknown_columns == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-5", "'-5"),
        ("@SUM", "'@SUM"),
        ("＝1", "'＝1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        ("  =1", "'  =1"),
        ("\t=1", "'\t=1"),
        ("\u3000=1", "'\u3000=1"),
        ("张三", "张三"),
        ("a=1", "a=1"),
        (None, ""),
        (5.0, "5"),
        (-5.0, "'-5"),
        (1.5, "1.5"),
        (dt.date(2025, 1, 2), "2025-01-02"),
        (dt.datetime(2025, 1, 2), "2025-01-02"),
        (True, "是"),
        ("a\x00b\x1fc", "abc"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_safe_cell_text(value, text):
    assert safe_cell_text(value) == text


def write_rejected(out, headers, rows):
    """The rejected rows of `rows`, as the import writes them."""
    book = RejectedBook(out, headers)
    for row in rows:
        if row.errors:
            book.add(row)
    book.save()


def test_rejected_workbook_has_original_columns_reasons_and_safe_text(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["标题"],
            ["序号", "村", "姓名", "身份证号码", "性别", "备注"],
            [1, "李家湾", "张三", id_number(), "男", "好"],
            [2, "李家湾", '=HYPERLINK("x")', id_number()[:-1] + "0", "女", "+坏"],
            [3, "石龙", "李四", 5.1152919460312e17, None, "－1"],
        ],
    )
    census, rows = parse(path)
    write_rejected(tmp_path / "rejected.xlsx", census.headers, rows)
    sheet = load_workbook(tmp_path / "rejected.xlsx").active
    data = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert data[0] == ["序号", "村", "姓名", "身份证号码", "性别", "备注", REASON_HEADER]
    assert len(data) == 3  # header + the two rejected rows
    assert data[1][:6] == ["2", "李家湾", '\'=HYPERLINK("x")', id_number()[:-1] + "0", "女", "'+坏"]
    assert data[1][6].startswith("【身份证号码】身份证号校验位不符")
    assert data[2][3] == "511529194603120000" and data[2][5] == "'－1"
    assert "身份证号被 Excel 存成了数字" in data[2][6]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value)


def test_rejected_workbook_imports_again_with_the_same_errors(tmp_path):
    header = ["村", "姓名", "身份证号码", "主要赡养人/姓名", "主要赡养人/关系", "是否签订委托照顾协议"]
    path = write_xlsx(tmp_path / "t.xlsx", [header, ["李家湾", "张三", id_number(), "张大", "舅舅", "是"]])
    census, rows = parse(path)
    write_rejected(tmp_path / "rejected.xlsx", census.headers, rows)
    again, again_rows = parse(tmp_path / "rejected.xlsx")
    assert again.unknown_columns == [REASON_HEADER]
    assert [e.message for e in again_rows[0].errors] == [e.message for e in rows[0].errors]


def test_generated_workbook_parses_with_exactly_the_planted_bad_rows(tmp_path):
    stats = write_census_workbook(tmp_path / "g.xlsx", 400, seed=7, bad_ratio=0.25, today=TODAY)
    census, rows = parse(tmp_path / "g.xlsx")
    assert census.unknown_columns == [] and census.file_warnings == []
    assert len(rows) == stats.data_rows
    assert rows[0].row_number == stats.first_data_row
    assert sum(not row.ok for row in rows) == sum(stats.bad_rows.values())
    assert all(stats.bad_rows[kind] for kind in BAD_KINDS)
    assert all(len(row.errors) == 1 for row in rows if not row.ok)


def test_openpyxl_and_fast_writers_produce_the_same_census(tmp_path):
    fast = write_census_workbook(tmp_path / "f.xlsx", 60, seed=3, today=TODAY)
    slow = write_census_workbook(tmp_path / "o.xlsx", 60, seed=3, today=TODAY, writer="openpyxl")
    assert fast == slow
    fast_rows, slow_rows = parse(tmp_path / "f.xlsx")[1], parse(tmp_path / "o.xlsx")[1]
    assert [(r.row_number, r.values, len(r.errors)) for r in fast_rows] == [
        (r.row_number, r.values, len(r.errors)) for r in slow_rows
    ]


def test_generator_cli_with_a_villages_csv(tmp_path, capsys):
    villages = tmp_path / "villages.csv"
    villages.write_text("code,name\n511529100201,红星\n511529100202,向阳村\n", encoding="utf-8")
    out = tmp_path / "bench" / "c.xlsx"
    assert main(["--rows", "50", "--villages-csv", str(villages), "--out", str(out), "--bad-ratio", "0"]) == 0
    assert "wrote" in capsys.readouterr().err
    census, rows = parse(out, today=dt.date.today())
    assert rows and all(row.ok for row in rows)
    assert {row.values["village"] for row in rows} <= {"511529100201", "511529100202", "红星村", "向阳村"}
