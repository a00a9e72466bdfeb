"""The one .xlsx reader: a worksheet streamed row by row, whatever its size and whoever wrote it.

Every .xlsx upload, of any size, is read here (python-calamine reads legacy .xls only: it builds
the whole sheet in memory, 522 MB for a 200,000 × 38 census). The worksheet part is inflated in
chunks and cut at the last `</row>`; each chunk of whole rows is tokenised by regular expressions
that run in C: one finds the rows, one finds each row's cells with their `r`, `s` and `t`
attributes in any order, and the cell's value is taken from its `<v>` or, for an inline string,
from the `<t>` runs of its `<is>`. That is the whole grammar of the `sheetData` element (ECMA-376
Part 1, 18.3.1), with or without a namespace prefix, so there is one way through for every file:

| `t=` | value                                                            |
|------|------------------------------------------------------------------|
| `s`  | the shared string (rich-text runs joined, phonetic guides left out) |
| `inlineStr` | the `<is>` text, the same way                           |
| `str` | the formula's cached text                                       |
| `n` or none | float; a date or datetime when the cell's style is a date format |
| `b`  | True / False                                                      |
| `d`  | an ISO 8601 date → date, or datetime when it has a time           |
| `e`  | '' (an error such as #N/A holds no value)                         |

Rows come out as tuples of values from column A ('' for a cell with no value), row 1 first, an
empty tuple for a row with no cells (tuples of plain values: the garbage collector stops tracing
them at its first pass). Text is the XML's text: entities and character references
decoded, CR LF folded to LF as XML requires.

Safety: the package has passed reader._check_xlsx_package (entry count, declared sizes) first.
Here the bytes a part really inflates to are counted (SheetTooLarge "inflated"), every row's
number and width is checked (SheetTooLarge "extents"), no row may hold more than _MAX_ROW_BYTES,
a DTD is refused (UnsafeXML) and an entity other than XML's five is an error, a cell the tokeniser
cannot read is an error, and the sheet must end with `</worksheet>`: a damaged file is refused,
never read in part.

The import runs the parsing in a child process (ChildReader: this file run as a script, with the
standard library and defusedxml only), so that it takes the machine's other core while the import
checks and writes rows; the rows come back pickled through a pipe. Where no process can be started
the same `StreamingSheet.rows()` runs in the caller's process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import posixpath
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from functools import cached_property
from html import unescape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

try:
    import fcntl  # the 1 MB pipe for the reader process; Linux only, the rows come without it too
except ImportError:  # pragma: no cover
    fcntl = None

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CHUNK = 4 * 1024 * 1024
_MAX_ROW_BYTES = 64 * 1024 * 1024
_DECODED_CELLS = 50_000  # inline strings with references kept decoded, per sheet read
# Built-in number formats that are dates or times (ECMA-376 18.8.30).
_DATE_BUILTINS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_DATE_CODE_RE = re.compile(r"[dmyhs]")
_QUOTED_RE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')

# --- the tokeniser ---------------------------------------------------------------------------
# An optional namespace prefix ('x:c' as the Open XML SDK writes), and an attribute's value in
# either quote.
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_Q = rb"""["']"""


def _attribute(name: bytes, value: bytes) -> bytes:
    """A lookahead capturing an attribute of the element whose name has just been matched, when
    present, wherever it stands among the others (it always succeeds)."""
    return rb"(?=(?:[^>]*?\s" + name + rb"\s*=\s*" + _Q + value + _Q + rb")?)"


# One token per row start or cell, found by one findall over a chunk of whole rows. Groups:
#  1, 2 a row starts ('row'), and its number ('' when it has none);
#  3–5 a cell's column letters, style and type: as Excel, WPS, openpyxl and xlsxwriter write
#      them (`<c r="B7" s="1" t="s">`, each optional, in this order),
#  6–8 or the same in any order, with other attributes, spacing or quotes (tried when 3–5 fail);
#  9 its value when it is plain (`<v>42</v>` alone, nothing to decode),
#  10 or its inline string of one run (`<is><t>…</t></is>`, as openpyxl writes text), or
#  11 whatever else it holds (a formula and its cached value, rich text, entities);
#  12 a row or cell start that none of the above could read: the file is refused.
# Every token starts with '<' and a prefix, outside any group, so that the regex engine skips to
# the next '<' in C; a cell's end tag tries the unprefixed name first.
_TAG_END = rb"(?=[\s/>])"
_NOT_A_START = rb"(?!<" + _P + rb"(?:c|row)" + _TAG_END + rb")"
_CELL_END = rb"</(?:c|[A-Za-z_][\w.-]*:c)\s*>"
_TOKEN_RE = re.compile(
    rb"<" + _P + rb"(?:(row)" + _TAG_END + _attribute(b"r", rb"([0-9]+)") + rb"[^>]*>"
    + rb"|c" + _TAG_END
    + rb"(?:(?:\sr=\"([A-Z]{1,3})[0-9]+\")?(?:\ss=\"([0-9]+)\")?(?:\st=\"([A-Za-z]+)\")?\s*(?=/?>)"
    + rb"|" + _attribute(b"r", rb"([A-Z]{1,3})[0-9]*") + _attribute(b"s", rb"([0-9]+)")
    + _attribute(b"t", rb"([A-Za-z]+)") + rb"[^>]*?)"
    + rb"(?:/>|>(?:<v>([^<&\r]*)</v>|<is><t(?: xml:space=\"preserve\")?>([^<\r]*)</t></is>)?" + _CELL_END
    + rb"|>((?:" + _NOT_A_START + rb".)*?)" + _CELL_END + rb")"
    + rb"|(c|row)" + _TAG_END + rb")", re.S)
_VALUE_RE = re.compile(rb"<" + _P + rb"v(?:\s[^>]*)?>(.*?)</" + _P + rb"v\s*>", re.S)
_INLINE_RE = re.compile(rb"<" + _P + rb"is(?:\s[^>]*)?>(.*?)</" + _P + rb"is\s*>", re.S)
# Text runs: `<t>` elements outside phonetic guides (`<rPh>`, whose text is a reading, not the value).
_PHONETIC_RE = re.compile(rb"<" + _P + rb"rPh\b.*?</" + _P + rb"rPh\s*>", re.S)
_TEXT_RE = re.compile(rb"<" + _P + rb"t(?:\s[^>]*)?(?:/>|>(.*?)</" + _P + rb"t\s*>)", re.S)
_CDATA_RE = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.S)
_ENTITY_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)")
_ROW_START_RE = re.compile(rb"<" + _P + rb"row" + _TAG_END)
# Shared strings: a plain entry (one run, nothing to decode) in group 1, anything else in group 2,
# an entry start neither could read in group 3.
_SHARED_RE = re.compile(
    rb"<" + _P + rb"si(?:\s[^>]*)?(?:/>|>(?:<t(?: xml:space=\"preserve\")?>([^<&\r]*)</t>(?=</si>)"
    rb"|((?:(?!<" + _P + rb"si" + _TAG_END + rb").)*?))</" + _P + rb"si\s*>)|(<)" + _P + rb"si" + _TAG_END, re.S)
