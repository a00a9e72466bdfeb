"""The census writer: checked rows from the engine, resolved against the register, written in bulk.

`CensusWriter(user, …).run(census_file)` streams the rows in batches (CENSUS_BATCH_ROWS). Per
batch it runs a fixed number of queries whatever the batch size: the elders with the batch's
ID numbers (unscoped on purpose: an ID registered out of the user's reach must be refused
without saying where), their guardian links and agreements, and the guardians of the batch's
villages with the batch's names. Rows are classified new / updated / unchanged / rejected;
with `dry_run` (the preview) nothing is written, otherwise the writes are bulk statements and
the caller wraps the whole run in ONE transaction (see services.run_import) so a crash leaves
the register as it was. pghistory triggers record every inserted or changed row.

Rows are never all kept in memory: the rejected ones go to the rejected-rows workbook as they
are found, and only the first few are kept for the preview.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pgtrigger
from django.apps import apps
from django.db import connection
from django.db.models import FileField
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

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
_LOADED_FIELDS = ("id", "id_number", "village_id", *ELDER_FIELDS)


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

    def in_scope(self, village_code: str) -> bool:
        return self.prefix is not None and village_code.startswith(self.prefix)

    @staticmethod
    def _town_matches(given: str, actual: str) -> bool:
        given = given.removesuffix("人民政府").removesuffix("政府")
        return given == actual or actual.startswith(given) or given.startswith(actual)

    def resolve(self, values: dict) -> tuple[str | None, str | None]:
        """(village code, None) or (None, reason) for a row's village and town cells."""
        village = values.get("village")
        town = values.get("town")
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


