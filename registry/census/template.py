"""The downloadable census template, and `format_row` — values back to the template's cell texts.

The template's header row is `CENSUS_COLUMNS` in order (`主要赡养人/姓名` style titles for grouped
columns); the ledger export writes rows under the same titles with `format_row`, so an exported
ledger imports back unchanged: `parse(format_row(values)) == values`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from eldercare.spreadsheets import safe_cell_text
from registry.choices import ETHNICITIES

from . import normalize as nz
from .columns import CENSUS_COLUMNS, CensusColumn

__all__ = ["format_row", "write_template", "TEMPLATE_SHEET", "TEMPLATE_ROWS"]

TEMPLATE_SHEET = "调查表"
OPTIONS_SHEET = "选项"
TEMPLATE_ROWS = 2000  # rows pre-formatted and validated in the template

_VOCABULARIES: dict[str, nz.Vocabulary] = {
    "sex": nz.SEXES,
    "living": nz.LIVING,
    "health": nz.HEALTH,
    "self_care": nz.SELF_CARE,
    "income_sources": nz.INCOME_SOURCES,
    "difficulties": nz.DIFFICULTIES,
    "relation": nz.RELATIONS,
}
_MULTI_VALUED = frozenset({"income_sources", "difficulties"})  # several values, "、"-separated
_BOOLEANS = frozenset({"dibao", "tekun", "poverty_monitored", "family_doctor", "agreement"})


def _part(key: str) -> str:
    """'guardians.0.relation' → 'relation'; other keys unchanged."""
    return key.rsplit(".", 1)[-1] if key.startswith("guardians.") else key


def _lookup(values: dict, key: str) -> object:
    if key.startswith("guardians."):
        _, slot, part = key.split(".")
        guardians = values.get("guardians") or []
        index = int(slot)
        return guardians[index].get(part) if index < len(guardians) else None
    return values.get(key)


def _format_value(key: str, value: object) -> str:
    part = _part(key)
    if value is None:
        return ""
    if part in _BOOLEANS:
        return "是" if value else "否"
    if part in _MULTI_VALUED:
        return "、".join(_VOCABULARIES[part].labels[item] for item in value)
    if part in _VOCABULARIES:
        return _VOCABULARIES[part].labels[value]
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def format_row(values: dict) -> list[str]:
    """Cell texts, in `CENSUS_COLUMNS` order, for a values dict as the census parser returns it.

    Texts are spreadsheet-safe (`safe_cell_text`); the parser undoes the protective apostrophe.
    """
    return [safe_cell_text(_format_value(column.key, _lookup(values, column.key))) for column in CENSUS_COLUMNS]


_INSTRUCTIONS = (
    "农村留守老年人基本情况调查表 填写说明",
    "",
    "1. 请在“调查表”工作表中每行填写一位老人，不要修改、删除或调换表头；表头上方可以加标题行。",
    "2. 带红色表头的列必须填写：村（社区）、姓名、身份证号码。其余各列有就填，不清楚的留空。",
    "3. 身份证号码请填 18 位（最后一位可以是 X）。该列已设为文本格式；如从别处粘贴，"
    "请先把该列设置为“文本”，否则 Excel 会把号码变成 5.11529E+17 这样的数字，后几位会丢失。",
    "4. 性别、出生日期可不填，系统按身份证号自动识别；填了但与身份证号不符时会提示。",
    "5. 只登记调查时已满 60 周岁的老人。",
    "6. 村（社区）填村名（如“李家湾村”）或 12 位村级区划代码；村民小组填“3”“三组”“第3组”均可。",
    "7. 日期可写成 1946-03-12、1946/3/12、1946年3月12日 或 19460312；只知道年月时写 1946年3月。",
    "8. 联系电话：手机 11 位；固定电话带区号，如 0831-1234567；多个号码用顿号“、”分隔。",
    "9. 带下拉箭头的列请从下拉列表中选择。“主要经济来源”“主要困难”可填多项，用顿号“、”分隔，如“养老金、子女供养”。",
    "10. 是/否 类的列可从下拉列表选择，也可以填 有/无、√/×、1/0、Y/N、已签/未签。",
    "11. 签订了委托照顾协议的，必须填写受托人姓名。",
    "12. 表格最下方的“合计”“填表说明”“说明”“备注：”开头的行及其以下各行不会导入。",
    "13. 同一个身份证号只能出现一次；已登记的老人再次导入时，只更新填写了内容的单元格。",
)


# The yes/no spellings the 说明 sheet promises (normalize.normalize_bool reads them all).
BOOLEAN_OPTIONS = ["是", "否", "有", "无", "√", "×", "1", "0"]


def _options_sheet(workbook: Workbook, towns: list[str], villages: list[str]) -> dict[str, str]:
    """A hidden sheet of dropdown lists, one column each under its Chinese title; returns list
    name → absolute range formula."""
    sheet = workbook.create_sheet(OPTIONS_SHEET)
    sheet.sheet_state = "hidden"
    lists: dict[str, tuple[str, list[str]]] = {
        name: (vocabulary.title, list(vocabulary.labels.values())) for name, vocabulary in _VOCABULARIES.items()}
    lists["boolean"] = ("是/否", BOOLEAN_OPTIONS)
    lists["ethnicity"] = ("民族", list(ETHNICITIES))
    lists["town"] = ("乡镇", towns)
    lists["village"] = ("村（社区）", villages)
    ranges: dict[str, str] = {}
    for column_number, (name, (title, items)) in enumerate(lists.items(), start=1):
        if not items:
            continue
        letter = get_column_letter(column_number)
        sheet.cell(row=1, column=column_number, value=title)
        for row_number, item in enumerate(items, start=2):
            sheet.cell(row=row_number, column=column_number, value=item).number_format = "@"
        ranges[name] = f"{quote_sheetname(OPTIONS_SHEET)}!${letter}$2:${letter}${len(items) + 1}"
    return ranges


def _list_name(column: CensusColumn) -> str | None:
    part = _part(column.key)
    if part in _BOOLEANS:
        return "boolean"
    if part in _VOCABULARIES or part in ("ethnicity", "town", "village"):
        return part
    return None


# Lists that offer choices but take what is typed: several values ("养老金、子女供养"), names
# outside the list (a minority's own name), other spellings (Y/N, 已签), a village's code.
_OPEN_LISTS = frozenset({"income_sources", "difficulties", "ethnicity", "boolean", "town", "village"})


def write_template(out: str | IO[bytes], *, towns: list[str] = (), villages: list[str] = ()) -> None:
    """Write the census template (.xlsx) to a path or binary file object; `towns` and `villages`
    (the downloading user's own) become the 乡镇 and 村（社区） dropdowns."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = TEMPLATE_SHEET
    ranges = _options_sheet(workbook, list(towns), list(villages))

    header_font = Font(bold=True)
    required_font = Font(bold=True, color="C00000")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    last_row = TEMPLATE_ROWS + 1
    for number, column in enumerate(CENSUS_COLUMNS, start=1):
        letter = get_column_letter(number)
        cell = sheet.cell(row=1, column=number, value=column.title)
        cell.font = required_font if column.required else header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.required:
            cell.comment = Comment("必填", "eldercare")
        sheet.column_dimensions[letter].width = 20 if column.text_format else max(10, len(column.title) * 2 + 2)
        if column.text_format:
            # Text format stops Excel from turning an 18-digit ID into 5.11529E+17.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, last_row + 1):
                sheet.cell(row=row, column=number).number_format = "@"
        list_name = _list_name(column)
        if list_name in ranges:
            validation = DataValidation(
                type="list",
                formula1=ranges[list_name],
                allow_blank=True,
                showErrorMessage=list_name not in _OPEN_LISTS,
                errorTitle="请从下拉列表中选择",
                error="请从下拉列表中选择，或留空",
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 32

    notes = workbook.create_sheet("说明")
    notes.column_dimensions["A"].width = 120
    for row, text in enumerate(_INSTRUCTIONS, start=1):
        cell = notes.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = Font(bold=True, size=14)
    # Keep the data sheet first: the importer reads the first visible sheet.
    workbook.move_sheet(OPTIONS_SHEET, offset=1)
    workbook.active = 0
    workbook.save(out)
