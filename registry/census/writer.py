"""The census writer: checked rows from the engine, resolved against the register, written in bulk.

`CensusWriter(user, …).run(census_file)` streams the rows in batches (CENSUS_BATCH_ROWS). Each
batch is first looked up (`_lookup`): a fixed number of queries whatever the batch size — the
elders with the batch's ID numbers (unscoped on purpose: an ID registered out of the user's
reach must be refused without saying where), their guardian links and agreements. Then it is
*resolved* (`_resolve`): the rows are classified new / updated / unchanged / rejected and the
new ones turned into binary COPY data, ids drawn from the sequences. Then it is *applied*
(`_apply`): counts, preview, rejected-rows workbook and, unless `dry_run` (the preview), the
writes — COPY for new rows with their history rows inserted set-wise, UPDATE … FROM for changed
ones. The caller wraps the whole run in ONE transaction (see services.execute) so a crash
leaves the register as it was.

With `parallel` (big files) checking and resolving run in a thread of their own, a batch or two
ahead of the writes, and each batch's lookups in another, while the thread checks the next
batch; both have their own connections and read only what was committed before the import
began, which is all they need (an ID number appears once per file; guardians this import
creates are remembered in memory). Checking and resolving are Python work, looking up and
writing mostly PostgreSQL's, so they overlap.

Rows are never all kept in memory: the rejected ones go to the rejected-rows workbook as they
are found, and only the first few are kept for the preview.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import io
import os
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Full, Queue
from typing import NamedTuple

import psycopg
from django.db import connection, connections
from django.db.models import FileField
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from psycopg.copy import FileWriter

from eldercare.audit import record_inserts, set_wise_history
from eldercare.choices import AreaLevel
from eldercare.models import Area
from eldercare.scoping import jurisdiction_prefix
from eldercare.spreadsheets import safe_cell_text

from ..models import CareAgreement, Elder, ElderGuardian, Guardian, name_initials
from . import normalize as nz
from .engine import CellIssue, CensusFile, CensusRow
from .rejected import REASON_HEADER, reasons_text

__all__ = ["CensusWriter", "ImportOutcome", "OUT_OF_SCOPE_ID", "ELDER_FIELDS"]

OUT_OF_SCOPE_ID = "该身份证号已在其他辖区登记，请联系乡镇民政办"

# Row value keys that are Elder columns (village → village_id is handled apart).
ELDER_FIELDS = (
    "village_group", "name", "ethnicity", "phones", "address", "living", "health", "self_care", "diseases",
    "income_sources", "monthly_income", "dibao", "tekun", "poverty_monitored", "difficulties", "needs",
    "family_doctor", "cadre", "surveyed_by", "surveyed_on", "notes",
)
_LOADED_FIELDS = ("id_number", "id", "village_id", *ELDER_FIELDS)
_ELDERS_SQL = (f"SELECT {', '.join(_LOADED_FIELDS)} FROM {Elder._meta.db_table} WHERE id_number = ANY(%s::text[])")
_LINKS_SQL = (f"SELECT l.id, l.elder_id, l.relation, l.is_primary, l.guardian_id, g.name, g.phone, g.whereabouts "
              f"FROM {ElderGuardian._meta.db_table} l JOIN {Guardian._meta.db_table} g ON g.id = l.guardian_id "
              f"WHERE l.elder_id = ANY(%s::bigint[]) ORDER BY l.is_primary DESC, l.id")  # the model's ordering
_AGREEMENTS_SQL = f"SELECT elder_id, caregiver_name FROM {CareAgreement._meta.db_table} WHERE elder_id = ANY(%s::bigint[])"


@dataclass
class ImportOutcome:
    """What an import did (or, for the preview, would do)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    rows: int = 0
    rejected_rows: list = field(default_factory=list)  # first N: {"row", "issues": [{header, value, message}]}
    warning_rows: list = field(default_factory=list)  # first N warnings, same shape
    unknown_columns: list = field(default_factory=list)
    file_warnings: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    sheet: str = ""

    def counts(self) -> dict:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "warnings": self.warnings, "rows": self.rows}

    def as_preview(self) -> dict:
        return {**self.counts(), "rejected_rows": self.rejected_rows, "warning_rows": self.warning_rows,
                "unknown_columns": self.unknown_columns, "file_warnings": self.file_warnings,
                "sheet": self.sheet}


