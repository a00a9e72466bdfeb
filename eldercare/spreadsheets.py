"""Spreadsheet safety shared by every export: cell text that Excel/WPS will never run as a formula.

Exports write person-supplied text (names, notes, addresses) into .xlsx cells. A value that
starts with `=`, `+`, `-` or `@` — or their full-width forms, which WPS and Excel both accept —
is treated as a formula by the spreadsheet program (formula / DDE injection). Every such value
is written as text with a leading apostrophe, the conventional "this is text" marker.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.utils import timezone

__all__ = ["FORMULA_TRIGGERS", "Sheet", "plain_text", "safe_cell_text", "xlsx_response"]

FORMULA_TRIGGERS = frozenset("=+-@＝＋－＠")

# XML 1.0 forbids these control characters; openpyxl raises IllegalCharacterError on them and
# a CSV upload can contain them, so they are dropped rather than failing the whole export.
_ILLEGAL_XML_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def plain_text(value: object) -> str:
    """The text a person would expect to see for a cell value (是/否, 3 not 3.0, dates in ISO)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):  # a moment from the database: written in the people's time zone
            value = timezone.localtime(value).replace(tzinfo=None)
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def safe_cell_text(value: object) -> str:
    """Return `value` as cell text that cannot be interpreted as a formula.

    Text starting with = + - @ (half- or full-width), also after leading whitespace, is
    prefixed with an apostrophe. Illegal XML control characters are removed.
    """
    text = plain_text(value)
    if not text:
        return text
    if _ILLEGAL_XML_RE.search(text):
        text = _ILLEGAL_XML_RE.sub("", text)
    stripped = text.lstrip()
    if stripped and stripped[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Sheet:
    """One worksheet of an export: a title, a header row and the rows (any iterable, read once)."""

    def __init__(self, title: str, header, rows):
        self.title, self.header, self.rows = title, header, rows
        self.count = 0  # data rows written, known once the workbook is written


def xlsx_response(filename: str, sheets: list[Sheet]):
    """THE export helper: an .xlsx download of `sheets`, every cell formula-safe text.

    Rows are written one at a time (openpyxl's write-only mode keeps each sheet in a temporary
    file, not in memory) and the finished file is streamed to the client in blocks, so a
    county-wide export uses the same memory as a village's. Pass querysets as `.iterator()`
    generators. After the call each `Sheet.count` holds its number of rows (for the access record).
    """
    import tempfile

    from django.http import FileResponse
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(title=sheet.title[:31])
        worksheet.append([safe_cell_text(value) for value in sheet.header])
        for row in sheet.rows:
            worksheet.append([safe_cell_text(value) for value in row])
            sheet.count += 1
    stream = tempfile.TemporaryFile()  # removed by the OS once the response closes it
    workbook.save(stream)
    stream.seek(0)
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
