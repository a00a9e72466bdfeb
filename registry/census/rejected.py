"""The rejected-rows workbook: the rows staff must fix, as they wrote them, plus the reasons.

It has the file's own columns (headers as written) and a last column `错误原因`, so staff can
correct the cells in place and import the workbook again. Every cell is text and neutralised
against formula injection: the content came from people, not from us. Written row by row
(openpyxl's write-only mode streams to disk), by the preview and by the import alike.
"""

from __future__ import annotations

from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from eldercare.spreadsheets import safe_cell_text

from .engine import CensusRow

__all__ = ["REASON_HEADER", "RejectedBook", "reasons_text"]

REASON_HEADER = "错误原因"


def reasons_text(row: CensusRow) -> str:
    """All reasons a row was rejected, one sentence each: '【身份证号码】…；【性别】…'."""
    return "；".join(f"【{issue.header}】{issue.message}" if issue.header else issue.message for issue in row.errors)


class RejectedBook:
    """The rejected-rows workbook, written as the rows are found: `add(row)`, then `save()`."""

    def __init__(self, out: str | IO[bytes], headers: list[str]):
        self.out = out
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("需修改的行")
        self.width = len(headers)
        bold = Font(bold=True)
        cells = []
        for text in (*headers, REASON_HEADER):
            cell = WriteOnlyCell(self.sheet, value=safe_cell_text(text))
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)
        self.count = 0

    def add(self, row: CensusRow) -> None:
        # Cells beyond the header (an unnamed column) were never read, so they are not kept.
        cells = [safe_cell_text(value) for value in row.raw[: self.width]]
        cells.extend("" for _ in range(self.width - len(cells)))
        cells.append(reasons_text(row))
        self.sheet.append(cells)
        self.count += 1

    def save(self) -> None:
        self.workbook.save(self.out)