_SHARED_START_RE = re.compile(rb"<" + _P + rb"si" + _TAG_END)


class UnsafeXML(ValueError):
    """The XML declares a DTD or entities: never in a genuine workbook."""


class SheetTooLarge(Exception):
    """The sheet inflates past its byte limit ("inflated") or has a value beyond the row or
    column limit ("extents"); str() says which."""


class SheetNotFound(LookupError):
    """No worksheet of the wanted name; `names` lists the workbook's worksheets."""

    def __init__(self, names: list[str]):
        super().__init__(names)
        self.names = names


class NoVisibleSheet(LookupError):
    """Every worksheet of the workbook is hidden."""


def column_index(letters: str) -> int:
    """'A' → 0, 'AL' → 37."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _text(xml: bytes) -> str:
    """Character data as XML defines it: CDATA kept verbatim, the five entities and character
    references decoded (any other entity would need a DTD: refused), line ends folded to LF."""
    if b"<![CDATA[" in xml:
        parts = _CDATA_RE.split(xml)  # text, cdata, text, cdata … : decode the text parts only
        return "".join(part.decode() if index % 2 else _text(part) for index, part in enumerate(parts))
    text = xml.decode()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        if _ENTITY_RE.search(text):
            raise ValueError("an entity other than XML's own")
        text = unescape(text)
    return text


def _runs(xml: bytes) -> str:
    """The text of a string item (`<si>` or `<is>`): its `<t>` runs joined, phonetic guides left out."""
    if b"rPh" in xml:
        xml = _PHONETIC_RE.sub(b"", xml)
    return "".join(_text(run) for run in _TEXT_RE.findall(xml))


def _is_date_format(code: str) -> bool:
    code = _QUOTED_RE.sub("", code).lower()
    return bool(_DATE_CODE_RE.search(code)) and "general" not in code


def _date_styles(archive: zipfile.ZipFile, name: str | None) -> frozenset[int]:
    """Indices of cellXfs whose number format is a date or time."""
    if not name:
        return frozenset()
    root = SafeET.fromstring(_read_part(archive, name))
    ns = "{" + _NS_MAIN + "}"
    custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in root.iter(ns + "numFmt")}
    xfs = root.find(ns + "cellXfs")
    found = set()
    for index, xf in enumerate(xfs if xfs is not None else ()):
        fmt = int(xf.get("numFmtId", "0"))
        if fmt in _DATE_BUILTINS or (fmt in custom and _is_date_format(custom[fmt])):
            found.add(index)
    return frozenset(found)


def _read_part(archive: zipfile.ZipFile, name: str, limit: int = 8 * 1024 * 1024) -> bytes:
    with archive.open(name) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise SheetTooLarge("inflated")
    return data


def _excel_date(serial: float, date1904: bool) -> dt.date | dt.datetime:
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    if not date1904 and serial < 60:
        serial += 1  # Excel's phantom 1900-02-29
    value = base + dt.timedelta(days=serial)
    value = value.replace(microsecond=round(value.microsecond / 1000) * 1000 % 1_000_000) if value.microsecond else value
    if value.hour == value.minute == value.second == 0 and not value.microsecond:
        return value.date()
    return value


def _iso_date(text: str) -> dt.date | dt.datetime:
    """A `t="d"` cell: ISO 8601 (ECMA-376 18.17.4) → a date, or a datetime when it has a time of
    day, as a date-formatted number cell gives."""
    value = dt.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
    return value.date() if value.time() == dt.time() else value


class _Counted:
    """A stream that refuses to give more than `limit` bytes in all (0: no limit): the bytes a
    zip member really inflates to, whatever its header claims."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.total = stream, limit, 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        if self.limit and self.total > self.limit:
            raise SheetTooLarge("inflated")
        return data


