"""Excel export helpers of this app (cells go through the shared formula-safe text)."""

from io import BytesIO

from eldercare.spreadsheets import safe_cell_text


def workbook_bytes(title: str, header: list, rows) -> bytes:
    """A one-sheet .xlsx whose every cell is a text cell."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([safe_cell_text(h) for h in header])
    for row in rows:
        sheet.append([safe_cell_text(v) for v in row])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
