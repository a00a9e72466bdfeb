"""Census survey workbook import (农村留守老年人基本情况调查表) — the database-free part.

`open_census()` turns an uploaded spreadsheet into a stream of checked rows; `write_template()`
and `write_rejected()` produce the workbooks staff download; `format_row()` writes a values dict
in the template's columns (`CENSUS_COLUMNS`). See `spec/census-survey.md`.
"""

from .columns import CENSUS_COLUMNS, CensusColumn
from .engine import CellIssue, CensusFile, CensusRow, open_census
from .reader import CensusFileError
from .rejected import write_rejected
from .template import format_row, write_template

__all__ = [
    "CENSUS_COLUMNS",
    "CellIssue",
    "CensusColumn",
    "CensusFile",
    "CensusFileError",
    "CensusRow",
    "format_row",
    "open_census",
    "write_rejected",
    "write_template",
]