def _issues(issues: Iterable[CellIssue]) -> list[dict]:
    return [{"header": i.header, "value": i.value[:100], "message": i.message} for i in issues]


class _RejectedBook:
    """The rejected-rows workbook, written row by row (openpyxl write-only streams to disk)."""

    def __init__(self, path: str, headers: list[str]):
        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("需修改的行")
        self.width = len(headers)
        bold = Font(bold=True)
        cells = []
        for text in (*headers, REASON_HEADER):
            cell = WriteOnlyCell(self.sheet, value=safe_cell_text(text))
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)
        self.count = 0

    def add(self, row: CensusRow) -> None:
        cells = [safe_cell_text(value) for value in row.raw[: self.width]]
        cells.extend("" for _ in range(self.width - len(cells)))
        cells.append(reasons_text(row))
        self.sheet.append(cells)
        self.count += 1

    def save(self) -> None:
        self.workbook.save(self.path)


class _Jurisdiction:
    """The villages a user may import into, by normalised name and by code, with their towns."""

    def __init__(self, user):
        prefix = jurisdiction_prefix(user)
        villages = Area.objects.for_user(user).filter(level=AreaLevel.VILLAGE).values_list("code", "name", "parent_id")
        villages = list(villages) if prefix is not None else []
        towns = dict(Area.objects.filter(code__in={parent for _, _, parent in villages}).values_list("code", "name"))
        self.prefix = prefix
        self.by_code = {code: (name, parent) for code, name, parent in villages}
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for code, name, _parent in villages:
            key = nz.normalize_village(name)[0] or name
            self.by_name[key].append(code)
        self.town_names = towns
        self._resolved: dict[tuple, tuple] = {}

    def in_scope(self, village_code: str) -> bool:
        return self.prefix is not None and village_code.startswith(self.prefix)

    @staticmethod
    def _town_matches(given: str, actual: str) -> bool:
        given = given.removesuffix("人民政府").removesuffix("政府")
        return given == actual or actual.startswith(given) or given.startswith(actual)

    def resolve(self, values: dict) -> tuple[str | None, str | None]:
        """(village code, None) or (None, reason) for a row's village and town cells."""
        key = (values.get("village"), values.get("town"))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(*key)  # a few hundred distinct pairs per county
        return found

    def _resolve(self, village: str | None, town: str | None) -> tuple[str | None, str | None]:
        if village is None:
            return None, None  # already an error from the engine
        if village.isdigit() and len(village) == 12:
            candidates = [village] if village in self.by_code else []
        else:
            candidates = list(self.by_name.get(village, ()))
        if town and len(candidates) > 1:
            candidates = [c for c in candidates if self._town_matches(town, self.town_names.get(self.by_code[c][1], ""))]
        if not candidates:
            return None, (f"村“{village}”不在您的辖区内，或村名有误。只能导入本辖区的村；"
                          "请核对村名（也可填写 12 位区划代码）")
        if len(candidates) > 1:
            return None, f"辖区内有多个名为“{village}”的村，请填写“乡镇”列或改填村的 12 位区划代码"
        code = candidates[0]
        if town:
            actual = self.town_names.get(self.by_code[code][1], "")
            if not self._town_matches(town, actual):
                return None, f"乡镇“{town}”与村“{self.by_code[code][0]}”不符：该村属于{actual}。请核对乡镇或村名"
        return code, None


ProgressCallback = Callable[[int, "ImportOutcome"], None]


class _Link(NamedTuple):
    """A guardian link of an elder in the register, with the guardian's own fields (_LINKS_SQL)."""

    id: int
    elder_id: int
    relation: str
    is_primary: bool
    guardian_id: int
    name: str
    phone: str
    whereabouts: str


class _Register(NamedTuple):
    """What the register holds for a chunk's ID numbers (CensusWriter._lookup)."""

    existing: dict  # ID number → the elder's row: (ID number, id, village, *ELDER_FIELDS)
    links: dict  # elder id → its guardian links
    agreements: set  # (elder id, caregiver name)


