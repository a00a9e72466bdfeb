"""The streaming .xlsx reader: every cell type of the OOXML spec however it is written, damaged
files refused rather than read in part, and a child process that never outlives the table nor
leaves the import waiting. (tests/registry/census/test_readers.py feeds the same cells through
every reader and path of the import.)"""

import contextlib
import datetime as dt
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bench.make_census_workbook import write_census_workbook
from registry.census import reader, xlsx_stream


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


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STYLES = (f'<styleSheet xmlns="{NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
          "</numFmts><cellXfs count=\"4\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/>"
          "<xf numFmtId=\"22\"/></cellXfs></styleSheet>")


def raw_workbook(path, sheet_data, shared=(), *, prefix="", date1904=False, tail="", head=""):
    """An .xlsx whose sheet is `sheet_data` as written (the XML inside <sheetData>), with the
    shared-string items `shared` (each the XML inside one <si>)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": (f'<workbook xmlns="{NS}" xmlns:r="{rel}">'
                            + ('<workbookPr date1904="1"/>' if date1904 else "")
                            + '<sheets><sheet name="调查表" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": (f'<?xml version="1.0"?>{head}<{p}sst {xmlns}>'
                                 + "".join(f"<{p}si>{item}</{p}si>" for item in shared) + f"</{p}sst>"),
        "xl/worksheets/sheet1.xml": (f'<?xml version="1.0"?>{head}<{p}worksheet {xmlns}><{p}sheetData>{sheet_data}'
                                     f"</{p}sheetData>{tail}</{p}worksheet>"),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return path


def read_here(path):
    """The rows as the reader gives them in this process (the child runs the same code)."""
    name, sheet = xlsx_stream.open_streaming(path, None)
    try:
        return [list(row) for row in sheet.rows()]
    finally:
        sheet.close()


CELL_TYPES = [
    # (the <c> element as written, the value the reader gives)
    ('<c r="A1" t="s"><v>0</v></c>', "张三"),
    ('<c r="A1" t="s"><v>1</v></c>', "王 秀英"),  # rich-text runs joined
    ('<c r="A1" t="s"><v>2</v></c>', "单雄"),  # the phonetic guide is not the value
    ('<c r="A1" t="s"><v>3</v></c>', "a & b <c>"),
    ('<c r="A1" t="s"><v>4</v></c>', "line\nbreak"),  # XML folds CR LF
    ('<c r="A1" t="s"><v>5</v></c>', "  padded  "),
    ('<c r="A1" t="s"><v>6</v></c>', ""),
    ('<c r="A1" t="inlineStr"><is><t>李家湾村</t></is></c>', "李家湾村"),
    ('<c r="A1" t="inlineStr"><is><r><rPr><b/></rPr><t xml:space="preserve">王 </t></r><r><t>芳</t></r></is></c>',
     "王 芳"),
    ('<c r="A1" t="inlineStr"><is><t>&#x5F20;&#19977;&amp;</t></is></c>', "张三&"),
    ('<c r="A1" t="inlineStr"><is><t xml:space="preserve">&#26446; &#23478;</t></is></c>', "李 家"),  # as openpyxl writes
    ('<c r="A1" t="str"><is><t>&#26446;</t></is></c>', ""),  # a formula's text is its <v>: none here
    ('<c r="A1" t="inlineStr"><is><t><![CDATA[<1&2>]]></t></is></c>', "<1&2>"),
    ('<c r="A1" t="str"><f>A2&amp;"x"</f><v>公式结果</v></c>', "公式结果"),
    ('<c r="A1"><v>13812345678</v></c>', 13812345678.0),
    ('<c r="A1" t="n"><v>1.5</v></c>', 1.5),
    ('<c r="A1" s="1"><v>45292</v></c>', dt.date(2024, 1, 1)),
    ('<c r="A1" t="n" s="2"><v>45292</v></c>', dt.date(2024, 1, 1)),  # a custom date format
    ('<c r="A1" s="3"><v>45292.5</v></c>', dt.datetime(2024, 1, 1, 12, 0)),
    ('<c t="n" s="1" r="A1"><v>45292</v></c>', dt.date(2024, 1, 1)),  # attributes in another order
    ("<c r='A1' s='1'><v>45292</v></c>", dt.date(2024, 1, 1)),  # single quotes
    ('<c r="A1" t="b"><v>1</v></c>', True),
    ('<c r="A1" t="b"><v>0</v></c>', False),
    ('<c r="A1" t="d"><v>1946-03-12</v></c>', dt.date(1946, 3, 12)),
    ('<c r="A1" t="d"><v>2024-05-06T00:00:00</v></c>', dt.date(2024, 5, 6)),
    ('<c r="A1" t="d"><v>2024-05-06T08:30:00</v></c>', dt.datetime(2024, 5, 6, 8, 30)),
    ('<c r="A1" t="e"><v>#N/A</v></c>', None),
    ('<c r="A1"><f>1+2</f><v>3</v></c>', 3.0),
    ('<c r="A1" s="1"/>', None),
    ('<c r="A1"></c>', None),
]
SHARED = ["<t>张三</t>", '<r><t xml:space="preserve">王 </t></r><r><rPr><b/></rPr><t>秀英</t></r>',
          '<t>单雄</t><rPh sb="0" eb="1"><t>shan</t></rPh><phoneticPr fontId="1"/>', "<t>a &amp; b &lt;c&gt;</t>",
          "<t>line\r\nbreak</t>", '<t xml:space="preserve">  padded  </t>', "<t/>"]


@pytest.mark.parametrize(("cell", "expected"), CELL_TYPES, ids=[cell for cell, _ in CELL_TYPES])
def test_every_cell_type_is_read(tmp_path, cell, expected):
    rows = read_here(raw_workbook(tmp_path / "t.xlsx", f'<row r="1">{cell}</row>', SHARED))
    assert rows == [[expected] if expected is not None else []]


def test_a_namespace_prefix_and_cells_without_references(tmp_path):
    """The Open XML SDK writes `x:c`; references may be left out (the cell after the previous)."""
    data = ('<x:row r="2"><x:c t="s"><x:v>0</x:v></x:c><x:c><x:v>7</x:v></x:c><x:c r="E2" t="b"><x:v>1</x:v></x:c>'
            '</x:row><x:row><x:c t="inlineStr"><x:is><x:t>第三行</x:t></x:is></x:c></x:row>')
    path = raw_workbook(tmp_path / "t.xlsx", data, ["<x:t>张三</x:t>"], prefix="x")
    assert read_here(path) == [[], ["张三", 7.0, "", "", True], ["第三行"]]


def test_the_1904_calendar(tmp_path):
    path = raw_workbook(tmp_path / "t.xlsx", '<row r="1"><c r="A1" s="1"><v>0</v></c></row>', date1904=True)
    assert read_here(path) == [[dt.date(1904, 1, 1)]]


def test_empty_rows_and_gaps_keep_their_places(tmp_path):
    data = '<row r="2"><c r="C2"><v>1</v></c></row><row r="3"/><row r="5"><c r="B5"><v>2</v></c></row>'
    assert read_here(raw_workbook(tmp_path / "t.xlsx", data)) == [[], ["", "", 1.0], [], [], ["", 2.0]]


@pytest.mark.parametrize("data", [
    '<row r="1"><c r="A1" t="s"><v>9</v></c></row>',  # a shared string past the table
    '<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>',  # an entity needing a DTD
    '<row r="1"><c r="A1"><v>1</v></c><c r="B1" ><v>2</v></row>',  # a cell never closed
    '<row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>2</v></c></row>',  # rows out of order
    '<row r="1"><c r="A1" t="q"><v>1</v></c></row>',  # no such type
], ids=["string-index", "entity", "unclosed-cell", "order", "type"])
def test_a_sheet_the_reader_cannot_read_whole_is_refused(tmp_path, data, monkeypatch):
    path = raw_workbook(tmp_path / "t.xlsx", data, SHARED)
    with pytest.raises(reader.CensusFileError, match="读取表格内容时出错"):
        read_all(path, monkeypatch)


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


def read_all(path, monkeypatch=None):
    with reader.read_table(path, filename="x.xlsx") as table:
        return rows_of(table)


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


def test_a_shared_strings_table_cut_short_is_refused(census_workbook, monkeypatch):
    damaged = with_part(census_workbook, SHARED_STRINGS, lambda xml: xml[: xml.rfind(b"<si>") + 6])
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)


def test_the_shared_strings_are_loaded_only_in_the_child(census_workbook, monkeypatch):
    expected = read_here(census_workbook)

    def not_here(*_args):
        raise AssertionError("the import process loaded the shared strings")

    monkeypatch.setattr(xlsx_stream, "_shared_strings", not_here)
    with reader.read_table(census_workbook, filename="x.xlsx") as table:
        assert isinstance(table._workbook, xlsx_stream.ChildReader)
        assert [list(row) for row in table] == expected


def test_without_a_child_process_the_rows_are_read_here(census_workbook, monkeypatch):
    in_child = read_all(census_workbook)

    def no_process(*_args, **_kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(xlsx_stream.subprocess, "Popen", no_process)
    with reader.read_table(census_workbook, filename="x.xlsx") as table:
        assert isinstance(table._workbook, xlsx_stream.StreamingSheet)
        assert rows_of(table) == in_child and len(in_child) > 60


def test_a_problem_found_by_the_child_is_a_message_not_a_traceback(census_workbook, monkeypatch, capfd):
    damaged = with_part(census_workbook, SHEET_PART, lambda xml: xml[: len(xml) // 2])
    with pytest.raises(reader.CensusFileError, match=MSG_DAMAGED):
        read_all(damaged, monkeypatch)
    assert capfd.readouterr().err == ""


def test_the_child_imports_neither_django_nor_the_registry(census_workbook):
    """Run as a script it must start fast and stand alone: the standard library and defusedxml."""
    script = xlsx_stream.__file__
    arguments = [str(census_workbook), SHEET_PART, "xl/sharedStrings.xml", "xl/styles.xml", "1900", "0", "0", "0"]
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
                              cwd=Path(__file__).resolve().parents[2])
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
    lambda xml: xml.replace(b'<row r="40">', b'<row r="900000">', 1),  # a row far below
    lambda xml: xml.replace(b'<c r="B40" t="s">', b'<c r="EA40" t="s">', 1),  # a value far to the right
], ids=["row", "column"])
def test_a_value_beyond_the_extents_stops_the_reading_child_with_the_usual_message(long_census, monkeypatch, change):
    """The streaming reader checks extents as it reads (no separate pass over the sheet first)."""
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
    monkeypatch.setattr(xlsx_stream, "_CHUNK", 1024)
    endless = with_part(long_census, SHEET_PART, lambda xml: xml.replace(b"</row>", b""))
    name, sheet = xlsx_stream.open_streaming(endless, None)
    with pytest.raises(ValueError, match="no end tag"):
        list(sheet.rows())