def _check_prolog(head: bytes) -> None:
    """A DTD (`<!DOCTYPE`, entity declarations) may only stand before the root element; the
    tokeniser skips that part, so it is looked for here."""
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeXML("DTD")


def _last_end(data: bytes, name: bytes) -> int:
    """Where the last `</name>` end tag (any prefix) in `data` ends, or -1."""
    closing = name + b">"
    at = data.rfind(closing)
    while at > 0:
        opening = data.rfind(b"</", 0, at)
        if opening >= 0 and _PREFIX_ONLY_RE.fullmatch(data, opening + 2, at):
            return at + len(closing)
        at = data.rfind(closing, 0, at)
    return -1


_PREFIX_ONLY_RE = re.compile(_P)


def _whole_elements(stream: _Counted, start_re: re.Pattern, name: bytes, root_end: bytes) -> Iterator[bytes]:
    """The part from its first element that `start_re` finds, in chunks that each end right after
    an element's `</name>`; the last chunk is what follows, which must close the root
    (`root_end`), or the part was cut short."""
    pending = stream.read(64 * 1024)
    while (first := start_re.search(pending)) is None:
        chunk = stream.read(_CHUNK)
        if not chunk or len(pending) > _MAX_ROW_BYTES:
            break
        pending += chunk
    _check_prolog(pending[: first.start()] if first is not None else pending)
    if first is not None:
        pending = pending[first.start():]
    while chunk := stream.read(_CHUNK):
        pending += chunk
        cut = _last_end(pending, name)
        if cut < 0:
            if len(pending) > _MAX_ROW_BYTES:  # no survey row is this long: a zip bomb, say
                raise ValueError(f"no end tag in {len(pending)} bytes")
            continue
        yield pending[:cut]
        pending = pending[cut:]
    if root_end not in pending:
        raise ValueError(f"the part ends before {root_end.decode()}")
    yield pending


