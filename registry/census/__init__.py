"""Census survey workbook import (农村留守老年人基本情况调查表, `spec/census-survey.md`).

Read top-down, the package is: `reader` (a file → rows; `xlsx_stream` for .xlsx) → `columns`
(the header) → `normalize` and `engine` (checked rows, no database) → `writer` (the pipeline:
`scope`, `lookups`, `classify`, `bulk`, `rejected`) → `services` and `tasks` (the import job's
workflow) → `views`. `template` writes the blank template and `format_row` (the ledger export's
rows). The job model is `models.CensusImport` (app label `registry`).
"""
