"""Excel export helpers of this app.

`safe_cell_text` is a private stand-in for the shared `eldercare.spreadsheets.safe_cell_text`
being written elsewhere; switch to the shared one once it lands.
"""

from io import BytesIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")


def safe_cell_text(value) -> str:
    """Any value as text; a leading formula character is neutralised with an apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


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
