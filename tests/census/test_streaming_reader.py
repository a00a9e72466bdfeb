"""The streaming .xlsx reader gives exactly what calamine gives, on every kind of workbook; its
child process never outlives the table nor leaves the import waiting."""

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from bench.make_census_workbook import write_census_workbook
from registry.census import reader, xlsx_stream
from tests.census.helpers import person, write_workbook


def rows_of(table):
    out = []
    for row in table:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


def both(path):
    calamine = reader._open_workbook(path, None)
    streaming = reader._open_streaming(path, None)
    assert streaming is not None
    try:
        return (rows_of(calamine), calamine.merged_ranges), (rows_of(streaming), streaming.merged_ranges)
    finally:
        calamine.close()
        streaming.close()


def test_streaming_matches_calamine_on_a_survey(tmp_path):
    path = write_workbook(tmp_path / "a.xlsx", [person("李家湾村", f"老人{i}", phone="13800001111") for i in range(50)],
                          title_rows=("标题", "", "填报单位：锦屏镇"))
    first, second = both(path)
    assert first == second


def test_streaming_matches_calamine_on_types_merges_formulas_and_gaps(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["合并标题"])
    sheet.merge_cells("A1:D1")
    sheet.append([1, 1.5, "x&y<z>", True, dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4), 123456789012345678])
    sheet["B5"] = "=1+2"
    sheet["C7"] = "after a gap"
    sheet.cell(row=8, column=3, value="  空格  ")
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    first, second = both(path)
    assert first == second


@pytest.mark.parametrize("name", ["a.xlsx"])
def test_big_files_use_the_streaming_reader(tmp_path, monkeypatch, name):
    path = write_workbook(tmp_path / name, [person()])
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    table = reader.read_table(path, filename=name)
    assert table._workbook.__class__.__name__ == "ChildReader"
    table.close()


MSG_UNSAFE = "文件内部结构异常，无法安全读取"
MSG_DAMAGED = "读取表格内容时出错，文件可能已损坏"
SHEET_PART = "xl/worksheets/sheet1.xml"


@pytest.fixture
def census_workbook(tmp_path):
    """A generated census with shared strings, a two-row merged header and a notes footer, as
    Excel writes them: the reader's fast path, unlike openpyxl's inline strings above."""
    path = tmp_path / "census.xlsx"
    write_census_workbook(path, 60, seed=3, today=dt.date(2026, 6, 1))
    return path


def with_part(path, part, change):
    """A copy of the workbook at `path` with `part` replaced by change(its bytes), zipped again
    (so the package itself is sound and only the XML inside is damaged)."""
    out = path.with_name(f"changed-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out


def read_all(path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    with reader.read_table(path, filename="x.xlsx") as table:
        return rows_of(table)


def test_streaming_matches_calamine_on_shared_strings(census_workbook):
    first, second = both(census_workbook)
    assert first == second
    assert first[1]  # the grouped header's merges came through


@pytest.mark.parametrize("cut", [40, 0], ids=["mid-row", "after-a-row"])
def test_a_sheet_cut_short_is_refused_not_read_in_part(census_workbook, monkeypatch, cut):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml[: xml.find(b'<row r="40"') + cut])
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)


@pytest.mark.parametrize("part", [SHEET_PART, "xl/sharedStrings.xml"])
def test_a_dtd_is_refused(census_workbook, monkeypatch, part):
    dtd = b'<!DOCTYPE x [<!ENTITY a "b">]>'
    damaged = with_part(census_workbook, part, lambda xml: xml.replace(b"?>", b"?>" + dtd, 1))
    with pytest.raises(reader.CensusFileError, match=MSG_UNSAFE):
        read_all(damaged, monkeypatch)


def test_a_shared_string_index_past_the_table_is_refused(census_workbook, monkeypatch):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml.replace(b't="s"><v>5</v>', b't="s"><v>99999</v>', 1))
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)


SHARED_STRINGS = "xl/sharedStrings.xml"


def shared_strings_of(path):
    with zipfile.ZipFile(path) as archive:
        return (xlsx_stream._plain_shared_strings(archive, SHARED_STRINGS),
                xlsx_stream._parsed_shared_strings(archive, SHARED_STRINGS))


