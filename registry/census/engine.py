"""The census row pipeline: a spreadsheet in, a stream of checked and normalised rows out.

`open_census` reads the header (see `columns`) and `CensusFile.rows()` streams the data rows,
each with its Excel row number, its original cells, the normalised `values` (Elder field keys;
empty cells are absent so that an update only changes what was filled in) and the problems
found, as errors (the row is rejected whole) or warnings (the row is accepted).

Nothing here touches the database: resolving village names to areas, scope checks and
upserts are the import service's job. Per-row work is kept lean because a county census runs
to 200,000 rows: low-cardinality columns are memoised per distinct cell value.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from eldercare.idnumbers import IDNumberError, ParsedID, parse_id_number

from . import normalize as nz
from .columns import HEADER_SEARCH_ROWS, IGNORED, SERIAL, ColumnPlan, plan_columns
from .reader import DEFAULT_MAX_BYTES, CensusFileError, Table, read_table

__all__ = ["CellIssue", "CensusRow", "CensusFile", "open_census", "MINIMUM_AGE"]

MINIMUM_AGE = 60
# Rows below a line starting with one of these are notes, not data (NFKC-folded: '备注：' → '备注:').
_NOTES_MARKERS = ("合计", "填表说明", "说明", "备注:")
_NOTES_FIRST_CHARS = frozenset(marker[0] for marker in _NOTES_MARKERS)
_MEMO_LIMIT = 20_000


@dataclass(slots=True)
class CellIssue:
    """A problem with one cell, for the preview and the rejected-rows workbook."""

    header: str  # the column header as written in the file ('主要赡养人/姓名' when grouped)
    value: str  # the cell as text
    message: str  # plain Chinese: what is wrong and how to fix it


@dataclass(slots=True)
class CensusRow:
    """One data row of the census sheet after checking."""

    row_number: int  # Excel row number, 1-based
    raw: list  # original cell values, in file column order
    values: dict = field(default_factory=dict)
    errors: list[CellIssue] = field(default_factory=list)
    warnings: list[CellIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the row can be imported (warnings do not stop it)."""
        return not self.errors


Normalizer = Callable[[object], tuple]

# Column kinds: how a normalised cell lands in the row's values.
_SCALAR, _PHONES, _GUARDIAN, _ID, _SEX, _BIRTH, _SURVEYED = range(7)

_NORMALIZERS: dict[str, tuple[Normalizer, bool]] = {
    # key: (normaliser, memoise) — memoise only where values repeat a lot.
    "town": (nz.normalize_town, True),
    "village": (nz.normalize_village, True),
    "village_group": (nz.normalize_group, True),
    "name": (nz.normalize_name, False),
    "sex": (nz.normalize_sex, True),
    "birth_date": (nz.normalize_birth_date, True),
    "ethnicity": (nz.normalize_ethnicity, True),
    "phones": (nz.normalize_phones, False),
    "address": (nz.normalize_text, False),
    "living": (nz.LIVING.normalize, True),
    "health": (nz.HEALTH.normalize, True),
    "self_care": (nz.SELF_CARE.normalize, True),
    "diseases": (nz.normalize_text, True),
    "income_sources": (nz.INCOME_SOURCES.normalize_many, True),
    "monthly_income": (nz.normalize_income, True),
    "dibao": (nz.normalize_bool, True),
    "tekun": (nz.normalize_bool, True),
    "poverty_monitored": (nz.normalize_bool, True),
    "family_doctor": (nz.normalize_bool, True),
    "difficulties": (nz.DIFFICULTIES.normalize_many, True),
    "needs": (nz.normalize_text, True),
    "agreement": (nz.normalize_bool, True),
    "agreement_caregiver": (nz.normalize_name, False),
    "agreement_phone": (nz.normalize_phone, False),
    "cadre": (nz.normalize_text, True),
    "surveyed_by": (nz.normalize_text, True),
    "surveyed_on": (nz.normalize_date, True),
    "notes": (nz.normalize_text, False),
}
_GUARDIAN_NORMALIZERS: dict[str, tuple[Normalizer, bool]] = {
    "name": (nz.normalize_name, False),
    "relation": (nz.RELATIONS.normalize, True),
    "phone": (nz.normalize_phone, False),
    "whereabouts": (nz.normalize_text, True),
}
_KIND_BY_KEY = {"phones": _PHONES, "sex": _SEX, "birth_date": _BIRTH, "surveyed_on": _SURVEYED}

