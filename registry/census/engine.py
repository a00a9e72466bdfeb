"""The census row pipeline: a spreadsheet in, a stream of checked and normalised rows out.

`open_census` reads the header (see `columns`) and `CensusFile.rows()` streams the data rows,
each with its Excel row number, its original cells, the normalised `values` (Elder field keys;
empty cells are absent so that an update only changes what was filled in) and the problems
found, as errors (the row is rejected whole) or warnings (the row is accepted).

Nothing here touches the database: resolving village names to areas, scope checks and
upserts are the writer's job (writer.py and the modules it names). Per-row work is kept lean because a county census runs
to 200,000 rows: low-cardinality columns are memoised per distinct cell value.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice

from django.utils import timezone

from eldercare.idnumbers import IDNumberError, ParsedID, parse_id_number
from registry.models import ELDER_MINIMUM_AGE, fields_from_id, registration_age_error

from . import normalize as nz
from .columns import HEADER_SEARCH_ROWS, IGNORED, MAX_GUARDIANS, SERIAL, ColumnPlan, plan_columns
from .reader import DEFAULT_MAX_BYTES, CensusFileError, Table, read_table

__all__ = ["CellIssue", "CensusRow", "CensusFile", "open_census", "MINIMUM_AGE"]

MINIMUM_AGE = ELDER_MINIMUM_AGE
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
    raw: tuple  # original cell values, in file column order
    values: dict = field(default_factory=dict)
    # Empty tuples until a first issue: most rows have none, and two lists per row of a county
    # census kept the garbage collector busy (containers that live through a batch are traced
    # again and again; tuples of plain values are not).
    errors: list[CellIssue] | tuple = ()
    warnings: list[CellIssue] | tuple = ()

    @property
    def ok(self) -> bool:
        """True when the row can be imported (warnings do not stop it)."""
        return not self.errors

    def add_error(self, issue: CellIssue) -> None:
        self.errors = [*self.errors, issue]

    def add_warning(self, issue: CellIssue) -> None:
        self.warnings = [*self.warnings, issue]


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
    # Few per village in a real census, one per row in the benchmark's: plain cells cost little either way.
    "cadre": (nz.normalize_text, False),
    "surveyed_by": (nz.normalize_text, False),
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


class _Problem:
    """A checked cell that has an error (and no value) or warnings (and its value). Rare: a column
    of clean cells is just its values, and a chunk is searched for problems only when it has one."""

    __slots__ = ("result", "errors", "warnings")

    def __init__(self, result: object, errors: tuple = (), warnings: tuple = ()):
        self.result, self.errors, self.warnings = result, errors, warnings


def _checked(function: Normalizer) -> Callable[[object], object]:
    """Wrap a normaliser: a cell → its value (None when empty) or a _Problem, never an exception."""

    def run(value: object) -> object:
        if value is None or value == "":
            return None
        try:
            result, warning = function(value)
        except nz.FieldError as error:
            return _Problem(None, (str(error),))
        return result if warning is None else _Problem(result, (), (warning,))

    return run


class _Memo(dict):
    """A column's checked cells by cell value, for columns whose values repeat (villages, yes/no,
    vocabularies): a chunk's column is then looked up by map() in C. `problems` holds the values
    that gave a _Problem, so that a chunk without any is not searched."""

    def __init__(self, run: Callable[[object], object]):
        super().__init__()
        self.run = run
        self.problems: set = set()

    def __missing__(self, value: object) -> object:
        outcome = self.run(value)
        if outcome.__class__ is _Problem:
            self.problems.add(value)
        if len(self) < _MEMO_LIMIT:
            self[value] = outcome
        return outcome


def _parts_by_row(parts: list[tuple[str, list]], rows: int) -> list[dict | None]:
    """Per row, {part: value} of the given columns' filled-in cells, or None when none is."""
    if not parts:
        return [None] * rows
    names = [part for part, _ in parts]
    return [{name: value for name, value in zip(names, values, strict=True) if value is not None} or None
            for values in zip(*(results for _, results in parts), strict=True)]


def _cell_text(value: object) -> str:
    """A raw cell as text for messages."""
    return nz.to_text(value) if value is not None else ""


