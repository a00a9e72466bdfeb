"""The rejected-rows workbook: the rows staff must fix, as they wrote them, plus the reasons.

It has the file's own columns (headers as written) and a last column `错误原因`, so staff can
correct the cells in place and import the workbook again. Every cell is text and neutralised
against formula injection: the content came from people, not from us.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from eldercare.spreadsheets import safe_cell_text

from .engine import CensusRow

__all__ = ["write_rejected", "REASON_HEADER", "reasons_text"]

REASON_HEADER = "错误原因"


def reasons_text(row: CensusRow) -> str:
    """All reasons a row was rejected, one sentence each: '【身份证号码】…；【性别】…'."""
    parts = []
    for issue in row.errors:
        parts.append(f"【{issue.header}】{issue.message}" if issue.header else issue.message)
    return "；".join(parts)


def write_rejected(out: str | IO[bytes], headers: Sequence[str], rows: Iterable[CensusRow]) -> int:
    """Write the rejected rows (those with errors) to `out` (.xlsx); returns how many were written.

    Rows without errors are skipped, so the whole row stream can be passed in.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("需修改的行")
    width = len(headers)
    bold = Font(bold=True)
    header_cells = []
    for text in (*headers, REASON_HEADER):
        cell = WriteOnlyCell(sheet, value=safe_cell_text(text))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    written = 0
    for row in rows:
        if not row.errors:
            continue
        # Cells beyond the header (an unnamed column) were never read, so they are not kept.
        cells = [safe_cell_text(value) for value in row.raw[:width]]
        cells.extend("" for _ in range(width - len(cells)))
        cells.append(reasons_text(row))
        sheet.append(cells)
        written += 1
    workbook.save(out)
    return written