def _shared_strings(archive: zipfile.ZipFile, name: str | None, limit: int) -> list[str]:
    """The shared-strings table, by the same text rules as inline strings."""
    strings: list[str] = []
    if not name:
        return strings
    with archive.open(name) as part:
        stream = _Counted(part, limit)
        for segment in _whole_elements(stream, _SHARED_START_RE, b"si", b"sst>"):
            for plain, other, unreadable in _SHARED_RE.findall(segment):
                if unreadable:
                    raise ValueError("a shared string the reader cannot read")
                strings.append(_runs(other) if other else plain.decode())
    return strings


class StreamingSheet:
    """One worksheet of an .xlsx, read as a stream: `merged` and `rows()`.

    Each is read when first asked for. Planning the header needs only the merged ranges; the
    shared strings (862,000 of them in a county census) are needed only by rows(), which the
    import runs in a child process (ChildReader).
    """

    def __init__(self, path, sheet_part: str, strings_part: str | None, styles_part: str | None, date1904: bool, *,
                 max_inflated: int = 0, max_rows: int = 0, max_columns: int = 0):
        self.path = path
        # Checked as the rows stream (0: no limit), instead of a separate pass over the sheet.
        self.max_inflated, self.max_rows, self.max_columns = max_inflated, max_rows, max_columns
        self.archive = zipfile.ZipFile(path)
        self.part = sheet_part
        self.strings_part = strings_part
        self.styles_part = styles_part
        self.date1904 = date1904

    @cached_property
    def merged(self) -> list[tuple[int, int, int, int]]:
        """Merged ranges, 0-based (first_row, first_col, last_row, last_col). They follow the cell
        data in the XML, so the whole part is inflated (no parsing: a regex over what follows
        `</sheetData>`)."""
        merged = []
        tail = b""
        pattern = re.compile(rb"<" + _P + rb"mergeCell\s+ref=" + _Q + rb"([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?" + _Q)
        with self.archive.open(self.part) as part:
            stream = _Counted(part, self.max_inflated)
            while chunk := stream.read(_CHUNK):
                window = tail + chunk
                if b"mergeCell" in window:
                    for c0, r0, c1, r1 in pattern.findall(window):
                        c1, r1 = c1 or c0, r1 or r0
                        merged.append((int(r0) - 1, column_index(c0.decode()), int(r1) - 1, column_index(c1.decode())))
                tail = window[-200:]
        return sorted(set(merged))

    def close(self) -> None:
        self.archive.close()

    def rows(self) -> Iterator[list]:
        """Rows from sheet row 1, each a list of values from column A (see the module doc)."""
        strings = _shared_strings(self.archive, self.strings_part, self.max_inflated)
        date_styles = _date_styles(self.archive, self.styles_part)
        date1904, max_rows, max_columns = self.date1904, self.max_rows, self.max_columns
        columns: dict[bytes, int] = {}
        decoded: dict[bytes, str] = {}
        with self.archive.open(self.part) as part:
            stream = _Counted(part, self.max_inflated)
            row: list | None = None
            number = 0
            for segment in _whole_elements(stream, _ROW_START_RE, b"row", b"worksheet>"):
                for (row_start, row_number, letters, style, kind, any_letters, any_style, any_kind, plain, inline,
                     other, unreadable) in _TOKEN_RE.findall(segment):
                    if row_start:
                        if row is not None:
                            yield tuple(row)
                        following = int(row_number) if row_number else number + 1
                        if following <= number:
                            raise ValueError("rows out of order")
                        if max_rows and following >= max_rows:
                            raise SheetTooLarge("extents")
                        while number < following - 1:  # rows with no <row> element are empty
                            yield ()
                            number += 1
                        number, row = following, []
                        continue
                    if unreadable or row is None:
                        raise ValueError("a row or cell the reader cannot read")
                    if any_letters or any_style or any_kind:
                        letters, style, kind = any_letters, any_style, any_kind
                    if plain:
                        raw = plain
                    elif inline:
                        # Entities and character references (openpyxl writes every non-ASCII character
                        # as one) decoded as _inner would: it finds no <v> outside an inline string.
                        if b"&" not in inline:
                            raw = inline
                        elif kind != b"inlineStr":
                            raw = ""
                        else:
                            # A Python call per reference: decoded once per distinct cell of this
                            # sheet (most repeat a village, a yes/no or a vocabulary value).
                            raw = decoded.get(inline)
                            if raw is None:
                                raw = _text(inline)
                                if len(decoded) < _DECODED_CELLS:
                                    decoded[inline] = raw
                    elif other:
                        raw = _inner(other, kind)
                    else:
                        continue  # no value
                    if kind == b"s":
                        value = strings[int(raw)]
                    elif not kind or kind == b"n":
                        value = float(raw)
                        if style and int(style) in date_styles:
                            value = _excel_date(value, date1904)
                    elif kind == b"str" or kind == b"inlineStr":
                        value = raw if raw.__class__ is str else raw.decode()
                    elif kind == b"b":
                        value = raw.strip() in (b"1", "1", b"true", "true")
                    elif kind == b"d":
                        value = _iso_date(raw if raw.__class__ is str else raw.decode())
                    elif kind == b"e":
                        continue  # #N/A, #REF! …: no value
                    else:
                        raise ValueError(f"unknown cell type {kind!r}")
                    if letters:
                        index = columns.get(letters)
                        if index is None:
                            index = columns[letters] = column_index(letters.decode())
                    else:
                        index = len(row)  # no reference: the cell after the previous one
                    if index == len(row):
                        row.append(value)
                    elif index < len(row):
                        row[index] = value
                    elif max_columns and index >= max_columns:
                        raise SheetTooLarge("extents")
                    else:
                        row.extend([""] * (index - len(row)))
                        row.append(value)
            if row is not None:
                yield tuple(row)


