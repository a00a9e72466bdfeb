"""A streaming .xlsx sheet reader: rows come out while the sheet XML is still being inflated.

python-calamine loads a whole sheet into a dense grid (522 MB for a 200,000 × 38 census), which
leaves no room for the database writes inside the import's 600 MB budget. This reader feeds
the worksheet part, chunk by chunk, to expat (the C parser in the standard library) and yields
each row as soon as its `</row>` is seen; only the shared-strings table and one chunk of rows
are held in memory. It produces the same values calamine does (numbers as float, date-formatted
numbers as date/datetime, '' for empty cells, rows padded to the sheet width, row 1 first, the
first used column first), so the engine cannot tell the two apart; tests compare them.

The import runs the row parsing in a child process (ChildReader: this file run as a script, the
standard library and defusedxml only), so that it takes the machine's other core while the
import's own process validates and writes rows; the rows come back pickled through a pipe.

Safety: the package has already passed reader._check_xlsx_package (entry count, declared
sizes). The bytes the sheet really inflates to and the rows' extents are checked here as the
rows stream (SheetTooLarge, with the same messages as reader._scan_worksheet, which calamine's
small files still get), and no row may hold more than _MAX_ROW_BYTES of XML. expat here refuses any DTD (`<!DOCTYPE`/entity declarations), like defusedxml;
the regex fast path looks for one in the part of the sheet it skips, and insists on the closing
`</worksheet>`, so a sheet cut short is an error rather than fewer rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
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
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

try:
    import fcntl  # the 1 MB pipe for the reader process; Linux only, the rows come without it too
except ImportError:  # pragma: no cover
    fcntl = None

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CHUNK = 1024 * 1024
_MAX_ROW_BYTES = 64 * _CHUNK
_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)\d+')
# Built-in number formats that are dates or times (ECMA-376 18.8.30).
_DATE_BUILTINS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_DATE_CODE_RE = re.compile(r"[dmyhs]")
_QUOTED_RE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


class UnsafeXML(ValueError):
    """The XML declares a DTD or entities: never in a genuine workbook."""


class SheetTooLarge(Exception):
    """The sheet inflates past its byte limit ("inflated") or has a value beyond the row or
    column limit ("extents"); str() says which."""


def column_index(letters: str) -> int:
    """'A' → 0, 'AL' → 37."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.buffer_size = 256 * 1024

    def refuse(*_args):
        raise UnsafeXML("DTD")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    return parser


def _feed(parser, stream) -> Iterator[None]:
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield


def _is_date_format(code: str) -> bool:
    code = _QUOTED_RE.sub("", code).lower()
    return bool(_DATE_CODE_RE.search(code)) and "general" not in code


def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    """Indices of cellXfs whose number format is a date or time."""
    try:
        root = SafeET.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return frozenset()
    ns = "{" + _NS_MAIN + "}"
    custom = {int(f.get("numFmtId")): f.get("formatCode", "") for f in root.iter(ns + "numFmt")}
    xfs = root.find(ns + "cellXfs")
    found = set()
    for index, xf in enumerate(xfs if xfs is not None else ()):
        fmt = int(xf.get("numFmtId", "0"))
        if fmt in _DATE_BUILTINS or (fmt in custom and _is_date_format(custom[fmt])):
            found.add(index)
    return frozenset(found)


def _shared_strings(archive: zipfile.ZipFile, name: str | None) -> list[str]:
    """The shared-strings table: by a regex where every entry is written plainly, as Excel, WPS
    and openpyxl do (862,000 entries in 0.35 s instead of 1.1 s with expat), else by expat."""
    if not name:
        return []
    strings = _plain_shared_strings(archive, name)
    return strings if strings is not None else _parsed_shared_strings(archive, name)


# A plain entry: one text run, nothing to unescape and no carriage return to normalise.
_PLAIN_SI_RE = re.compile(rb'<si><t(?: xml:space="preserve")?>([^<&\r]*)</t></si>')


def _plain_shared_strings(archive: zipfile.ZipFile, name: str) -> list[str] | None:
    """The table when every entry is plain; None as soon as one is not (rich text runs, phonetic
    guides, entities, a DTD, a part cut short …): expat then reads the whole part."""
    strings: list[str] = []
    with archive.open(name) as stream:
        pending = stream.read(64 * 1024)
        first = pending.find(b"<si")
        if first < 0 or b"<!" in pending[:first]:
            return None
        pending = pending[first:]
        while True:
            chunk = stream.read(4 * _CHUNK)
            pending += chunk
            cut = pending.rfind(b"</si>")
            if chunk and cut < 0:
                if len(pending) > _MAX_ROW_BYTES:
                    return None
                continue
            cut = cut + len(b"</si>") if cut >= 0 else 0
            segment, pending = pending[:cut], pending[cut:]
            found = _PLAIN_SI_RE.findall(segment)
            if len(found) != segment.count(b"<si"):
                return None
            strings.extend(map(bytes.decode, found))
            if not chunk:  # the end: nothing may follow the last entry but the root's closing tag
                return strings if pending.strip() == b"</sst>" else None