def test_plain_shared_strings_are_read_by_the_regex_as_expat_reads_them(census_workbook):
    plain, parsed = shared_strings_of(census_workbook)
    assert plain == parsed and len(plain) > 100


@pytest.mark.parametrize(("entry", "text"), [
    (b"<si><t>a &amp; b</t></si>", "a & b"),
    (b"<si><t>line\r\nbreak</t></si>", "line\nbreak"),  # XML folds a carriage return into a line feed
    (b"<si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r></si>", "rich text"),
    ("<si><t>张</t><rPh sb=\"0\" eb=\"1\"><t>zhang</t></rPh></si>".encode(), "张"),  # the guide is not the value
    (b"<si><t/></si>", ""),
], ids=["entity", "carriage-return", "rich-text", "phonetic-guide", "empty"])
def test_shared_strings_the_regex_does_not_read_go_to_expat(census_workbook, entry, text):
    changed = with_part(census_workbook, SHARED_STRINGS, lambda xml: xml.replace(b"</sst>", entry + b"</sst>"))
    plain, parsed = shared_strings_of(changed)
    assert plain is None
    assert parsed[-1] == text
    with zipfile.ZipFile(changed) as archive:
        assert xlsx_stream._shared_strings(archive, SHARED_STRINGS) == parsed


def test_a_shared_strings_table_cut_short_is_refused(census_workbook, monkeypatch):
    damaged = with_part(census_workbook, SHARED_STRINGS, lambda xml: xml[: xml.rfind(b"<si>") + 6])
    with zipfile.ZipFile(damaged) as archive:
        assert xlsx_stream._plain_shared_strings(archive, SHARED_STRINGS) is None  # expat then finds it unfinished
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)


def test_the_shared_strings_are_loaded_only_in_the_child(census_workbook, monkeypatch):
    def not_here(*_args):
        raise AssertionError("the import process loaded the shared strings")

    monkeypatch.setattr(xlsx_stream, "_shared_strings", not_here)
    calamine = reader._open_workbook(census_workbook, None)
    with calamine, reader._open_streaming(census_workbook, None) as streaming:
        assert isinstance(streaming._workbook, xlsx_stream.ChildReader)
        assert rows_of(streaming) == rows_of(calamine)