_REQUIRED_HEADERS = {
    "village": "村（也可写作 村(社区)、所属村、村委会、行政村、村居）",
}


def _checked(function: Normalizer) -> Callable[[object], tuple]:
    """Wrap a normaliser to return (value, error, warning) instead of raising."""

    def run(value: object) -> tuple:
        try:
            result, warning = function(value)
        except nz.FieldError as error:
            return None, str(error), None
        return result, None, warning

    return run


def _cell_text(value: object) -> str:
    """A raw cell as text for messages."""
    return nz.to_text(value) if value is not None else ""


def _age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# One planned column: (index, kind, key, slot, run, cache, header). A plain tuple because the
# row loop unpacks it millions of times; `cache` is a per-column memo dict or None.
_Column = tuple


class CensusFile:
    """An opened census sheet: its header and a one-pass stream of checked rows."""

    def __init__(self, table: Table, plan: ColumnPlan, head: list[list], rest: Iterator[list], today: dt.date):
        self._table = table
        self._plan = plan
        self._head = head
        self._rest = rest
        self.today = today
        self.headers: list[str] = plan.headers
        self.unknown_columns: list[str] = plan.unknown_columns
        self.file_warnings: list[str] = plan.file_warnings
        self.sheet_name: str | None = table.sheet_name
        self._columns = self._build_columns(plan)
        self._serial_columns = frozenset(i for i, target in enumerate(plan.targets) if target == SERIAL)

    def _build_columns(self, plan: ColumnPlan) -> list[_Column]:
        columns: list[_Column] = []
        for index, target in enumerate(plan.targets):
            if target in (None, SERIAL, IGNORED):
                continue
            header = plan.headers[index]
            if target == "id_number":
                columns.append((index, _ID, target, 0, self._parse_id, None, header))
                continue
            if target.startswith("guardians."):
                _, slot, part = target.split(".")
                function, memoise = _GUARDIAN_NORMALIZERS[part]
                kind, key, slot_number = _GUARDIAN, part, int(slot)
            else:
                function, memoise = _NORMALIZERS[target]
                kind, key, slot_number = _KIND_BY_KEY.get(target, _SCALAR), target, 0
            columns.append((index, kind, key, slot_number, _checked(function), {} if memoise else None, header))
        return columns

    def _parse_id(self, value: object) -> tuple:
        try:
            return parse_id_number(value, today=self.today), None, None
        except IDNumberError as error:
            return None, str(error), None

    def column_header(self, key: str) -> str:
        """The header as written of the column holding `key` ('' when the sheet has none)."""
        index = self._plan.column_of(key)
        return self._plan.headers[index] if index is not None else ""

    def close(self) -> None:
        """Release the workbook."""
        self._table.close()

    def __enter__(self) -> CensusFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def rows(self) -> Iterator[CensusRow]:
        """Stream the data rows (once), applying the skip rules and the within-file checks."""
        plan = self._plan
        start = plan.data_start
        seen_ids: dict[str, int] = {}
        serial_columns = self._serial_columns
        process = self._process
        rows = chain(self._head[start:], self._rest)
        self._head = []
        for row_number, cells in enumerate(rows, start=start + 1):
            first = None
            has_content = False
            for index, value in enumerate(cells):
                if value is None or value == "":
                    continue
                if value.__class__ is str and (value.isspace() or not value.strip()):
                    continue
                if first is None:
                    first = value
                if index not in serial_columns:
                    has_content = True
                    break
            if first is None:
                continue  # empty row
            if first.__class__ is str and first.lstrip()[:1] in _NOTES_FIRST_CHARS:
                folded = nz.to_text(first)
                if folded.startswith(_NOTES_MARKERS):
                    return  # totals and notes: nothing below is data
            if not has_content:
                continue  # only the 序号 column is filled in
            row = process(row_number, cells)
            number = row.values.get("id_number")
            if number is not None:
                first_row = seen_ids.setdefault(number, row_number)
                if first_row != row_number:
                    row.errors.append(
                        CellIssue(
                            self.column_header("id_number"),
                            _cell_text(cells[plan.column_of("id_number")]),
                            f"与第 {first_row} 行身份证号重复，同一人只能填写一行；请删除重复的行或核对身份证号",
                        )
                    )
            yield row

    def _process(self, row_number: int, cells: list) -> CensusRow:
        values: dict = {}
        errors: list[CellIssue] = []
        warnings: list[CellIssue] = []
        guardians: list[dict] = [{}, {}]
        parsed_id: ParsedID | None = None
        sex_given = birth_given = None
        count = len(cells)
        for index, kind, key, slot, run, cache, header in self._columns:
            if index >= count:
                continue
            value = cells[index]
            if value is None or value == "":
                continue
            if cache is not None:
                # Memoised per distinct value (inline: this loop runs millions of times).
                outcome = cache.get(value)
                if outcome is None:
                    outcome = run(value)
                    if len(cache) < _MEMO_LIMIT:
                        cache[value] = outcome
            else:
                outcome = run(value)
            result, error, warning = outcome
            if error is not None:
                errors.append(CellIssue(header, _cell_text(value), error))
                continue
            if warning is not None:
                warnings.append(CellIssue(header, _cell_text(value), warning))
            if result is None:
                continue
            if kind == _SCALAR:
                values[key] = result
            elif kind == _GUARDIAN:
                guardians[slot][key] = result
            elif kind == _PHONES:
                phones = values.setdefault("phones", [])
                phones.extend(phone for phone in result if phone not in phones)
            elif kind == _ID:
                parsed_id = result
            elif kind == _SEX:
                sex_given = (result, value, header)
            elif kind == _BIRTH:
                birth_given = (result, value, header)
            elif kind == _SURVEYED:
                surveyed, approximate = result
                if surveyed > self.today:
                    errors.append(CellIssue(header, _cell_text(value), "调查日期晚于今天，请核对年份和月份"))
                    continue
                if approximate:
                    warnings.append(CellIssue(header, _cell_text(value), "调查日期只有年月，按当月 1 日记录（近似值）"))
                values["surveyed_on"] = surveyed

        row = CensusRow(row_number, cells, values, errors, warnings)
        self._check_required(row, parsed_id, cells)
        if parsed_id is not None:
            self._apply_id(row, parsed_id, sex_given, birth_given, cells)
        self._apply_guardians(row, guardians)
        if values.get("agreement") is True and "agreement_caregiver" not in values:
            errors.append(
                CellIssue(
                    self.column_header("agreement"),
                    _cell_text(self._cell(cells, "agreement")),
                    "已签订委托照顾协议，但没有填写受托人姓名；请补填受托人，或把协议一栏改为“否”",
                )
            )
        return row

    def _cell(self, cells: list, key: str) -> object:
        index = self._plan.column_of(key)
        return cells[index] if index is not None and index < len(cells) else None

    def _check_required(self, row: CensusRow, parsed_id: ParsedID | None, cells: list) -> None:
        for key, label in (("village", "村"), ("name", "姓名"), ("id_number", "身份证号")):
            present = parsed_id is not None if key == "id_number" else key in row.values
            if present:
                continue
            header = self.column_header(key)
            raw = self._cell(cells, key)
            if _cell_text(raw) and any(issue.header == header for issue in row.errors):
                continue  # filled in but unusable: that cell already carries its own error
            row.errors.append(CellIssue(header, "", f"{label}没有填写，这是必填项"))

    def _apply_id(self, row: CensusRow, parsed: ParsedID, sex_given, birth_given, cells: list) -> None:
        values = row.values
        id_header = self.column_header("id_number")
        id_text = _cell_text(self._cell(cells, "id_number"))
        values["id_number"] = parsed.number
        if parsed.converted_from_15:
            row.warnings.append(
                CellIssue(id_header, id_text, f"15 位老身份证号已自动升级为 18 位：{parsed.number}，请核对")
            )
        if sex_given is not None and sex_given[0] != parsed.sex:
            shown = "男" if parsed.sex == "male" else "女"
            row.errors.append(
                CellIssue(
                    sex_given[2],
                    _cell_text(sex_given[1]),
                    f"性别与身份证号不符：按身份证号应为“{shown}”。请核对身份证号是否录错，或改正性别",
                )
            )
        values["sex"] = parsed.sex
        if birth_given is not None:
            (given, approximate), raw, header = birth_given
            differs = (
                (given.year, given.month) != (parsed.birth_date.year, parsed.birth_date.month)
                if approximate
                else given != parsed.birth_date
            )
            if differs:
                row.warnings.append(
                    CellIssue(
                        header,
                        _cell_text(raw),
                        f"出生日期与身份证号不一致，已按身份证号记录为 {parsed.birth_date.isoformat()}，请核对",
                    )
                )
        values["birth_date"] = parsed.birth_date
        on = values.get("surveyed_on") or self.today
        age = _age_on(parsed.birth_date, on)
        if age < MINIMUM_AGE:
            when = "调查时" if "surveyed_on" in values else "目前"
            row.errors.append(
                CellIssue(
                    id_header,
                    id_text,
                    f"按身份证号，{when}年龄为 {age} 岁，未满 {MINIMUM_AGE} 周岁，不属于留守老年人关爱对象；"
                    "如身份证号录错请改正",
                )
            )

    def _apply_guardians(self, row: CensusRow, guardians: list[dict]) -> None:
        found = []
        for slot, guardian in enumerate(guardians):
            if not guardian:
                continue
            if "name" not in guardian:
                header = next(
                    (self._plan.headers[i] for i, t in enumerate(self._plan.targets) if t == f"guardians.{slot}.name"),
                    "",
                ) or next(
                    (
                        self._plan.headers[i]
                        for i, t in enumerate(self._plan.targets)
                        if t and t.startswith(f"guardians.{slot}.")
                    ),
                    "",
                )
                row.errors.append(
                    CellIssue(header, "", "填写了赡养人的关系、电话或居住地，但没有填写赡养人姓名；请补填姓名")
                )
                continue
            found.append(guardian)
        if found:
            row.values["guardians"] = found