class CensusWriter:
    """Resolve and (unless `dry_run`) write a census file's rows for `user`; see the module doc."""

    def __init__(self, user, *, dry_run: bool, job_id: int | None = None, rejected_path: str | None = None,
                 preview_limit: int = 50, batch_rows: int = 2000, progress: ProgressCallback | None = None):
        self.user = user
        self.dry_run = dry_run
        self.job_id = job_id
        self.rejected_path = rejected_path
        self.preview_limit = preview_limit
        self.batch_rows = batch_rows
        self.progress = progress
        self.scope = _Jurisdiction(user)
        self._guardians: dict | None = None
        self.now = timezone.now()
        # Test hook for the kill-the-worker test: sleep after this many batches.
        self._pause_after = int(os.environ.get("CENSUS_TEST_PAUSE_AFTER_BATCHES", "0") or 0)

    def run(self, census: CensusFile) -> ImportOutcome:
        outcome = ImportOutcome(unknown_columns=list(census.unknown_columns), file_warnings=list(census.file_warnings),
                                headers=list(census.headers), sheet=census.sheet_name or "")
        self.id_header = census.column_header("id_number") or "身份证号"
        self.village_header = census.column_header("village") or "村"
        book = _RejectedBook(self.rejected_path, census.headers) if self.rejected_path else None
        batch: list[CensusRow] = []
        batches = 0
        for row in census.rows():
            batch.append(row)
            if len(batch) >= self.batch_rows:
                self._batch(batch, outcome, book)
                batch = []
                batches += 1
                self._after_batch(outcome, batches)
        if batch:
            self._batch(batch, outcome, book)
            batches += 1
            self._after_batch(outcome, batches)
        if book is not None:
            book.save()
        return outcome

    def _after_batch(self, outcome: ImportOutcome, batches: int) -> None:
        if self.progress is not None:
            self.progress(outcome.rows, outcome)
        if self._pause_after and batches >= self._pause_after:
            time.sleep(600)

    # --- one batch -------------------------------------------------------------------------

    def _reject(self, row: CensusRow, outcome: ImportOutcome, book: _RejectedBook | None) -> None:
        outcome.rejected += 1
        if len(outcome.rejected_rows) < self.preview_limit:
            outcome.rejected_rows.append({"row": row.row_number, "issues": _issues(row.errors)})
        if book is not None:
            book.add(row)

    def _batch(self, rows: list[CensusRow], outcome: ImportOutcome, book: _RejectedBook | None) -> None:
        outcome.rows += len(rows)
        accepted: list[tuple[CensusRow, str]] = []
        for row in rows:
            if row.warnings:
                outcome.warnings += len(row.warnings)
                if len(outcome.warning_rows) < self.preview_limit:
                    outcome.warning_rows.append({"row": row.row_number, "issues": _issues(row.warnings)})
            if row.ok:
                code, reason = self.scope.resolve(row.values)
                if reason:
                    row.errors.append(CellIssue(self.village_header, str(row.values.get("village", "")), reason))
                elif code:
                    accepted.append((row, code))
                    continue
            self._reject(row, outcome, book)
        if not accepted:
            return

        ids = [row.values["id_number"] for row, _ in accepted]
        existing = {e["id_number"]: e for e in Elder._base_manager.filter(id_number__in=ids).values(*_LOADED_FIELDS)}
        in_scope_ids = [e["id"] for e in existing.values() if self.scope.in_scope(e["village_id"])]
        links: dict[int, list[dict]] = defaultdict(list)
        agreements: set[tuple[int, str]] = set()
        if in_scope_ids:
            for link in ElderGuardian._base_manager.filter(elder_id__in=in_scope_ids).values(
                "id", "elder_id", "relation", "is_primary", "guardian_id", "guardian__name", "guardian__phone",
                "guardian__whereabouts",
            ):
                links[link["elder_id"]].append(link)
            agreements = set(CareAgreement._base_manager.filter(elder_id__in=in_scope_ids).values_list(
                "elder_id", "caregiver_name"))
        # Guardians already registered in the user's villages: linked by (village, name, phone)
        # rather than created twice. Loaded once per import and kept up to date with the rows
        # this import creates: a per-batch lookup would scan a table that grows with every batch.
        known_guardians = self._known_guardians()

        new_elders: list[Elder] = []
        changed_elders: dict[int, tuple[Elder, set]] = {}
        new_guardians: dict[tuple, Guardian] = {}
        guardian_updates: dict[int, Guardian] = {}
        guardian_update_fields: set[str] = set()
        new_links: list[tuple] = []  # (elder or elder id, guardian key or id, relation, is_primary)
        link_updates: list[ElderGuardian] = []
        new_agreements: list[tuple] = []  # (elder or elder id, caregiver name, phone, surveyed_on)

        for row, code in accepted:
            values = row.values
            current = existing.get(values["id_number"])
            if current is not None and not self.scope.in_scope(current["village_id"]):
                row.errors.append(CellIssue(self.id_header, values["id_number"], OUT_OF_SCOPE_ID))
                self._reject(row, outcome, book)
                continue
            changed = False
            if current is None:
                elder = Elder(
                    village_id=code, id_number=values["id_number"], birth_date=values["birth_date"],
                    sex=values["sex"], name_initials=name_initials(values["name"]), source_import_id=self.job_id,
                    created_at=self.now, updated_at=self.now,
                    **{key: values[key] for key in ELDER_FIELDS if key in values},
                )
                new_elders.append(elder)
                elder_ref = elder
                elder_links: list[dict] = []
                has_primary = False
            else:
                fields = {key for key in ELDER_FIELDS if key in values and values[key] != current[key]}
                if code != current["village_id"]:
                    fields.add("village_id")
                if fields:
                    elder = Elder(**current)
                    for key in fields:
                        setattr(elder, key, code if key == "village_id" else values[key])
                    if "name" in fields:
                        elder.name_initials = name_initials(elder.name)
                        fields.add("name_initials")
                    elder.source_import_id = self.job_id
                    elder.updated_at = self.now
                    changed_elders[elder.pk] = (elder, fields)
                    changed = True
                elder_ref = current["id"]
                elder_links = links.get(current["id"], [])
                has_primary = any(link["is_primary"] for link in elder_links)

            used_links: set[int] = set()
            used_guardians: set = set()
            for slot, guardian in enumerate(values.get("guardians", ())):
                name = guardian["name"]
                # Slot by slot: two guardians of one elder may share a name (two sons named 张伟).
                linked = next((link for link in elder_links
                               if link["guardian__name"] == name and link["id"] not in used_links), None)
                if linked is not None:
                    used_links.add(linked["id"])
                    target = guardian_updates.get(linked["guardian_id"])
                    for key, column in (("phone", "guardian__phone"), ("whereabouts", "guardian__whereabouts")):
                        if key in guardian and guardian[key] != linked[column]:
                            if target is None:
                                target = Guardian(
                                    id=linked["guardian_id"], name=name, phone=linked["guardian__phone"],
                                    whereabouts=linked["guardian__whereabouts"])
                                guardian_updates[linked["guardian_id"]] = target
                            setattr(target, key, guardian[key])
                            guardian_update_fields.add(key)
                            changed = True
                    if "relation" in guardian and guardian["relation"] != linked["relation"]:
                        link_updates.append(ElderGuardian(id=linked["id"], relation=guardian["relation"]))
                        changed = True
                    continue
                key = (code, name, guardian.get("phone", ""))
                if key in used_guardians:
                    continue  # the same person written twice in one row: one link
                used_guardians.add(key)
                guardian_ref = known_guardians.get(key)
                if guardian_ref is None:
                    guardian_ref = new_guardians.get(key)
                    if guardian_ref is None:
                        guardian_ref = new_guardians[key] = Guardian(
                            village_id=code, name=name, phone=guardian.get("phone", ""),
                            whereabouts=guardian.get("whereabouts", ""), created_at=self.now)
                primary = slot == 0 and not has_primary
                has_primary = has_primary or primary
                new_links.append((elder_ref, guardian_ref, guardian.get("relation") or "other_kin", primary))
                changed = True

            caregiver = values.get("agreement_caregiver")
            if values.get("agreement") is True and caregiver:
                elder_id = elder_ref if isinstance(elder_ref, int) else None
                if elder_id is None or (elder_id, caregiver) not in agreements:
                    new_agreements.append((elder_ref, caregiver, values.get("agreement_phone", ""),
                                           values.get("surveyed_on")))
                    if elder_id is not None:
                        agreements.add((elder_id, caregiver))
                    changed = True

            if current is None:
                outcome.new += 1
            elif changed:
                outcome.updated += 1
            else:
                outcome.unchanged += 1

        if not self.dry_run:
            self._write(new_elders, changed_elders, new_guardians, guardian_updates, guardian_update_fields,
                        new_links, link_updates, new_agreements)
        for key, guardian in new_guardians.items():
            known_guardians.setdefault(key, guardian.pk or guardian)  # the preview has no ids

    def _known_guardians(self) -> dict:
        if self._guardians is None:
            self._guardians = {}
            queryset = Guardian._base_manager.all()
            if self.scope.prefix:
                queryset = queryset.filter(village__code__startswith=self.scope.prefix)
            for gid, village_id, name, phone in queryset.values_list("id", "village_id", "name", "phone").iterator(
                    chunk_size=10_000):
                self._guardians.setdefault((village_id, name, phone), gid)
        return self._guardians

    def _write(self, new_elders, changed_elders, new_guardians, guardian_updates, guardian_update_fields,
               new_links, link_updates, new_agreements) -> None:
        """The batch's bulk statements (inside the caller's transaction)."""
        if new_elders:
            _copy_insert(Elder, new_elders)
        if changed_elders:
            by_fields: dict[frozenset, list[Elder]] = defaultdict(list)
            for elder, fields in changed_elders.values():
                by_fields[frozenset(fields)].append(elder)
            # One UPDATE per distinct set of changed columns: unchanged columns are not rewritten.
            for fields, elders in by_fields.items():
                Elder._base_manager.bulk_update(elders, [*fields, "source_import_id", "updated_at"], batch_size=500)
        if new_guardians:
            _copy_insert(Guardian, list(new_guardians.values()))
        if guardian_updates:
            Guardian._base_manager.bulk_update(list(guardian_updates.values()), sorted(guardian_update_fields),
                                               batch_size=500)
        if link_updates:
            ElderGuardian._base_manager.bulk_update(link_updates, ["relation"], batch_size=500)
        if new_links:
            _copy_insert(ElderGuardian, [
                ElderGuardian(elder_id=_pk(elder), guardian_id=_pk(guardian), relation=relation, is_primary=primary)
                for elder, guardian, relation, primary in new_links
            ])
        if new_agreements:
            _copy_insert(CareAgreement, [
                CareAgreement(elder_id=_pk(elder), caregiver_name=name, caregiver_phone=phone or "",
                              filed_on=filed_on, created_by_id=self.user.pk, created_at=self.now)
                for elder, name, phone, filed_on in new_agreements
            ])


