"""The benchmark's workbook generator is reproducible: the same arguments write the same file,
whatever the interpreter's string hashing (PYTHONHASHSEED) and whatever the day or time it runs.
A benchmark that compares two designs, or two runs, on "the same file" depends on it."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from bench.make_census_workbook import DEFAULT_TODAY
from registry.census.reader import read_table

ROOT = Path(__file__).resolve().parents[2]


def generate(path: Path, writer: str, hash_seed: str, *style: str) -> None:
    """The command line the benchmark runs, in a process of its own with this PYTHONHASHSEED."""
    subprocess.run([sys.executable, "bench/make_census_workbook.py", "--rows", "300", "--out", str(path),
                    "--writer", writer, "--seed", "4", *style], check=True, cwd=ROOT, capture_output=True,
                   env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"})


def rows_of(path: Path) -> list:
    with read_table(path, filename=path.name) as table:
        return [list(row) for row in table]


STYLES = {
    "fast": (),
    "xlsxwriter": ("--phones", "number", "--dates", "date", "--rich", "0.05", "--guardians", "high"),
    "openpyxl": ("--phones", "text", "--dates", "text", "--rich", "0.05", "--guardians", "low"),
}


@pytest.mark.parametrize("writer", ["fast", "xlsxwriter", "openpyxl"])
def test_same_arguments_same_workbook(tmp_path, writer):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    generate(first, writer, "1", *STYLES[writer])
    generate(second, writer, "2", *STYLES[writer])
    rows = rows_of(first)
    assert len(rows) > 300 and rows == rows_of(second)
    assert str(DEFAULT_TODAY) in str(rows[1])  # the 填报日期 is the fixed survey day, not the clock's
    if writer != "openpyxl":  # openpyxl writes its save time into docProps/core.xml
        assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_another_seed_another_workbook(tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    generate(first, "fast", "1")
    subprocess.run([sys.executable, "bench/make_census_workbook.py", "--rows", "300", "--out", str(second),
                    "--seed", "5"], check=True, cwd=ROOT, capture_output=True)
    assert rows_of(first) != rows_of(second)
