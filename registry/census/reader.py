"""Opening an untrusted census spreadsheet as a stream of rows: one reader per format.

- .xlsx, any size: the streaming reader `xlsx_stream` (its rows parsed in a child process);
- .xls (the legacy binary format): python-calamine;
- .csv: the csv module, UTF-8 or GBK, comma, tab or semicolon.

Uploads come from village offices and are treated as hostile until proven otherwise: the size is
capped, an .xlsx's zip central directory is checked (entry count, declared inflated size) before
any parsing, and the streaming reader counts the bytes really inflated and the sheet's extents as
it reads. The few small XML parts read here go through defusedxml. Every failure surfaces as
`CensusFileError`, whose message tells village staff, in plain Chinese, what is wrong with the
file and what to do about it.
"""

from __future__ import annotations

import codecs
import csv
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

__all__ = [
    "CensusFileError",
    "Table",
    "read_table",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ZIP_ENTRIES",
    "DEFAULT_MAX_INFLATED_BYTES",
    "MAX_ROWS",
    "MAX_COLUMNS",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ZIP_ENTRIES = 1000
DEFAULT_MAX_INFLATED_BYTES = 800 * 1024 * 1024
# The largest sheet imported: room for a county-wide census, while a stray cell far away (a 5 KB
# file with a value in XFD1048576) is refused with a message instead of read as a million rows.
MAX_ROWS = 300_000
MAX_COLUMNS = 130  # A..DZ

ACCEPTED_EXTENSIONS = (".xlsx", ".xls", ".csv")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream name an encrypted OOXML package carries inside its OLE container (UTF-16LE).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


MSG_SAVE_AS_XLSX = "请用 Excel 或 WPS 打开后“另存为” .xlsx 格式再上传"


class CensusFileError(Exception):
    """The uploaded file cannot be read as a census table; str(error) is the message for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """One worksheet (or CSV file) as rows of cell values.

    Iterating yields tuples of cell values (str, int, float, bool, date, datetime; '' or None
    for empty), one per row, starting with spreadsheet row 1: the i-th (0-based) is
    row i + 1 as Excel numbers it. `merged_ranges` holds (first_row, first_col, last_row,
    last_col), 0-based, in the same coordinates; it is empty for CSV files.
    """

    sheet_name: str | None
    merged_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)
    _rows: Iterator[list] | None = None
    _workbook: object = None

    def __iter__(self) -> Iterator[list]:
        rows, self._rows = self._rows, None
        if rows is None:
            raise RuntimeError("Table rows can be iterated only once")
        return rows

    def close(self) -> None:
        """Release the workbook (calamine keeps the whole sheet in memory until then), or stop and
        reap the streaming reader's child process if it is still reading."""
        self._rows = None
        workbook, self._workbook = self._workbook, None
        if workbook is not None:
            try:
                workbook.close()
            except (python_calamine.CalamineError, OSError):
                pass

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def read_table(
    path: str | os.PathLike,
    *,
    filename: str,
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
) -> Table:
    """Open the spreadsheet stored at `path`, uploaded as `filename`, and return its table.

    `sheet` names the worksheet to read; by default the first visible one. Raises
    `CensusFileError` for every problem, never a library exception.
    """
    extension = Path(filename or "").suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        shown = extension or "（无扩展名）"
        raise CensusFileError(
            f"不支持 {shown} 文件。请上传 .xlsx、.xls 或 .csv 格式的调查表；其他格式{MSG_SAVE_AS_XLSX}"
        )
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError:
        raise CensusFileError("上传的文件无法读取，请重新上传") from None
    if size == 0:
        raise CensusFileError("上传的文件是空的（0 字节），请检查后重新上传")
    if size > max_bytes:
        raise CensusFileError(
            f"文件太大（{_megabytes(size)}），最大允许 {_megabytes(max_bytes)}。"
            "请删除多余的工作表、图片后重试，或把调查表分成几个文件分别导入"
        )

    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        _check_xlsx_package(path, max_zip_entries, max_inflated_bytes)
        return _open_streaming(path, sheet, max_inflated_bytes)
    if head.startswith(_OLE_MAGIC):
        _check_ole(path)
        return _open_workbook(path, sheet)
    if head.startswith(b"%PDF"):
        raise CensusFileError("这是 PDF 文件，不是 Excel 表格，无法导入。请上传调查表的 Excel 原表（.xlsx）")
    if extension == ".csv":
        return _open_csv(path, head)
    lowered = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if lowered.startswith((b"<!doctype", b"<html", b"<table", b"<?xml", b"<meta")):
        raise CensusFileError(
            f"这个 {extension} 文件实际上是网页（HTML/XML）格式，不是真正的 Excel 文件。{MSG_SAVE_AS_XLSX}"
        )
    raise CensusFileError(
        f"这个文件不是有效的 Excel 文件（文件内容与扩展名 {extension} 不符），可能已损坏或被改了扩展名。"
        f"{MSG_SAVE_AS_XLSX}"
    )


# --- .xlsx package checks --------------------------------------------------------------------


def _check_xlsx_package(path: str | os.PathLike, max_entries: int, max_inflated: int) -> None:
    """Check the zip central directory before anything is inflated: entry count, declared size,
    and that it is a workbook at all (the streaming reader counts the bytes really inflated)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _corrupt() from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise CensusFileError(
                f"文件内部结构异常（包含 {len(infos)} 个部件，上限 {max_entries}），"
                f"不像是普通的调查表。{MSG_SAVE_AS_XLSX}"
            )
        inflated = sum(info.file_size for info in infos)
        if inflated > max_inflated:
            raise CensusFileError(
                f"文件解压后过大（约 {_megabytes(inflated)}，上限 {_megabytes(max_inflated)}），"
                "请删除多余的工作表和格式后重试，或分成几个文件导入"
            )
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                raise CensusFileError("这是 Word 文档，不是 Excel 表格。请上传调查表的 Excel 文件（.xlsx）")
            if "ppt/presentation.xml" in names:
                raise CensusFileError("这是 PowerPoint 演示文稿，不是 Excel 表格。请上传调查表的 Excel 文件（.xlsx）")
            raise CensusFileError(f"这个文件不是 Excel 工作簿（可能是压缩包改了扩展名）。{MSG_SAVE_AS_XLSX}")


def _corrupt() -> CensusFileError:
    return CensusFileError(
        "文件已损坏或不完整（可能上传中断或保存时出错），无法打开。请用 Excel 或 WPS 打开确认无误后重新上传")


MSG_EXTENTS = (f"工作表超出了可导入的范围（最多 {MAX_ROWS - 1} 行、{MAX_COLUMNS} 列）。"
               "常见原因是表格很远处有多余的内容或空格：请删除数据区域以外的行和列后重新保存；"
               "数据确实很多时请分成几个文件导入")
MSG_UNSAFE = f"文件内部结构异常，无法安全读取。{MSG_SAVE_AS_XLSX}"
MSG_DAMAGED = "读取表格内容时出错，文件可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"


def _msg_inflated(limit: int) -> str:
    return f"文件解压后过大（超过 {_megabytes(limit)}），请删除多余内容后重试，或分成几个文件导入"


def _sheet_not_found(wanted: str, names: list[str]) -> CensusFileError:
    listed = "、".join(f"“{name}”" for name in names) or "（无）"
    return CensusFileError(f"找不到名为“{wanted}”的工作表。这个文件中的工作表有：{listed}")


MSG_NO_VISIBLE_SHEET = "文件中没有可见的工作表（所有工作表都被隐藏了）。请在 Excel 中取消隐藏调查表后重新上传"


def _open_streaming(path: str | os.PathLike, sheet: str | None, max_inflated: int) -> Table:
    """The sheet through the streaming reader. Its rows are parsed by a child process
    (xlsx_stream.ChildReader), on the other core; this process reads only the merged ranges,
    which planning the header needs. Where no process can be started (memory, a process
    limit) the same reader runs here."""
    from .xlsx_stream import ChildReader, NoVisibleSheet, SheetNotFound, SheetTooLarge, UnsafeXML, open_streaming

    try:
        name, stream = open_streaming(path, sheet)
    except (UnsafeXML, DefusedXmlException):
        raise CensusFileError(MSG_UNSAFE) from None
    except SheetNotFound as missing:
        raise _sheet_not_found(sheet, missing.names) from None
    except NoVisibleSheet:
        raise CensusFileError(MSG_NO_VISIBLE_SHEET) from None
    except SheetTooLarge:
        raise CensusFileError(_msg_inflated(max_inflated)) from None
    except (KeyError, SafeET.ParseError, ValueError, zipfile.BadZipFile, OSError, EOFError):
        raise _corrupt() from None
    stream.max_inflated, stream.max_rows, stream.max_columns = max_inflated, MAX_ROWS, MAX_COLUMNS
    try:
        child = ChildReader(stream)  # first, so that it parses while this process scans for merges
    except OSError:  # no process to be had: read the rows here instead
        child = None
    try:
        merged = stream.merged
    except BaseException:
        if child is not None:
            child.close()
        stream.close()
        raise
    if child is None:
        rows, reading = stream.rows(), stream
    else:
        stream.close()
        rows, reading = child.rows(), child
    return Table(sheet_name=name, merged_ranges=merged, _rows=_guarded_stream(rows, max_inflated), _workbook=reading)


def _guarded_stream(rows: Iterator[list], max_inflated: int) -> Iterator[list]:
    """Streaming-reader failures as CensusFileError (a damaged sheet part, bad XML, a DTD, a
    sheet too large, the reader process gone)."""
    from .xlsx_stream import ReaderExited, SheetTooLarge, UnsafeXML

    try:
        yield from rows
    except SheetTooLarge as error:
        raise CensusFileError(_msg_inflated(max_inflated) if str(error) == "inflated" else MSG_EXTENTS) from None
    except (UnsafeXML, DefusedXmlException):
        raise CensusFileError(MSG_UNSAFE) from None
    except (SafeET.ParseError, zipfile.BadZipFile, EOFError, OSError, ValueError, IndexError, KeyError):
        raise CensusFileError(MSG_DAMAGED) from None
    except ReaderExited:
        raise CensusFileError("读取表格时后台读取进程意外退出，请重试；如仍失败请联系管理员") from None


# --- .xls / OLE --------------------------------------------------------------------------------


def _check_ole(path: str | os.PathLike) -> None:
    """An OLE compound file is either a legacy .xls or a password-protected .xlsx."""
    # The directory of a compound file is tiny and the encrypted payload is random bytes, so a
    # plain search for the stream name is reliable; the file is already capped in size.
    with open(path, "rb") as handle:
        data = handle.read()
    if _ENCRYPTED_PACKAGE in data:
        raise _password_error()


def _password_error() -> CensusFileError:
    return CensusFileError(
        "文件设置了打开密码（已加密），无法读取。请在 Excel 或 WPS 中打开文件，"
        "取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后保存，再重新上传"
    )


def _open_workbook(path: str | os.PathLike, sheet: str | None) -> Table:
    """A legacy .xls through python-calamine (the format caps a sheet at 65,536 × 256 cells)."""
    corrupt = CensusFileError(
        "文件已损坏或格式无法识别，无法打开。请用 Excel 或 WPS 打开确认无误后“另存为” .xlsx 再上传"
    )
    try:
        with open(path, "rb") as handle:
            # from_filelike detects the format from the content, not from a temp-file name.
            workbook = python_calamine.CalamineWorkbook.from_filelike(handle)
    except python_calamine.PasswordError:
        raise _password_error() from None
    except (python_calamine.CalamineError, OSError, ValueError, RuntimeError):
        raise corrupt from None
    except BaseException as error:  # pyo3 panics surface as PanicException (a BaseException)
        if isinstance(error, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        raise corrupt from None

    try:
        name = _choose_sheet(workbook, sheet)
        worksheet = workbook.get_sheet_by_name(name)
        merged = worksheet.merged_cell_ranges or []
        start = worksheet.start
    except CensusFileError:
        workbook.close()
        raise
    except python_calamine.PasswordError:
        workbook.close()
        raise _password_error() from None
    except BaseException as error:
        workbook.close()
        if isinstance(error, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        raise corrupt from None

    # iter_rows() starts at sheet row 1 but at the first *used* column: pad to column A, as the
    # other readers give it.
    padding = [""] * (start[1] if start else 0)
    rows = _guarded(tuple(padding + row) for row in worksheet.iter_rows()) if start else iter(())
    return Table(sheet_name=name, merged_ranges=[(r0, c0, r1, c1) for (r0, c0), (r1, c1) in merged], _rows=rows,
                 _workbook=workbook)


def _choose_sheet(workbook: python_calamine.CalamineWorkbook, wanted: str | None) -> str:
    metadata = workbook.sheets_metadata
    if wanted is not None:
        names = [sheet.name for sheet in metadata]
        if wanted in names:
            return wanted
        stripped = {name.strip(): name for name in names}
        if wanted.strip() in stripped:
            return stripped[wanted.strip()]
        raise _sheet_not_found(wanted, names)
    for sheet in metadata:
        if (
            sheet.visible == python_calamine.SheetVisibleEnum.Visible
            and sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
        ):
            return sheet.name
    raise CensusFileError(MSG_NO_VISIBLE_SHEET)


def _guarded(rows: Iterator[list]) -> Iterator[list]:
    """Re-raise any library failure during iteration as CensusFileError."""
    try:
        yield from rows
    except (python_calamine.CalamineError, ValueError, RuntimeError, OSError):
        raise CensusFileError(
            "读取表格内容时出错，文件可能已损坏。请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
        ) from None


# --- .csv --------------------------------------------------------------------------------------


def _detect_encoding(path: str | os.PathLike, head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Validate the whole file incrementally (C speed, constant memory): a GBK file's first
    # lines can be pure ASCII while a name further down is not.
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _sniff_delimiter(path: str | os.PathLike, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        for line in handle:
            if line.strip():
                counts = {delimiter: line.count(delimiter) for delimiter in (",", "\t", ";")}
                best = max(counts, key=counts.get)
                return best if counts[best] else ","
    return ","


def _open_csv(path: str | os.PathLike, head: bytes) -> Table:
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CensusFileError(f"这个 .csv 文件不是文本文件，可能已损坏或被改了扩展名。{MSG_SAVE_AS_XLSX}")
    encoding = _detect_encoding(path, head)
    delimiter = _sniff_delimiter(path, encoding)
    return Table(sheet_name=None, _rows=_csv_rows(path, encoding, delimiter))


def _csv_rows(path: str | os.PathLike, encoding: str, delimiter: str) -> Iterator[list]:
    try:
        with open(path, encoding=encoding, newline="") as handle:
            yield from map(tuple, csv.reader(handle, delimiter=delimiter))
    except UnicodeDecodeError:
        raise CensusFileError(
            "无法识别 .csv 文件的文字编码（支持 UTF-8 和 GBK）。请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
        ) from None
    except (csv.Error, OSError, ValueError):
        raise CensusFileError(f"这个 .csv 文件格式有误，无法读取（可能已损坏）。{MSG_SAVE_AS_XLSX}") from None