def _copy_insert(model, objects: list) -> None:
    """INSERT many rows with COPY (ids drawn from the table's sequence first, so links can point
    at them). Row triggers fire for COPY as for INSERT, so pghistory records every row, with the
    import's context (see the id query). Generated columns are left to PostgreSQL."""
    fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False) and not f.primary_key]
    for model_field in fields:
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            for obj in objects:
                if getattr(obj, model_field.attname) is None:
                    setattr(obj, model_field.attname, timezone.now())
    table = model._meta.db_table
    # The row-level history trigger is skipped for the COPY and the same event rows are written
    # set-wise right after (one INSERT … SELECT per batch and table): per-row trigger calls made
    # each batch slower than the one before inside the import's single transaction.
    with connection.cursor() as cursor, pgtrigger.ignore(f"{model._meta.label}:insert_insert"):
        # A CTE, not a bare SELECT: pghistory's query wrapper then sets its (transaction-local)
        # context variables on this statement, which the COPY's row triggers read next.
        cursor.execute(f"WITH ids AS (SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id "
                       f"FROM generate_series(1, %s)) SELECT id FROM ids", [len(objects)])
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(['"id"', *(f'"{f.column}"' for f in fields)])
        attnames = [f.attname for f in fields]
        files = {f.attname for f in fields if isinstance(f, FileField)}  # FieldFile → its stored name
        with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for obj in objects:
                copy.write_row([obj.pk, *((getattr(obj, name).name or "") if name in files else getattr(obj, name)
                                          for name in attnames)])
    _record_inserts(model, [obj.pk for obj in objects])


def _record_inserts(model, ids: list[int]) -> None:
    """The history rows the insert trigger would have written, for rows `ids` of `model`, with
    the current pghistory context (job, user) — same columns, label 'insert', NOW()."""
    event = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
    tracked = [f.column for f in event._meta.concrete_fields
               if not f.column.startswith("pgh_") and not getattr(f, "generated", False)]
    columns = ", ".join(f'"{c}"' for c in tracked)
    selected = ", ".join(f't."{c}"' for c in tracked)
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH ctx AS (SELECT _pgh_attach_context() AS id) '
            f'INSERT INTO "{event._meta.db_table}" (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, {columns}) '
            f'SELECT NOW(), %s, t."id", (SELECT id FROM ctx), {selected} '
            f'FROM "{model._meta.db_table}" t WHERE t."id" = ANY(%s) ORDER BY t."id"',
            ["insert", ids])


def _pk(ref) -> int:
    return ref if isinstance(ref, int) else ref.pk