@dataclass
class _Batch:
    """One batch resolved against the register: its counts, its rejected rows, and (unless the
    run is a dry run) what to write: new rows as COPY data, ids included, and the updates."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # CensusRow
    warned: list = field(default_factory=list)  # CensusRow with warnings
    inserts: list = field(default_factory=list)  # (model, ids, COPY data)
    updates: list = field(default_factory=list)  # (model, COPY data of (id, changed values …))
    elder_updates: list = field(default_factory=list)  # (elder id, {field: new value})
    guardian_updates: dict = field(default_factory=dict)  # guardian id → {"phone": …, "whereabouts": …}
    link_updates: list = field(default_factory=list)  # (link id, {"relation": …})


class _CopyTable:
    """A model's insertable columns (the id first; generated columns are PostgreSQL's) and the
    model defaults, to turn a dict of values into a COPY row."""

    def __init__(self, model):
        fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False) and not f.primary_key]
        self.attnames = [f.attname for f in fields]
        self.columns = ", ".join(['"id"', *(f'"{f.column}"' for f in fields)])
        self.defaults = ["" if isinstance(f, FileField) else f.get_default() for f in fields]
        self.types = ["bigint", *(_type_name(f) for f in fields)]

    def copy_data(self, ids: list[int], rows: Iterable[dict]) -> bytes:
        # values.get(column, its default), column by column, in C: no merged dict per row.
        attnames, defaults = self.attnames, self.defaults
        return _copy_data(self.types, ((pk, *map(values.get, attnames, defaults))
                                       for pk, values in zip(ids, rows, strict=True)))


class _UpdateTable:
    """Changed rows of a model, applied by one UPDATE … FROM a temporary table they are COPYed
    into (bulk_update's CASE per row and column cost 0.6 ms a changed row). A column left NULL
    keeps its value: the import never empties a field (an empty cell means 'keep')."""

    def __init__(self, model, attnames: tuple[str, ...], **stamp):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.attnames = attnames
        self.temp = f"census_{model._meta.model_name}_changes"
        self.ddl = ", ".join(['"id" bigint', *(f'"{fields[a].column}" {fields[a].db_type(connection)}'
                                                for a in attnames)])
        self.types = ["bigint", *(_type_name(fields[a]) for a in attnames)]
        sets = [f'"{fields[a].column}" = COALESCE(c."{fields[a].column}", t."{fields[a].column}")' for a in attnames]
        sets += [f'"{fields[a].column}" = %s' for a in stamp]  # set on every changed row
        self.update = (f'UPDATE "{model._meta.db_table}" t SET {", ".join(sets)} '
                       f'FROM "{self.temp}" c WHERE t."id" = c."id"')
        self.stamp = list(stamp.values())

    def copy_data(self, changes: Iterable[tuple[int, dict]]) -> bytes:
        return _copy_data(self.types, ((pk, *map(values.get, self.attnames)) for pk, values in changes))

    def apply(self, data: bytes) -> None:
        """Inside the import's transaction; the row-level update trigger records the history."""
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{self.temp}" ({self.ddl}) ON COMMIT DROP')
            cursor.execute(f'TRUNCATE "{self.temp}"')
            with cursor.cursor.copy(f'COPY "{self.temp}" FROM STDIN (FORMAT BINARY)') as copy:
                copy.write(data)
            cursor.execute(self.update, self.stamp)


def _type_name(field) -> str:
    """PostgreSQL's name of a column's type, for binary COPY ('varchar(30)' → 'varchar')."""
    return re.sub(r"\(.*?\)", "", field.db_type(connection))


def _copy_data(types: list[str], rows: Iterable[tuple]) -> bytes:
    """Rows in binary COPY format, by psycopg's own (C) formatter writing to memory: the resolving
    side pays for it, and the writing side sends one block per batch and table."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor, psycopg.Copy(cursor.cursor, binary=True, writer=FileWriter(buffer)) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


class CensusWriter:
    """Resolve and (unless `dry_run`) write a census file's rows for `user`; see the module doc."""

    def __init__(self, user, *, dry_run: bool, job_id: int | None = None, rejected_path: str | None = None,
                 preview_limit: int = 50, batch_rows: int = 2000, progress: ProgressCallback | None = None,
                 parallel: bool = False):
        self.user = user
        self.dry_run = dry_run
        self.job_id = job_id
        self.rejected_path = rejected_path
        self.preview_limit = preview_limit
        self.batch_rows = batch_rows
        self.progress = progress
        self.parallel = parallel
        self.scope = _Jurisdiction(user)
        self._guardians: dict | None = None
        self._settled_guardians: set[int] = set()  # linked guardians a row of this import has checked
        self.now = timezone.now()
        self.tables = {model: _CopyTable(model) for model in (Elder, Guardian, ElderGuardian, CareAgreement)}
        self.updates = {
            Elder: _UpdateTable(Elder, ("village_id", "name_initials", *ELDER_FIELDS), source_import_id=job_id,
                                updated_at=self.now),
            Guardian: _UpdateTable(Guardian, ("phone", "whereabouts")),
            ElderGuardian: _UpdateTable(ElderGuardian, ("relation",)),
        }
        # Test hook for the kill-the-worker and database-restart tests: sleep once, after this
        # many batches (for CENSUS_TEST_PAUSE_SECONDS, default 600).
        self._pause_after = int(os.environ.get("CENSUS_TEST_PAUSE_AFTER_BATCHES", "0") or 0)

    def run(self, census: CensusFile) -> ImportOutcome:
        outcome = ImportOutcome(unknown_columns=list(census.unknown_columns), file_warnings=list(census.file_warnings),
                                headers=list(census.headers), sheet=census.sheet_name or "")
        self.id_header = census.column_header("id_number") or "身份证号"
        self.village_header = census.column_header("village") or "村"
        book = _RejectedBook(self.rejected_path, census.headers) if self.rejected_path else None
        if not self.dry_run:
            # Foreign keys checked as each batch is written (overlapping the next batch's
            # resolving), not all at COMMIT: there they took seconds, alone, at the very end.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with _interpreter_tuned():
            self._run(census, outcome, book)
        if book is not None:
            book.save()
        return outcome

    def _run(self, census: CensusFile, outcome: ImportOutcome, book: _RejectedBook | None) -> None:
        # Checking rows (engine) and resolving them against the register, then writing. With
        # `parallel` the first runs in a thread of its own, a batch or two ahead of the writes.
        batches = self._resolved(census.chunks(self.batch_rows))
        if self.parallel:
            batches = _run_ahead(batches, "census-resolve")
        try:
            for count, batch in enumerate(batches, start=1):
                self._apply(batch, outcome, book)
                self._after_batch(outcome, count)
        finally:
            _close(batches)  # stops the threads now, not when the exception's traceback is freed

    def _after_batch(self, outcome: ImportOutcome, batches: int) -> None:
        if self.progress is not None:
            self.progress(outcome.rows, outcome)
        if self._pause_after and batches == self._pause_after:
            time.sleep(float(os.environ.get("CENSUS_TEST_PAUSE_SECONDS", "600")))

    def _resolved(self, chunks: Iterator[list[CensusRow]]) -> Iterator[_Batch]:
        """Each chunk resolved against the register. With `parallel`, a chunk's lookups run in a
        thread of their own (and connection) while this one checks the next chunk: that thread
        mostly waits for PostgreSQL, this one works in Python, so the two overlap instead of
        taking turns with the interpreter lock as two busy threads would."""
        try:
            if not self.parallel:
                for chunk in chunks:
                    yield self._resolve(chunk, self._lookup(chunk))
                return
            with ThreadPoolExecutor(1, thread_name_prefix="census-lookup") as lookups:
                try:
                    lookups.submit(_without_parallel_plans).result()  # its failure is the import's
                    previous = None
                    for chunk in chunks:
                        looked_up = lookups.submit(self._lookup, chunk)
                        if previous is not None:
                            yield self._resolve(previous[0], previous[1].result())
                        previous = (chunk, looked_up)
                    if previous is not None:
                        yield self._resolve(previous[0], previous[1].result())
                finally:
                    lookups.submit(connections.close_all)  # that thread's own connection
        finally:
            _close(chunks)

    # --- the caller's side: counts, preview, rejected-rows workbook, writes ----------------

    def _apply(self, batch: _Batch, outcome: ImportOutcome, book: _RejectedBook | None) -> None:
        outcome.rows += batch.rows
        outcome.new += batch.new
        outcome.updated += batch.updated
        outcome.unchanged += batch.unchanged
        outcome.rejected += len(batch.rejected)
        for row in batch.warned:
            outcome.warnings += len(row.warnings)
            if len(outcome.warning_rows) < self.preview_limit:
                outcome.warning_rows.append({"row": row.row_number, "issues": _issues(row.warnings)})
        for row in batch.rejected:
            if len(outcome.rejected_rows) < self.preview_limit:
                outcome.rejected_rows.append({"row": row.row_number, "issues": _issues(row.errors)})
            if book is not None:
                book.add(row)
        if not self.dry_run:
            self._write(batch)

    def _write(self, batch: _Batch) -> None:
        """The batch's bulk statements (inside the caller's transaction): new rows by COPY with
        the row-level history triggers skipped (their WHEN clause, see eldercare.audit), then the
        same event rows set-wise, one INSERT … SELECT per table with the import's pghistory
        context (job, user); changed rows by UPDATE … FROM, their triggers recording history.
        Few statements per batch: each is a wait for PostgreSQL and then for the interpreter."""
        if batch.inserts:
            with set_wise_history(), connection.cursor() as cursor:
                for model, _ids, data in batch.inserts:
                    with cursor.cursor.copy(f'COPY "{model._meta.db_table}" ({self.tables[model].columns}) '
                                            "FROM STDIN (FORMAT BINARY)") as copy:
                        copy.write(data)
            for model, ids, _data in batch.inserts:
                record_inserts(model, ids)
        for model, data in batch.updates:
            self.updates[model].apply(data)

    # --- the resolving side: register lookups and row outcomes -----------------------------

    def _lookup(self, rows: list[CensusRow]) -> _Register:
        """The register's side of a chunk, in a fixed number of queries whatever its size: the
        elders with its ID numbers (unscoped on purpose: an ID registered out of the user's
        reach must be refused without saying where), and the guardian links and agreements of
        those in scope. Plain SQL with one array parameter: the ORM's IN (…2,000 placeholders…)
        costs more to build than to run."""
        numbers = [row.values["id_number"] for row in rows if row.ok and "id_number" in row.values]
        if not numbers:
            return _Register({}, {}, set())
        existing = {row[0]: row for row in _fetch(_ELDERS_SQL, [_array_literal(numbers)])}
        in_scope_ids = [row[1] for row in existing.values() if self.scope.in_scope(row[2])]
        links: dict[int, list[_Link]] = defaultdict(list)
        agreements: set[tuple[int, str]] = set()
        if in_scope_ids:
            ids = _array_literal(map(str, in_scope_ids))
            for link in map(_Link._make, _fetch(_LINKS_SQL, [ids])):
                links[link.elder_id].append(link)
            agreements = set(_fetch(_AGREEMENTS_SQL, [ids]))
        return _Register(existing, links, agreements)

    def _resolve(self, rows: list[CensusRow], register: _Register) -> _Batch:
        """Classify a batch against the register (new / updated / unchanged / rejected) and build
        its writes. Reads only what was committed before the import started, plus what this
        import has decided so far (the guardians it creates): with `parallel` it runs in its own
        thread and connection, a batch or two ahead of the writes."""
        batch = _Batch(rows=len(rows))
        accepted: list[tuple[CensusRow, str]] = []
        for row in rows:
            if row.warnings:
                batch.warned.append(row)
            if row.ok:
                code, reason = self.scope.resolve(row.values)
                if reason:
                    row.errors.append(CellIssue(self.village_header, str(row.values.get("village", "")), reason))
                elif code:
                    accepted.append((row, code))
                    continue
            batch.rejected.append(row)
        if not accepted:
            return batch
        existing, links, agreements = register
        settled = self._settled_guardians

        # New elders and guardians are referred to by -(position + 1) until their ids are drawn.
        new_elders: list[dict] = []
        new_guardians: list[dict] = []
        guardian_refs: dict[tuple, int] = {}  # (village, name, phone) → ref, for guardians with a phone
        new_links: list[tuple] = []  # (elder ref, guardian ref, relation, is_primary)
        new_agreements: list[tuple] = []  # (elder ref, caregiver name, phone, filed on)

        for row, code in accepted:
            values = row.values
            current = existing.get(values["id_number"])
            if current is not None and not self.scope.in_scope(current[2]):
                row.errors.append(CellIssue(self.id_header, values["id_number"], OUT_OF_SCOPE_ID))
                batch.rejected.append(row)
                continue
            changed = False
            if current is None:
                new_elders.append({**values, "village_id": code})
                elder_ref = -len(new_elders)
                elder_links: list[_Link] = []
                has_primary = False
            else:
                elder_ref, village_id, stored = current[1], current[2], current[3:]
                # The row's cells over the register's values (an empty cell is absent: it keeps
                # the value), compared in C; field by field only when something differs.
                merged = tuple(map(values.get, ELDER_FIELDS, stored))
                changes = {} if merged == stored else {
                    key: value for key, value, old in zip(ELDER_FIELDS, merged, stored, strict=True) if value != old}
                if code != village_id:
                    changes["village_id"] = code
                if changes:
                    if "name" in changes:
                        changes["name_initials"] = name_initials(changes["name"])
                    batch.elder_updates.append((elder_ref, changes))
                    changed = True
                elder_links = links.get(elder_ref, [])
                has_primary = any(link.is_primary for link in elder_links)

            used_links: set[int] = set()
            used_guardians: set = set()
            for slot, guardian in enumerate(values.get("guardians", ())):
                name = guardian["name"]
                # Slot by slot: two guardians of one elder may share a name (two sons named 张伟).
                linked = next((link for link in elder_links if link.name == name and link.id not in used_links), None)
                if linked is not None:
                    used_links.add(linked.id)
                    guardian_id = linked.guardian_id
                    # A guardian shared by several elders takes the first row's phone and
                    # whereabouts: later rows that differ would flip it on every re-import.
                    if guardian_id not in settled:
                        settled.add(guardian_id)
                        changes = {key: guardian[key] for key in ("phone", "whereabouts")
                                   if key in guardian and guardian[key] != getattr(linked, key)}
                        if changes:
                            batch.guardian_updates[guardian_id] = changes
                            changed = True
                    if "relation" in guardian and guardian["relation"] != linked.relation:
                        batch.link_updates.append((linked.id, {"relation": guardian["relation"]}))
                        changed = True
                    continue
                phone = guardian.get("phone", "")
                key = (code, name, phone)
                if key in used_guardians:
                    continue  # the same person written twice in one row: one link
                used_guardians.add(key)
                # Someone already registered in the village with this name and phone is that
                # person; without a phone, a name alone does not say so (two 王秀英 in one village).
                guardian_ref = (self._known_guardians().get(key) or guardian_refs.get(key)) if phone else None
                if guardian_ref is None:
                    new_guardians.append({"village_id": code, "name": name, "phone": phone,
                                          "whereabouts": guardian.get("whereabouts", "")})
                    guardian_ref = -len(new_guardians)
                    if phone:
                        guardian_refs[key] = guardian_ref
                primary = slot == 0 and not has_primary
                has_primary = has_primary or primary
                new_links.append((elder_ref, guardian_ref, guardian.get("relation") or "other_kin", primary))
                changed = True

            caregiver = values.get("agreement_caregiver")
            if values.get("agreement") is True and caregiver:
                if elder_ref < 0 or (elder_ref, caregiver) not in agreements:
                    new_agreements.append((elder_ref, caregiver, values.get("agreement_phone", ""),
                                           values.get("surveyed_on")))
                    if elder_ref > 0:
                        agreements.add((elder_ref, caregiver))
                    changed = True

            if current is None:
                batch.new += 1
            elif changed:
                batch.updated += 1
            else:
                batch.unchanged += 1

        if self.dry_run:
            for key in guardian_refs:
                self._guardians[key] = -1  # no ids in a dry run: later rows link to it, as they would
            return batch
        self._build_inserts(batch, new_elders, new_guardians, guardian_refs, new_links, new_agreements)
        for model, changes in ((Elder, batch.elder_updates), (Guardian, batch.guardian_updates.items()),
                               (ElderGuardian, batch.link_updates)):
            if changes:
                batch.updates.append((model, self.updates[model].copy_data(changes)))
        return batch

    def _build_inserts(self, batch, new_elders, new_guardians, guardian_refs, new_links, new_agreements) -> None:
        """Draw the ids of the new rows and turn them into COPY data."""
        elder_ids, guardian_ids, link_ids, agreement_ids = _next_ids(
            (Elder, len(new_elders)), (Guardian, len(new_guardians)), (ElderGuardian, len(new_links)),
            (CareAgreement, len(new_agreements)))

        def elder(ref):
            return ref if ref > 0 else elder_ids[-ref - 1]

        def guardian(ref):
            return ref if ref > 0 else guardian_ids[-ref - 1]

        for key, ref in guardian_refs.items():
            self._guardians[key] = guardian(ref)
        now, job, user = self.now, self.job_id, self.user.pk
        rows = {
            Elder: (elder_ids, ({**values, "name_initials": name_initials(values["name"]), "source_import_id": job,
                                 "created_at": now, "updated_at": now} for values in new_elders)),
            Guardian: (guardian_ids, ({**values, "created_at": now} for values in new_guardians)),
            ElderGuardian: (link_ids, ({"elder_id": elder(e), "guardian_id": guardian(g), "relation": relation,
                                        "is_primary": primary} for e, g, relation, primary in new_links)),
            CareAgreement: (agreement_ids, ({"elder_id": elder(e), "caregiver_name": name, "caregiver_phone": phone,
                                             "filed_on": filed_on, "created_by_id": user, "created_at": now}
                                            for e, name, phone, filed_on in new_agreements)),
        }
        for model, (ids, values) in rows.items():
            if ids:
                batch.inserts.append((model, ids, self.tables[model].copy_data(ids, values)))

    def _known_guardians(self) -> dict:
        """Guardians with a phone already registered in the user's villages, by (village, name,
        phone): linked rather than created twice. Loaded when a row first brings a new guardian
        (never, re-importing an unchanged file) and kept up to date with the ones this import
        creates (a per-batch lookup would scan a growing table)."""
        if self._guardians is None:
            self._guardians = {}
            queryset = Guardian._base_manager.exclude(phone="")
            if self.scope.prefix:
                queryset = queryset.filter(village__code__startswith=self.scope.prefix)
            for gid, village_id, name, phone in queryset.values_list("id", "village_id", "name", "phone").iterator(
                    chunk_size=10_000):
                self._guardians.setdefault((village_id, name, phone), gid)
        return self._guardians


@contextlib.contextmanager
def _interpreter_tuned() -> Iterator[None]:
    """The interpreter set for the import, and reset afterwards:

    - the cyclic garbage collector off: the rows, values and COPY data the import allocates by
      the million hold no reference cycles (reference counting frees them), yet each allocation
      counts towards a collection that walks every live object — a quarter of the import
      process's CPU on a county census;
    - the GIL handed over every 0.5 ms instead of 5: the writing thread waits for PostgreSQL a
      dozen times a batch, and after each wait for the busy resolving thread to let go of the
      interpreter (the full county import: 35 s → 29 s).

    Both are process-wide: with imports overlapping in one process, the first sets them and the
    last restores them."""
    with _TUNING:
        if not _TUNED:
            _TUNED.append((gc.isenabled(), sys.getswitchinterval()))
            gc.disable()
            sys.setswitchinterval(0.0005)
        _TUNED.append(None)
    try:
        yield
    finally:
        with _TUNING:
            _TUNED.pop()
            if len(_TUNED) == 1:
                collecting, interval = _TUNED.pop()
                sys.setswitchinterval(interval)
                if collecting:
                    gc.enable()


_TUNING = threading.Lock()
_TUNED: list = []  # the settings found by the first import in, then one entry per import running


def _without_parallel_plans() -> None:
    """For this thread's connection: the lookups fetch 2,000 keys by index, yet once the tables
    have statistics PostgreSQL gives the links query a parallel worker — a process started per
    query, on a core the import needs."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")


_END = object()


def _run_ahead(items: Iterator, name: str, depth: int = 2) -> Iterator:
    """Iterate `items` in a thread of its own, up to `depth` items ahead of the caller.

    Checking and resolving rows is Python work; writing is mostly PostgreSQL's. Python threads
    share one core, but a thread waiting for PostgreSQL (or for the .xlsx reader's process) lets
    the others run, so the stages overlap. A thread that
    touches the database has a connection of its own: it reads what was committed before the
    import began. An exception in the thread is raised here; when the caller stops early
    (cancel, failure) the thread and the stages before it stop too."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # noqa: B036 — handed to the caller, raised there
            put(error)
        finally:
            _close(items)  # the stages before this one stop too
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _close(iterator: Iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _next_ids(*wanted: tuple) -> list[list[int]]:
    """For each (model, count), `count` ids drawn from the table's sequence, in one statement.
    Sequences are not transactional: a connection other than the writing one may draw them."""
    selects, params = [], []
    for model, count in wanted:
        selects.append("(SELECT coalesce(array_agg(nextval(%s::regclass)), '{}') FROM generate_series(1, %s))")
        params += [_sequence(model._meta.db_table), count]
    return list(_fetch(f"SELECT {', '.join(selects)}", params)[0])


@functools.cache
def _sequence(table: str) -> str:
    return _fetch("SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]


def _array_literal(items: Iterable[str]) -> str:
    """A PostgreSQL array literal of ID numbers or ids (digits and X: nothing to quote); psycopg's list adapter
    is Python code, and a batch passes thousands of them."""
    return "{" + ",".join(items) + "}"


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