# One planned column: (index, kind, key, slot, check, memo, plain, header); `check` maps a cell to
# its value or a _Problem, and is the _Memo's __getitem__ for the columns whose values repeat;
# `plain` (normalize.PLAIN_CELLS, for the other columns) says which cells are their own value.
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
        self._width = max(column[0] for column in self._columns) + 1
        self._serial_columns = frozenset(i for i, target in enumerate(plan.targets) if target == SERIAL)
        # The first column of each key, as plan.column_of finds it (a list search: not per row).
        self._index_of: dict[str, int] = {}
        for index, target in enumerate(plan.targets):
            self._index_of.setdefault(target, index)
        self._id_header = self.column_header("id_number")

    def _build_columns(self, plan: ColumnPlan) -> list[_Column]:
        columns: list[_Column] = []
        for index, target in enumerate(plan.targets):
            if target in (None, SERIAL, IGNORED):
                continue
            header = plan.headers[index]
            if target == "id_number":
                columns.append((index, _ID, target, 0, self._parse_id, None, None, header))
                continue
            if target.startswith("guardians."):
                _, slot, part = target.split(".")
                function, memoise = _GUARDIAN_NORMALIZERS[part]
                kind, key, slot_number = _GUARDIAN, part, int(slot)
            else:
                function, memoise = _NORMALIZERS[target]
                kind, key, slot_number = _KIND_BY_KEY.get(target, _SCALAR), target, 0
            check = _checked(self._surveyed if kind == _SURVEYED else function)
            memo = _Memo(check) if memoise else None
            plain = None if memoise or kind == _SURVEYED else nz.PLAIN_CELLS.get(function)
            columns.append((index, kind, key, slot_number, memo.__getitem__ if memo is not None else check, memo, plain,
                            header))
        return columns

    def _parse_id(self, value: object) -> object:
        if value is None or value == "":
            return None
        try:
            return parse_id_number(value, today=self.today)
        except IDNumberError as error:
            return _Problem(None, (str(error),))

    def _surveyed(self, value: object) -> tuple:
        """The survey date, refused when after `today`, with a warning when only a month is given."""
        result, _ = nz.normalize_date(value)  # it never warns
        if result is None:
            return None, None
        surveyed, approximate = result
        if surveyed > self.today:
            raise nz.FieldError("调查日期晚于今天，请核对年份和月份")
        return surveyed, "调查日期只有年月，按当月 1 日记录（近似值）" if approximate else None

    def column_header(self, key: str) -> str:
        """The header as written of the column holding `key` ('' when the sheet has none)."""
        index = self._index_of.get(key)
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
        for chunk in self.chunks():
            yield from chunk

    def chunks(self, size: int = 2000) -> Iterator[list[CensusRow]]:
        """The data rows (once) in lists of up to `size`, each list checked column by column."""
        seen_ids: dict[str, int] = {}
        pending: list[tuple[int, list]] = []
        for numbered in self._data_rows():
            pending.append(numbered)
            if len(pending) >= size:
                yield self._check(pending, seen_ids)
                pending = []
        if pending:
            yield self._check(pending, seen_ids)

    def _data_rows(self) -> Iterator[tuple[int, list]]:
        """(Excel row number, cells) of the rows below the header that hold data: empty rows and
        rows with only the 序号 filled in are skipped, and a totals or notes row ends the table."""
        start = self._plan.data_start
        serial_columns = self._serial_columns
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
            yield row_number, cells

    def _check(self, numbered: list[tuple[int, list]], seen_ids: dict[str, int]) -> list[CensusRow]:
        """Check a chunk of rows column by column — each column's cells through its normaliser in
        one pass, or through its memo by map() in C — then put each row together."""
        width = self._width
        padded = [cells if len(cells) >= width else (*cells, *(None,) * (width - len(cells))) for _, cells in numbered]
        cells_by_column = list(zip(*padded, strict=False))  # rows may run past the planned columns
        scalars: list[tuple[str, list]] = []
        phones: list[list] = []
        guardians: list[tuple[int, str, list]] = []
        given: dict[int, list[tuple[list, tuple, str]]] = {_SEX: [], _BIRTH: []}
        ids: list = [None] * len(numbered)
        problems: dict[int, list[tuple[_Problem, object, str]]] = defaultdict(list)  # row → in column order
        for index, kind, key, slot, check, memo, plain, header in self._columns:
            cells = cells_by_column[index]
            if plain is None:
                results = list(map(check, cells))
            elif kind == _PHONES:
                results = [[cell] if cell.__class__ is str and plain(cell) else check(cell) for cell in cells]
            else:
                results = [cell if cell.__class__ is str and plain(cell) else check(cell) for cell in cells]
            if (not memo.problems.isdisjoint(cells)) if memo is not None else _Problem in map(type, results):
                for position, result in enumerate(results):
                    if result.__class__ is _Problem:
                        problems[position].append((result, cells[position], header))
                        results[position] = result.result
            if kind == _SCALAR or kind == _SURVEYED:
                scalars.append((key, results))
            elif kind == _GUARDIAN:
                guardians.append((slot, key, results))
            elif kind == _PHONES:
                phones.append(results)
            elif kind == _ID:
                ids = results
            else:  # sex, birth date: checked against the ID number
                given[kind].append((results, cells, header))

        keys = [key for key, _ in scalars]  # never empty: the name column is one
        # Each guardian slot's cells, row by row: {part: value} of those filled in.
        slots = [_parts_by_row([(part, results) for slot, part, results in guardians if slot == number], len(numbered))
                 for number in range(MAX_GUARDIANS)]
        checked = []
        by_row = zip(*(results for _, results in scalars), strict=True)
        for position, ((row_number, cells), row_values) in enumerate(zip(numbered, by_row, strict=True)):
            values = {key: value for key, value in zip(keys, row_values, strict=True) if value is not None}
            errors: list[CellIssue] | tuple = ()
            warnings: list[CellIssue] | tuple = ()
            if position in problems:
                for problem, raw, header in problems[position]:
                    text = _cell_text(raw)
                    errors = [*errors, *(CellIssue(header, text, message) for message in problem.errors)]
                    warnings = [*warnings, *(CellIssue(header, text, message) for message in problem.warnings)]
            for results in phones:
                found = results[position]
                if found is not None:
                    merged = values.get("phones")
                    if merged is None:
                        values["phones"] = list(dict.fromkeys(found))
                    else:
                        merged.extend(phone for phone in found if phone not in merged)
            row = CensusRow(row_number, cells, values, errors, warnings)
            parsed_id = ids[position]
            if parsed_id is None or "village" not in values or "name" not in values:
                self._check_required(row, parsed_id, cells)
            if parsed_id is not None:
                self._apply_id(row, parsed_id, self._given(given[_SEX], position),
                               self._given(given[_BIRTH], position), cells)
            row_guardians = [slot_rows[position] for slot_rows in slots]
            if any(row_guardians):
                self._apply_guardians(row, row_guardians)
            if values.get("agreement") is True and "agreement_caregiver" not in values:
                row.add_error(
                    CellIssue(
                        self.column_header("agreement"),
                        _cell_text(self._cell(cells, "agreement")),
                        "已签订委托照顾协议，但没有填写受托人姓名；请补填受托人，或把协议一栏改为“否”",
                    )
                )
            number = values.get("id_number")
            if number is not None:
                first_row = seen_ids.setdefault(number, row_number)
                if first_row != row_number:
                    row.add_error(
                        CellIssue(
                            self._id_header,
                            _cell_text(self._cell(cells, "id_number")),
                            f"与第 {first_row} 行身份证号重复，同一人只能填写一行；请删除重复的行或核对身份证号",
                        )
                    )
            checked.append(row)
        return checked

    @staticmethod
    def _given(columns: list[tuple[list, tuple, str]], position: int) -> tuple | None:
        """(value, cell, header) of the last column of a kind filled in on the row, or None."""
        found = None
        for results, cells, header in columns:
            if results[position] is not None:
                found = (results[position], cells[position], header)
        return found

    def _cell(self, cells: list, key: str) -> object:
        index = self._index_of.get(key)
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
            row.add_error(CellIssue(header, "", f"{label}没有填写，这是必填项"))

    def _apply_id(self, row: CensusRow, parsed: ParsedID, sex_given, birth_given, cells: list) -> None:
        values = row.values
        id_header = self._id_header
        values.update(fields_from_id(parsed))  # the model's own rule: ID number, sex, birth date
        if parsed.converted_from_15:
            row.add_warning(
                CellIssue(id_header, _cell_text(self._cell(cells, "id_number")),
                          f"15 位老身份证号已自动升级为 18 位：{parsed.number}，请核对")
            )
        if sex_given is not None and sex_given[0] != parsed.sex:
            shown = "男" if parsed.sex == "male" else "女"
            row.add_error(
                CellIssue(
                    sex_given[2],
                    _cell_text(sex_given[1]),
                    f"性别与身份证号不符：按身份证号应为“{shown}”。请核对身份证号是否录错，或改正性别",
                )
            )
        if birth_given is not None:
            (given, approximate), raw, header = birth_given
            differs = (
                (given.year, given.month) != (parsed.birth_date.year, parsed.birth_date.month)
                if approximate
                else given != parsed.birth_date
            )
            if differs:
                row.add_warning(
                    CellIssue(
                        header,
                        _cell_text(raw),
                        f"出生日期与身份证号不一致，已按身份证号记录为 {parsed.birth_date.isoformat()}，请核对",
                    )
                )
        on = values.get("surveyed_on") or self.today
        error = registration_age_error(parsed.birth_date, on, "调查时" if "surveyed_on" in values else "目前")
        if error:
            row.add_error(CellIssue(id_header, _cell_text(self._cell(cells, "id_number")), error))

    def _apply_guardians(self, row: CensusRow, guardians: list[dict | None]) -> None:
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
                row.add_error(
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
    return CensusFile(table, plan, head, rows, today or timezone.localdate())
