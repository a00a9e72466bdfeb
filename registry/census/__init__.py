"""Census survey workbook import (农村留守老年人基本情况调查表, `spec/census-survey.md`).

Read top-down, the package is: `reader` (a file → rows; `xlsx_stream` for .xlsx) → `columns`
(the header) → `normalize` and `engine` (checked rows, no database) → `writer` (the pipeline and
its thread contract: `scope`, `lookups`, `classify`, `bulk` with the column map of `fields`,
`rejected`, and `preview`'s lists) → `jobs` (preview, run, the one transaction) → `tasks` (the
queue) and `services` (upload, confirm, cancel, retention) → `views`. `template` writes the blank
template and `format_row` (the ledger export's rows). The job model is `models.CensusImport`
(app label `registry`).
"""