def _parsed_shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    parts: list[str] = []
    state = {"in_t": False, "skip": 0}
    t_tag, si_tag, rph_tag = _NS_MAIN + "}t", _NS_MAIN + "}si", _NS_MAIN + "}rPh"

    def start(tag, _attrs):
        if tag == t_tag:
            state["in_t"] = True
        elif tag == rph_tag:
            state["skip"] += 1  # phonetic guide text is not part of the value

    def end(tag):
        if tag == t_tag:
            state["in_t"] = False
        elif tag == rph_tag:
            state["skip"] -= 1
        elif tag == si_tag:
            strings.append("".join(parts))
            parts.clear()

    def text(data):
        if state["in_t"] and not state["skip"]:
            parts.append(data)

    parser = _parser()
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    with archive.open(name) as stream:
        for _ in _feed(parser, stream):
            pass
    return strings


def _excel_date(serial: float, date1904: bool):
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    if not date1904 and serial < 60:
        serial += 1  # Excel's phantom 1900-02-29
    value = base + dt.timedelta(days=serial)
    value = value.replace(microsecond=round(value.microsecond / 1000) * 1000 % 1_000_000) if value.microsecond else value
    if value.hour == value.minute == value.second == 0 and not value.microsecond:
        return value.date()
    return value


class StreamingSheet:
    """One worksheet of an .xlsx, read as a stream: `merged`, `first_column`, `rows()`.

    Each is read when first asked for. Planning the header needs only the merged ranges and the
    first column; the shared strings (862,000 of them in a county census: a second and tens of
    MB) are needed only by rows(), which the import runs in a child process (ChildReader).
    """

    def __init__(self, path, sheet_part: str, strings_part: str | None, date1904: bool, *,
                 max_inflated: int = 0, max_rows: int = 0, max_columns: int = 0):
        self.path = path
        # Checked as the rows stream (0: no limit), instead of a separate pass over the sheet.
        self.max_inflated, self.max_rows, self.max_columns = max_inflated, max_rows, max_columns
        self.archive = zipfile.ZipFile(path)
        self.part = sheet_part
        self.strings_part = strings_part
        self.date1904 = date1904
        self.date_styles = _date_styles(self.archive)
        self.strings: list[str] = []  # loaded by rows()

    @cached_property
    def first_column(self) -> int:
        """The first used column, from `<dimension ref="B1:…">` at the top of the sheet (else 0)."""
        with self.archive.open(self.part) as stream:
            found = _DIMENSION_RE.search(stream.read(4 * _CHUNK))
        return column_index(found.group(1).decode()) if found else 0

    @cached_property
    def merged(self) -> list[tuple[int, int, int, int]]:
        """Merged ranges, 0-based (first_row, first_col, last_row, last_col) in sheet columns. They
        follow the cell data in the XML, so the whole part is inflated (no parsing: a regex)."""
        merged = []
        tail = b""
        with self.archive.open(self.part) as stream:
            while chunk := stream.read(4 * _CHUNK):
                window = tail + chunk
                if b"mergeCell" in window:
                    for c0, r0, c1, r1 in _MERGE_RE.findall(window):
                        c1, r1 = c1 or c0, r1 or r0
                        merged.append((int(r0) - 1, column_index(c0.decode()), int(r1) - 1, column_index(c1.decode())))
                tail = window[-200:]
        return sorted(set(merged))

    def close(self) -> None:
        self.archive.close()

    def rows(self) -> Iterator[list]:
        """Rows from sheet row 1, each a list of values from the first used column.

        The common case (cells written as `<c r="B7" s="1" t="s"><v>42</v></c>`, as Excel,
        WPS and openpyxl do) is matched by one regular expression per chunk of whole rows,
        in C; any chunk holding something else (inline strings, formulas, prefixed elements,
        cells without a reference) is parsed by expat instead.
        """
        self.strings = _shared_strings(self.archive, self.strings_part)
        emitted = 0
        max_rows, max_width = self.max_rows, self.max_columns - self.first_column
        for number, cells in self._numbered_rows():
            if max_rows and (number >= max_rows or len(cells) > max_width):
                raise SheetTooLarge("extents")
            while emitted < number - 1:  # rows with no <row> element, or no cells, are empty
                yield []
                emitted += 1
            yield cells
            emitted += 1

    def _numbered_rows(self) -> Iterator[tuple[int, list]]:
        with self.archive.open(self.part) as part:
            stream = _Counted(part, self.max_inflated)
            head = stream.read(64 * 1024)
            if b"<row" not in head and b":row" in head:  # prefixed elements: expat all the way
                def chunks():
                    yield head
                    while chunk := stream.read(_CHUNK):
                        yield chunk

                yield from self._expat_rows(chunks(), 0)
                return
            pending = head
            started = False
            last_row = 0
            while True:
                chunk = stream.read(4 * _CHUNK)
                if chunk:
                    pending += chunk
                cut = pending.rfind(b"</row>")
                if cut < 0 and chunk:
                    if len(pending) > _MAX_ROW_BYTES:  # no survey row is this long: a zip bomb, say
                        raise ValueError(f"no </row> in {len(pending)} bytes")
                    continue
                if not started:
                    first = pending.find(b"<row")
                    if b"<!DOCTYPE" in (pending[:first] if first >= 0 else pending):
                        raise UnsafeXML("DTD")  # the head is skipped below, so expat never sees it
                    if first < 0:
                        _check_ending(pending)
                        return
                    pending = pending[first:]
                    cut = pending.rfind(b"</row>")
                    started = True
                if cut < 0:
                    _check_ending(pending)
                    return
                segment, pending = pending[: cut + 6], pending[cut + 6 :]
                for number, cells in self._segment_rows(segment, last_row):
                    last_row = number
                    yield number, cells
                if not chunk:
                    _check_ending(pending)
                    return

    def _segment_rows(self, segment: bytes, last_row: int) -> Iterator[tuple[int, list]]:
        matches = None
        if b"<is>" not in segment and b"<f" not in segment and b"&" not in segment:
            matches = _CELL_RE.findall(segment)
            if len(matches) != segment.count(b"<c ") + segment.count(b"<c>"):
                matches = None
        if matches is None:
            wrapped = b'<sheetData xmlns="' + _NS_MAIN.encode() + b'">' + segment + b"</sheetData>"
            yield from self._expat_rows([wrapped], last_row)
            return
        first, strings, date_styles, date1904 = self.first_column, self.strings, self.date_styles, self.date1904
        columns = _COLUMN_CACHE
        current: dict[int, object] = {}
        current_row = None
        for letters, row_text, style, kind, raw in matches:
            if row_text != current_row:
                if current:
                    yield int(current_row), _as_list(current)
                    current = {}
                current_row = row_text
            if not raw:
                continue
            index = columns.get(letters)
            if index is None:
                index = columns[letters] = column_index(letters.decode())
            index -= first
            if index < 0:
                continue
            if kind == b"s":
                value = strings[int(raw)]
            elif not kind or kind == b"n":
                value = float(raw)
                if style and int(style) in date_styles:
                    value = _excel_date(value, date1904)
            elif kind == b"b":
                value = raw.strip() == b"1"
            elif kind == b"str" or kind == b"inlineStr":
                value = raw.decode()
            elif kind == b"e":
                value = ""
            else:
                value = raw.decode()
            current[index] = value
        if current:
            yield int(current_row), _as_list(current)

    def _expat_rows(self, chunks, last_row: int) -> Iterator[tuple[int, list]]:
        first = self.first_column
        strings, date_styles, date1904 = self.strings, self.date_styles, self.date1904
        ns = _NS_MAIN + "}"
        row_tag, c_tag, v_tag, t_tag, is_tag = ns + "row", ns + "c", ns + "v", ns + "t", ns + "is"
        done: list[tuple[int, list]] = []
        current: dict[int, object] = {}
        state = {"row": last_row, "ref": None, "type": None, "style": None, "text": None, "collect": False,
                 "in_is": False, "next_col": 0}

        def start(tag, attrs):
            if tag == c_tag:
                ref = attrs.get("r")
                if ref:
                    state["ref"] = column_index(ref.rstrip("0123456789")) - first
                else:
                    state["ref"] = state["next_col"]
                state["type"] = attrs.get("t")
                state["style"] = attrs.get("s")
                state["text"] = None
            elif tag == v_tag:
                state["collect"] = True
                state["text"] = ""
            elif tag == t_tag and state["in_is"]:
                state["collect"] = True  # runs of an inline string are concatenated
                if state["text"] is None:
                    state["text"] = ""
            elif tag == row_tag:
                number = attrs.get("r")
                state["row"] = int(number) if number else state["row"] + 1
                state["next_col"] = 0
                current.clear()
            elif tag == is_tag:
                state["in_is"] = True

        def text(data):
            if state["collect"]:
                state["text"] = (state["text"] or "") + data

        def end(tag):
            if tag == v_tag or tag == t_tag:
                state["collect"] = False
            elif tag == is_tag:
                state["in_is"] = False
            elif tag == c_tag:
                index = state["ref"]
                state["next_col"] = index + 1
                raw = state["text"]
                if raw is None or raw == "" or index < 0:
                    return
                kind = state["type"]
                if kind == "s":
                    value = strings[int(raw)]
                elif kind in ("str", "inlineStr"):
                    value = raw
                elif kind == "b":
                    value = raw.strip() == "1"
                elif kind == "e":
                    value = ""
                elif kind == "d":
                    try:
                        value = dt.datetime.fromisoformat(raw.strip())
                        if value.hour == value.minute == value.second == 0:
                            value = value.date()
                    except ValueError:
                        value = raw
                else:
                    value = float(raw)
                    style = state["style"]
                    if style is not None and int(style) in date_styles:
                        value = _excel_date(value, date1904)
                current[index] = value
            elif tag == row_tag:
                done.append((state["row"], _as_list(current) if current else []))

        parser = _parser()
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
        for chunk in chunks:
            parser.Parse(chunk, False)
            if done:
                yield from done
                done.clear()
        parser.Parse(b"", True)
        yield from done