def test_without_a_child_process_the_rows_are_read_here(census_workbook, monkeypatch):
    def no_process(*_args, **_kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(xlsx_stream.subprocess, "Popen", no_process)
    first, second = both(census_workbook)
    assert first == second


def test_a_problem_found_by_the_child_is_a_message_not_a_traceback(census_workbook, monkeypatch, capfd):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml[: len(xml) // 2])
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)
    assert capfd.readouterr().err == ""


def test_the_child_imports_neither_django_nor_the_registry(census_workbook):
    """Run as a script it must start fast and stand alone: the standard library and defusedxml."""
    script = xlsx_stream.__file__
    arguments = [str(census_workbook), SHEET_PART, "xl/sharedStrings.xml", "1900"]
    code = (f"import runpy, sys; sys.argv = {[script, *arguments]!r}; runpy.run_path({script!r}, run_name='__main__'); "
            "print(' '.join(sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-P", "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=True, timeout=60)
    packages = {name.split(".")[0] for name in done.stderr.split()}
    # Names starting with '_' are site's own start-up hooks (.pth files of the environment).
    assert {name for name in packages - sys.stdlib_module_names if not name.startswith("_")} == {"defusedxml"}


# --- The child's lifetime: 12,000 rows pickle to 2.7 MB, well past what the pipe holds (1 MB), so
# after one row read the child is still at work (or blocked writing) however fast the machine.


@pytest.fixture(scope="module")
def long_census(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "long.xlsx"
    write_census_workbook(path, 12_000, seed=5, today=dt.date(2026, 6, 1))
    return path


@contextlib.contextmanager
def deadline(seconds):
    """Fail instead of hanging."""
    def expire(*_args):
        raise TimeoutError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_for(condition, seconds=20):
    stop = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < stop, "gave up waiting"
        time.sleep(0.02)


def process_state(pid):
    """'R', 'S', 'Z' … from /proc, or None once the process is gone (reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def open_long(path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    table = reader.read_table(path, filename="x.xlsx")
    rows = iter(table)
    next(rows)
    return table, rows, table._workbook.process


def test_closing_a_table_early_stops_and_reaps_the_child(long_census, monkeypatch):
    table, _rows, process = open_long(long_census, monkeypatch)
    assert process.poll() is None
    table.close()
    assert process.returncode == -signal.SIGTERM  # it was still at work, and has been waited for
    assert process_state(process.pid) is None  # no zombie
    assert process.stdout.closed
    table.close()


def test_a_child_that_dies_is_an_error_not_a_hang_nor_fewer_rows(long_census, monkeypatch):
    table, rows, process = open_long(long_census, monkeypatch)
    process.send_signal(signal.SIGKILL)
    with deadline(30), pytest.raises(reader.CensusFileError, match="后台读取进程意外退出"):
        for _row in rows:
            pass
    assert process.returncode == -signal.SIGKILL
    table.close()


def test_the_child_exits_quietly_when_the_import_process_is_killed(long_census):
    """Killed while the child is blocked writing to it: the write fails, the child exits, no traceback."""
    script = (
        "import sys, time\n"
        "from registry.census import reader\n"
        f"table = reader.read_table({str(long_census)!r}, filename='x.xlsx')\n"
        "rows = iter(table)\n"
        "next(rows)\n"
        "print(table._workbook.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=Path(__file__).resolve().parents[2], env={**os.environ, "CENSUS_STREAM_XLSX_BYTES": "0"})
    try:
        child = int(parent.stdout.readline())
        wait_for(lambda: "pipe_write" in Path(f"/proc/{child}/wchan").read_text())  # blocked writing
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: process_state(child) in (None, "Z"))  # exited (reaped by init, or not yet)
    with deadline(20):
        assert parent.stderr.read() == b""  # the child shares it: read to the end once the child is gone
    parent.stdout.close()
    parent.stderr.close()


@pytest.mark.parametrize("change", [
    lambda xml: xml.replace(b'<c r="A40"', b'<c r="A900000"', 1),  # a row far below
    lambda xml: xml.replace(b'<c r="B40" t="s">', b'<c r="EA40" t="s">', 1),  # a value far to the right
], ids=["row", "column"])
def test_a_value_beyond_the_extents_stops_the_reading_child_with_the_usual_message(long_census, monkeypatch, change):
    """The streaming reader checks extents as it reads (no separate pass over the sheet first)."""
    monkeypatch.setattr(reader, "STREAM_XLSX_BYTES", 0)
    table = reader.read_table(with_part(long_census, SHEET_PART, change), filename="x.xlsx")
    process = table._workbook.process
    with pytest.raises(reader.CensusFileError, match="超出了可导入的范围"):
        list(table)
    assert process.returncode is not None and process_state(process.pid) is None


def test_the_bytes_a_sheet_really_inflates_to_are_limited_as_it_streams(census_workbook):
    name, sheet = xlsx_stream.open_streaming(census_workbook, None)
    sheet.max_inflated = 10_000
    with pytest.raises(xlsx_stream.SheetTooLarge, match="inflated"):
        list(sheet.rows())


def test_an_inflation_limit_reached_in_the_child_is_the_usual_message(long_census):
    """The zip's declared sizes pass (they can lie); the child counts what really comes out."""
    name, sheet = xlsx_stream.open_streaming(long_census, None)
    sheet.max_inflated = 2 * 1024 * 1024
    child = xlsx_stream.ChildReader(sheet)
    with pytest.raises(reader.CensusFileError, match="文件解压后过大（超过 2 MB）"):
        list(reader._guarded_stream(child.rows(), sheet.max_inflated))
    assert child.process.returncode is not None


def test_a_row_without_end_is_refused_before_it_fills_memory(long_census, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "_MAX_ROW_BYTES", 4096)
    endless = with_part(long_census, SHEET_PART, lambda xml: xml.replace(b"</row>", b""))
    name, sheet = xlsx_stream.open_streaming(endless, None)
    with pytest.raises(ValueError, match="no </row>"):
        list(sheet.rows())