def open_census(
    path: str | os.PathLike,
    *,
    filename: str,
    sheet: str | None = None,
    today: dt.date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **limits: int,
) -> CensusFile:
    """Open a census workbook and read its header; raises `CensusFileError` for unusable files.

    `today` anchors the age check when a row has no survey date, and the "not in the future"
    checks. `limits` passes `max_zip_entries` / `max_inflated_bytes` to the reader.
    """
    table = read_table(path, filename=filename, sheet=sheet, max_bytes=max_bytes, **limits)
    try:
        rows = iter(table)
        head = list(islice(rows, HEADER_SEARCH_ROWS + 1))
        plan = plan_columns(head, table.merged_ranges)
        if plan is None:
            if not any(any(value not in (None, "") for value in row) for row in head):
                raise CensusFileError("工作表是空的，没有找到任何内容。请确认上传的是填好的调查表")
            raise CensusFileError(
                f"在前 {HEADER_SEARCH_ROWS} 行中没有找到表头：表头行需要同时有“姓名”列和“身份证号”列"
                "（也可写作 老人姓名 / 身份证号码、公民身份号码）。请检查表头是否写错，或是否选错了工作表"
            )
        missing = [label for key, label in _REQUIRED_HEADERS.items() if plan.column_of(key) is None]
        if missing:
            raise CensusFileError(f"表头中缺少必填列：{'；'.join(missing)}。请加上这一列后重新导入")
    except BaseException:
        table.close()
        raise
    return CensusFile(table, plan, head, rows, today or dt.date.today())