_CELL_RE = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="(\w+)")?(?: s="\d+")?\s*(?:/>|>(?:<v>([^<]*)</v>)?</c>)'
)
_COLUMN_CACHE: dict[bytes, int] = {}


def _check_ending(rest: bytes) -> None:
    """The fast path only cuts the XML at `</row>`, so a sheet part cut short (an upload truncated
    and zipped again, a writer that crashed) would lose its last rows without a word: the part must
    end with the root element's closing tag, as expat would insist."""
    if b"worksheet>" not in rest:
        raise ValueError("the sheet XML ends before </worksheet>")


def _as_list(cells: dict[int, object]) -> list:
    row = [""] * (max(cells) + 1)
    for index, value in cells.items():
        row[index] = value
    return row


def open_streaming(path, wanted: str | None):
    """(sheet name, StreamingSheet) for the wanted or first visible worksheet; (None, None) when the
    workbook has no usable worksheet (the caller then lets calamine report the problem)."""
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
        rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    ns = "{" + _NS_MAIN + "}"
    targets = {rel.get("Id"): (rel.get("Target", ""), rel.get("Type", "")) for rel in rels.iter(f"{_NS_PKG_REL}Relationship")}

    def part_of(target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)

    strings_part = next((part_of(t) for t, kind in targets.values() if kind.endswith("/sharedStrings")), None)
    if strings_part not in names:
        strings_part = None
    pr = workbook.find(ns + "workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    for sheet in workbook.iter(ns + "sheet"):
        name = sheet.get("name")
        target, kind = targets.get(sheet.get(f"{_NS_REL}id"), ("", ""))
        if not kind.endswith("/worksheet"):
            continue
        if wanted is not None and name.strip() != wanted.strip():
            continue
        if wanted is None and sheet.get("state") in ("hidden", "veryHidden"):
            continue
        part = part_of(target)
        if part not in names:
            return None, None
        return name, StreamingSheet(path, part, strings_part, date1904)
    return None, None


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


class ChildReader:
    """A sheet's rows, parsed by a child process on another core: `rows()`, `close()`.

    The child gets the parts to read on its command line, loads the shared strings, and sends
    the rows back as pickled batches, then an end marker. A problem with the file comes as a
    tagged message and is raised here as UnsafeXML or SheetDamaged, as reading in-process would;
    a child that dies before its end marker raises ReaderExited, so its death neither leaves the
    import waiting nor passes for the end of the table. If this process is killed, the child's
    next write fails (the pipe has no reader left) and it exits quietly.
    """

    def __init__(self, sheet: StreamingSheet):
        # -P keeps this file's folder off sys.path, so that no module of the app there can ever
        # shadow a standard one of the same name.
        command = [sys.executable, "-P", os.path.abspath(__file__), os.fspath(sheet.path), sheet.part,
                   sheet.strings_part or "", "1904" if sheet.date1904 else "1900",
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


def _serve(path: str, part: str, strings_part: str, calendar: str, *limits: str) -> None:
    """The child's side: ("rows", [row, …]) messages pickled on stdout, then ("end", None); a
    problem with the file as ("unsafe", …), ("too_large", …) or ("damaged", …) rather than a traceback
    on stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C at a terminal is for the import, which closes us
    gc.disable()  # rows hold no reference cycles; collections cost 7% of the reading
    out = sys.stdout.buffer

    def send(message) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        try:
            max_inflated, max_rows, max_columns = map(int, limits)
            sheet = StreamingSheet(path, part, strings_part or None, calendar == "1904", max_inflated=max_inflated,
                                   max_rows=max_rows, max_columns=max_columns)
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
        except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError, ValueError, IndexError, KeyError) as error:
            send(("damaged", f"{type(error).__name__}: {error}"))
    except BrokenPipeError:
        # No reader left: the table was closed early, or the import process was killed. Nobody to
        # tell; stdout goes to /dev/null so that the exit does not complain about the pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


if __name__ == "__main__":
    _serve(*sys.argv[1:])
