"""Small fixture builders for the census tests: workbooks, CSVs, ID numbers, odd files."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook

from bench.make_census_workbook import make_id_number
from registry.census.engine import CensusRow, open_census

TODAY = dt.date(2025, 6, 1)
HEADER = ["序号", "村", "姓名", "身份证号码"]


def id_number(birth: dt.date = dt.date(1946, 3, 12), sequence: int = 1, area: str = "511529") -> str:
    """A valid ID; odd sequence → male, even → female."""
    return make_id_number(area, birth, sequence)


def write_xlsx(
    path: Path, rows: Iterable[Sequence], merges: Sequence[str] = (), *, title: str = "调查表", extra_sheets=()
) -> Path:
    """A one-sheet workbook from rows (None for empty cells), with merged ranges."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as typed into a text cell
    for merge in merges:
        sheet.merge_cells(merge)
    for name, state in extra_sheets:
        extra = workbook.create_sheet(name)
        extra.sheet_state = state
        extra.append(["姓名", "身份证号码", "村"])
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Iterable[Sequence], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = "\r\n".join(delimiter.join("" if cell is None else str(cell) for cell in row) for row in rows)
    path.write_bytes(text.encode(encoding))
    return path


def parse(path: Path, filename: str | None = None, **kwargs) -> tuple[object, list[CensusRow]]:
    """Open and read every row; returns (census file, rows)."""
    kwargs.setdefault("today", TODAY)
    census = open_census(path, filename=filename or path.name, **kwargs)
    with census:
        rows = list(census.rows())
    return census, rows


def parse_rows(tmp_path: Path, header: Sequence, *data: Sequence, name: str = "t.xlsx", **kwargs) -> list[CensusRow]:
    """Rows of a single-header workbook made of `header` and `data`."""
    path = write_xlsx(tmp_path / name, [header, *data])
    return parse(path, **kwargs)[1]


def one_row(tmp_path: Path, extra: dict, *, birth=dt.date(1946, 3, 12), sequence: int = 1, **kwargs) -> CensusRow:
    """One data row with the required columns plus `extra` {header: value}."""
    header = ["村", "姓名", "身份证号码", *extra]
    values = ["李家湾村", "张三", id_number(birth, sequence), *extra.values()]
    rows = parse_rows(tmp_path, header, values, **kwargs)
    assert len(rows) == 1
    return rows[0]


def messages(row: CensusRow, kind: str = "errors") -> list[str]:
    return [issue.message for issue in getattr(row, kind)]


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal, structurally valid OLE compound file (CFB v3) holding the given streams.

    Streams must be at least 4096 bytes (so they live in regular sectors, not the mini stream).
    Used to build a password-protected .xlsx look-alike: `EncryptionInfo` + `EncryptedPackage`.
    """
    sector = 512
    free, end_of_chain, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    layout = []
    next_sector = 2  # sector 0: FAT, sector 1: directory
    for name, payload in streams.items():
        assert len(payload) >= 4096
        count = -(-len(payload) // sector)
        layout.append((name, next_sector, count, payload))
        next_sector += count
    assert next_sector <= 128 and len(layout) <= 3
    fat = [free] * 128
    fat[0], fat[1] = fat_sector, end_of_chain
    for _, start, count, _ in layout:
        for offset in range(count - 1):
            fat[start + offset] = start + offset + 1
        fat[start + count - 1] = end_of_chain
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        1,
        1,
        0,
        4096,
        end_of_chain,
        0,
        end_of_chain,
        0,
    )
    header += struct.pack("<109I", 0, *([free] * 108))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, left, right, child, b"\0" * 16, 0, 0, 0, start, size
        )

    entries = [entry("Root Entry", 5, no_stream, no_stream, 1, end_of_chain, 0)]
    for index, (name, start, _, payload) in enumerate(layout, start=1):
        right = index + 1 if index < len(layout) else no_stream
        entries.append(entry(name, 2, no_stream, right, no_stream, start, len(payload)))
    while len(entries) < 4:
        entries.append(entry("", 0, no_stream, no_stream, no_stream, 0, 0))
    body = struct.pack("<128I", *fat) + b"".join(entries)
    for _, _, count, payload in layout:
        body += payload.ljust(count * sector, b"\0")
    return header + body


def encrypted_xlsx_bytes() -> bytes:
    """What Excel writes for a workbook with an opening password: an OLE file, not a zip."""
    info = b'\x04\x00\x04\x00\x40\x00\x00\x00<?xml version="1.0"?><encryption/>'
    return ole_file({"EncryptionInfo": info.ljust(4096, b"\0"), "EncryptedPackage": bytes(range(256)) * 32})


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