def _inner(xml: bytes, kind: bytes) -> str:
    """The value inside a cell that holds more than a plain `<v>`: an inline string's text, or
    the decoded text of its `<v>` (beside a formula, say); '' when it has none."""
    if kind == b"inlineStr":
        found = _INLINE_RE.search(xml)
        return _runs(found.group(1)) if found else ""
    found = _VALUE_RE.search(xml)
    return _text(found.group(1)) if found else ""


def open_streaming(path, wanted: str | None) -> tuple[str, StreamingSheet]:
    """(sheet name, StreamingSheet) for the wanted or first visible worksheet. Raises SheetNotFound,
    NoVisibleSheet, KeyError (a part missing) or UnsafeXML."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        workbook = SafeET.fromstring(_read_part(archive, "xl/workbook.xml"))
        rels = SafeET.fromstring(_read_part(archive, "xl/_rels/workbook.xml.rels"))
    ns = "{" + _NS_MAIN + "}"
    targets = {rel.get("Id"): (rel.get("Target", ""), rel.get("Type", "")) for rel in rels.iter(f"{_NS_PKG_REL}Relationship")}

    def part_of(target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)

    def part_of_type(suffix: str) -> str | None:
        part = next((part_of(t) for t, kind in targets.values() if kind.endswith(suffix)), None)
        return part if part in names else None

    pr = workbook.find(ns + "workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    sheets = []
    for sheet in workbook.iter(ns + "sheet"):
        target, kind = targets.get(sheet.get(f"{_NS_REL}id"), ("", ""))
        if kind.endswith("/worksheet"):
            sheets.append((sheet.get("name", ""), part_of(target), sheet.get("state") in ("hidden", "veryHidden")))
    if wanted is not None:
        chosen = next((s for s in sheets if s[0] == wanted), None) or next(
            (s for s in sheets if s[0].strip() == wanted.strip()), None)
        if chosen is None:
            raise SheetNotFound([name for name, _, _ in sheets])
    else:
        chosen = next((s for s in sheets if not s[2]), None)
        if chosen is None:
            raise NoVisibleSheet
    name, part, _hidden = chosen
    if part not in names:
        raise KeyError(part)
    return name, StreamingSheet(path, part, part_of_type("/sharedStrings"), part_of_type("/styles"), date1904)


# --- Reading in a child process --------------------------------------------------------------

_BATCH_ROWS = 1000  # rows per pickled message: pickling then costs little per row
_CELL_CLASSES = frozenset({("datetime", "date"), ("datetime", "datetime")})


class SheetDamaged(ValueError):
    """The child could not read the sheet (bad XML, a shared-string index past the table, …)."""


class ReaderExited(RuntimeError):
    """The child ended without its end marker: killed, crashed, out of memory."""


class _RowUnpickler(pickle.Unpickler):
    """Cells are str, float, bool, date or datetime: refuse any other class, whatever comes down
    the pipe (the child parses hostile files; the import process should not trust it blindly)."""

    def find_class(self, module, name):
        if (module, name) not in _CELL_CLASSES:
            raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")
        return super().find_class(module, name)


class ChildReader:
    """A sheet's rows, parsed by a child process on another core: `rows()`, `close()`.

    The child gets the parts to read on its command line and sends the rows back as pickled
    batches, then an end marker. A problem with the file comes as a tagged message and is raised
    here as UnsafeXML, SheetTooLarge or SheetDamaged, as reading in this process would; a child
    that dies before its end marker raises ReaderExited, so its death neither leaves the import
    waiting nor passes for the end of the table. If this process is killed, the child's next
    write fails (the pipe has no reader left) and it exits quietly.
    """

    def __init__(self, sheet: StreamingSheet):
        # -P keeps this file's folder off sys.path, so that no module of the app there can ever
        # shadow a standard one of the same name.
        command = [sys.executable, "-P", os.path.abspath(__file__), os.fspath(sheet.path), sheet.part,
                   sheet.strings_part or "", sheet.styles_part or "", "1904" if sheet.date1904 else "1900",
                   *map(str, (sheet.max_inflated, sheet.max_rows, sheet.max_columns))]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        # Room for a few batches (a pipe holds 64 KB, a batch ~250 KB): the child parses on while
        # this process is busy with the rows it has, instead of waiting for each read (≈15% of the
        # wall time of a county census). Linux only; without it the rows come all the same.
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self.process.stdout, fcntl.F_SETPIPE_SZ, 1024 * 1024)

    def rows(self) -> Iterator[list]:
        """The rows as StreamingSheet.rows() gives them; the child is reaped at the end."""
        try:
            while True:
                try:
                    kind, payload = _RowUnpickler(self.process.stdout).load()
                except (EOFError, pickle.UnpicklingError):
                    raise ReaderExited("the reader process ended without its end marker") from None
                if kind == "rows":
                    yield from payload
                elif kind == "end":
                    self.process.wait()  # it exits right after the marker
                    return
                elif kind == "unsafe":
                    raise UnsafeXML(payload)
                elif kind == "too_large":
                    raise SheetTooLarge(payload)
                else:
                    raise SheetDamaged(payload)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child if it is still reading (the import stopped at a notes row, or was
        cancelled), reap it and close the pipe. Safe to call more than once."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.stdout.close()
        self.process.wait()


def _serve(path: str, part: str, strings_part: str, styles_part: str, calendar: str, *limits: str) -> None:
    """The child's side: ("rows", [row, …]) messages pickled on stdout, then ("end", None); a
    problem with the file as ("unsafe", …), ("too_large", …) or ("damaged", …) rather than a
    traceback on stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C at a terminal is for the import, which closes us
    import gc

    gc.disable()  # this process only reads: its rows hold no reference cycles
    out = sys.stdout.buffer

    def send(message) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        try:
            max_inflated, max_rows, max_columns = map(int, limits)
            sheet = StreamingSheet(path, part, strings_part or None, styles_part or None, calendar == "1904",
                                   max_inflated=max_inflated, max_rows=max_rows, max_columns=max_columns)
            batch = []
            for row in sheet.rows():
                batch.append(row)
                if len(batch) == _BATCH_ROWS:
                    send(("rows", batch))
                    batch = []
            if batch:
                send(("rows", batch))
            send(("end", None))
        except BrokenPipeError:
            raise
        except (UnsafeXML, DefusedXmlException) as error:
            send(("unsafe", f"{type(error).__name__}: {error}"))
        except SheetTooLarge as error:
            send(("too_large", str(error)))
        except (SafeET.ParseError, zipfile.BadZipFile, EOFError, OSError, ValueError, IndexError, KeyError,
                UnicodeDecodeError) as error:
            send(("damaged", f"{type(error).__name__}: {error}"))
    except BrokenPipeError:
        # No reader left: the table was closed early, or the import process was killed. Nobody to
        # tell; stdout goes to /dev/null so that the exit does not complain about the pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


if __name__ == "__main__":
    _serve(*sys.argv[1:])
