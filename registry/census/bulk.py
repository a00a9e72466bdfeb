"""Bulk writes of a classified batch: ids drawn from the sequences, new rows as binary COPY data,
changed rows through a temporary table and one UPDATE … FROM, history rows set-wise.

`Writes(job_id, user_id, now)`: `prepare(batch)` turns a classify.Batch into a `Prepared` (ids
and COPY data, built by psycopg's own formatter; runs in the classifying thread), `write(prepared)`
sends it, inside the caller's transaction (see services.execute). Values come from the explicit
maps of fields.py; a column no map names gets the model's default.
"""

from __future__ import annotations

import functools
import io
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from django.db import connection
from django.db.models import FileField
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.copy import FileWriter
from psycopg.pq import Format

from eldercare.audit import record_inserts_of, skip_insert_triggers

from ..models import CareAgreement, Elder, ElderGuardian, Guardian, name_initials
from .classify import Batch, ImportState
from .fields import ELDER_COLUMNS, ELDER_FROM_ID, GUARDIAN_COLUMNS, LINK_COLUMNS
from .lookups import fetch

__all__ = ["RANDOM_PAGE_COST", "Prepared", "Writes"]


@dataclass
class Prepared:
    """A batch ready to send: (model, ids, COPY data) per table of new rows, and per table of
    changed rows its COPY data for the temporary table."""

    inserts: list = field(default_factory=list)
    updates: list = field(default_factory=list)

    def extend(self, later: Prepared) -> None:
        """Take a later batch's rows, to write several batches with one set of statements. Each
        table's rows stay in batch order and the tables in theirs (elders and guardians before
        the links to them); no row is changed twice in one import (an elder appears once per
        file, a guardian's details are taken once: classify.ImportState), so the changes of
        several batches can share one temporary table."""
        inserts = {model: (ids, data) for model, ids, data in self.inserts}
        for model, ids, data in later.inserts:
            if model in inserts:
                inserts[model] = (inserts[model][0] + ids, _joined(inserts[model][1], data))
            else:
                inserts[model] = (ids, data)
        self.inserts = [(model, *inserts[model]) for model in _INSERT_ORDER if model in inserts]
        updates = dict(self.updates)
        for model, data in later.updates:
            updates[model] = _joined(updates[model], data) if model in updates else data
        self.updates = list(updates.items())


class _CopyTable:
    """A model's insertable columns (the id first; generated columns are PostgreSQL's) and, for
    each, where its value comes from: the given values by column name, else the model default."""

    def __init__(self, model):
        fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False) and not f.primary_key]
        self.table = model._meta.db_table
        self.attnames = [f.attname for f in fields]
        self.columns = ", ".join(['"id"', *(f'"{f.column}"' for f in fields)])
        self.defaults = ["" if isinstance(f, FileField) else f.get_default() for f in fields]
        self.types = ["bigint", *(_type_name(f) for f in fields)]

    def copy_data(self, ids: list[int], rows: Iterable[dict]) -> bytes:
        # Each row holds column names only (built from the maps of fields.py): column by column,
        # its value or the default, in C, with no merged dict per row.
        attnames, defaults = self.attnames, self.defaults
        return _copy_data(self.types, ((pk, *map(values.get, attnames, defaults))
                                       for pk, values in zip(ids, rows, strict=True)))

    def write(self, cursor, data: bytes) -> None:
        with cursor.cursor.copy(f'COPY "{self.table}" ({self.columns}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.write(data)


class _UpdateTable:
    """Changed rows of a model, applied by one UPDATE … FROM a temporary table they are COPYed
    into (bulk_update's CASE per row and column cost 0.6 ms a changed row). A column left NULL
    keeps its value: the import never empties a field (an empty cell means 'keep')."""

    def __init__(self, model, columns: dict[str, str], **stamp):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.keys, attnames = tuple(columns), tuple(columns.values())
        self.temp = f"census_{model._meta.model_name}_changes"
        self.ddl = ", ".join(['"id" bigint', *(f'"{fields[a].column}" {fields[a].db_type(connection)}'
                                                for a in attnames)])
        self.types = ["bigint", *(_type_name(fields[a]) for a in attnames)]
        sets = [f'"{fields[a].column}" = COALESCE(c."{fields[a].column}", t."{fields[a].column}")' for a in attnames]
        sets += [f'"{fields[a].column}" = %s' for a in stamp]  # set on every changed row
        self.update = (f'UPDATE "{model._meta.db_table}" t SET {", ".join(sets)} '
                       f'FROM "{self.temp}" c WHERE t."id" = c."id"')
        self.stamp = list(stamp.values())
        self.created = False  # the temporary table, in this import's transaction

    def copy_data(self, changes: Iterable[tuple[int, dict]]) -> bytes:
        return _copy_data(self.types, ((pk, *map(values.get, self.keys)) for pk, values in changes))

    def write(self, cursor, data: bytes) -> None:
        """The row-level update trigger records the history. The temporary table is made at the
        first batch with changes and emptied after each (the UPDATE and the TRUNCATE in one
        statement: one wait for PostgreSQL fewer)."""
        if not self.created:
            cursor.execute(f'CREATE TEMP TABLE "{self.temp}" ({self.ddl}) ON COMMIT DROP')
            self.created = True
        with cursor.cursor.copy(f'COPY "{self.temp}" FROM STDIN (FORMAT BINARY)') as copy:
            copy.write(data)
        cursor.execute(f'{self.update}; TRUNCATE "{self.temp}"', self.stamp)


# The tables of new rows, in the order they are written: what a row refers to comes first.
_INSERT_ORDER = (Elder, Guardian, ElderGuardian, CareAgreement)

# How the import's connections price a random page read (Writes.begin, and the lookups' own
# connection: writer._without_parallel_plans): the register it reads and writes is in memory.
RANDOM_PAGE_COST = 1.1

# The columns Writes.analyze gathers statistics on: the lookups' keys (lookups.py) and the
# village, which every list of the register and of the guardians filters by.
_ANALYZED = {Elder: ("id", "id_number", "village", "status"), Guardian: ("id", "village"),
             ElderGuardian: ("elder", "guardian"), CareAgreement: ("elder",)}

# Elder updates: the census keys of fields.py, the village and the initials the name determines.
_ELDER_UPDATES = {**ELDER_COLUMNS, "village_id": "village_id", "name_initials": "name_initials"}


class Writes:
    """The bulk statements of one import (`job_id`, by `user_id`, at `now`)."""

    def __init__(self, job_id: int | None, user_id: int, now):
        self.job_id, self.user_id, self.now = job_id, user_id, now
        self.tables = {model: _CopyTable(model) for model in _INSERT_ORDER}
        self.updates = {
            Elder: _UpdateTable(Elder, _ELDER_UPDATES, source_import_id=job_id, updated_at=now),
            Guardian: _UpdateTable(Guardian, {"phone": "phone", "whereabouts": "whereabouts"}),
            ElderGuardian: _UpdateTable(ElderGuardian, LINK_COLUMNS),
        }

    def prepare(self, batch: Batch, state: ImportState) -> Prepared:
        """Draw the ids of the batch's new rows, record the new guardians' ids in `state` (later
        batches link to them), and turn the rows into COPY data."""
        elder_ids, guardian_ids, link_ids, agreement_ids = _next_ids(
            (Elder, len(batch.new_elders)), (Guardian, len(batch.new_guardians)), (ElderGuardian, len(batch.new_links)),
            (CareAgreement, len(batch.new_agreements)))

        def elder(ref):
            return ref if ref > 0 else elder_ids[-ref - 1]

        def guardian(ref):
            return ref if ref > 0 else guardian_ids[-ref - 1]

        for key, ref in batch.guardian_refs.items():
            state.created_guardians[key] = guardian(ref)
        now, job, user = self.now, self.job_id, self.user_id
        rows = {
            Elder: (elder_ids, (_elder_row(values, code, job, now) for values, code in batch.new_elders)),
            Guardian: (guardian_ids, ({**{column: values[key] for key, column in GUARDIAN_COLUMNS.items()},
                                       "village_id": values["village_id"], "created_at": now}
                                      for values in batch.new_guardians)),
            ElderGuardian: (link_ids, ({"elder_id": elder(e), "guardian_id": guardian(g), "relation": relation,
                                        "is_primary": primary} for e, g, relation, primary in batch.new_links)),
            CareAgreement: (agreement_ids, ({"elder_id": elder(e), "caregiver_name": name, "caregiver_phone": phone,
                                             "filed_on": filed_on, "created_by_id": user, "created_at": now}
                                            for e, name, phone, filed_on in batch.new_agreements)),
        }
        prepared = Prepared()
        for model, (ids, values) in rows.items():
            if ids:
                prepared.inserts.append((model, ids, self.tables[model].copy_data(ids, values)))
        elder_updates = [(pk, {**changes, "name_initials": name_initials(changes["name"])} if "name" in changes
                          else changes) for pk, changes in batch.elder_updates]
        for model, changes in ((Elder, elder_updates), (Guardian, batch.guardian_updates.items()),
                               (ElderGuardian, batch.link_updates)):
            if changes:
                prepared.updates.append((model, self.updates[model].copy_data(changes)))
        return prepared

    def begin(self) -> None:
        """The import transaction's settings, before its first batch (each LOCAL: they end with
        the transaction):
        - foreign keys checked as each batch is written, overlapping the next batch's
          classifying, not all at COMMIT, where they took seconds, alone, at the very end;
        - the row-level insert history triggers skipped (their WHEN clause, see
          eldercare.audit.skip_insert_triggers): write() records every row it inserts set-wise;
        - RANDOM_PAGE_COST: each new elder's and guardian's village is checked by a query
          PostgreSQL plans once per connection. At the default (4) it reads a county's areas
          table (166 rows, two pages) from the start for every row, instead of looking the code
          up in its primary key: 0.6 s of the 3.3 s COPY of 100,000 elders, as much again for
          their guardians."""
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")
        skip_insert_triggers(True)

    def write(self, prepared: Prepared) -> None:
        """New rows by COPY, then their history rows in one INSERT … SELECT per batch with the
        import's pghistory context (job, user); changed rows by UPDATE … FROM, their triggers
        recording history. Few statements per batch: each is a wait for PostgreSQL."""
        if prepared.inserts:
            with connection.cursor() as cursor:
                for model, _ids, data in prepared.inserts:
                    self.tables[model].write(cursor, data)
            record_inserts_of([(model, ids) for model, ids, _data in prepared.inserts])
        if prepared.updates:
            with connection.cursor() as cursor:
                for model, data in prepared.updates:
                    self.updates[model].write(cursor, data)

    def end(self, *, analyze: bool) -> None:
        """After the last batch: the insert history triggers back on for the rest of the
        transaction, and (`analyze`) fresh planner statistics."""
        skip_insert_triggers(False)
        if analyze:
            self.analyze()


    def analyze(self) -> None:
        """Fresh planner statistics for the tables a big import filled, inside its transaction
        (ANALYZE sees the rows it wrote): the user re-imports or lists the register right after,
        and plans made for a table a tenth of its new size (or autovacuum analysing it in the
        middle of that re-import) cost more than this.

        Only the keys the lookups and the register's lists search by (_ANALYZED): every ANALYZE
        sets the table's size, which is what the plans went wrong on, and the elders' other forty
        columns took 0.6 of its 0.7 s (a county, 100,000 new rows). An ANALYZE with a column list
        leaves the table's count of changed rows as it was, so autovacuum still analyses every
        column after the commit, as it would have without this."""
        with connection.cursor() as cursor:
            for model, table in self.tables.items():
                columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in _ANALYZED[model])
                cursor.execute(f'ANALYZE "{table.table}" ({columns})')


def _elder_row(values: dict, code: str, job: int | None, now) -> dict:
    """A new elder's columns: the mapped census values, what the ID number determined (the engine
    took it from registry.models.fields_from_id), the village, the initials, the stamps."""
    row = {column: values[key] for key, column in ELDER_COLUMNS.items() if key in values}
    for column in ELDER_FROM_ID:
        row[column] = values[column]
    row.update(village_id=code, name_initials=name_initials(values["name"]), source_import_id=job,
               created_at=now, updated_at=now)
    return row


# Binary COPY data (PostgreSQL's COPY, "Binary Format"): a fixed 19-byte header (signature,
# flags, extension length 0, as psycopg writes it), the rows, a 2-byte trailer (-1).
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


def _joined(first: bytes, second: bytes) -> bytes:
    """The rows of two blocks of binary COPY data as one block."""
    assert first.startswith(_COPY_HEADER) and first.endswith(_COPY_TRAILER) and second.startswith(_COPY_HEADER)
    return first[:-len(_COPY_TRAILER)] + second[len(_COPY_HEADER):]


def _type_name(field) -> str:
    """PostgreSQL's name of a column's type, for binary COPY ('varchar(30)' → 'varchar')."""
    return re.sub(r"\(.*?\)", "", field.db_type(connection))


def _copy_data(types: list[str], rows: Iterable[tuple]) -> bytes:
    """Rows in binary COPY format, by psycopg's own (C) formatter writing to memory: the classifying
    side pays for it, and the writing side sends one block per batch and table. The list columns
    (varchar[]) go through _VarcharArrayDumper, on this cursor only."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_dumper(None, _VarcharArrayDumper)
        with psycopg.Copy(cursor.cursor, binary=True, writer=FileWriter(buffer)) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    return buffer.getvalue()


class _VarcharArrayDumper(Dumper):
    """A list of strings as a binary varchar[]: the bytes psycopg's list dumper sends (one
    dimension, lower bound 1, the elements' type, each element's length and UTF-8; an empty list
    has no dimension), built by struct in one call per list instead of a Python call per element.
    The import's list columns (phones, income sources, difficulties) hold strings only; most lists
    repeat (a few vocabulary values), and those are built once (_varchar_array)."""

    format = Format.BINARY
    oid = postgres.types["varchar"].array_oid

    def dump(self, obj: list) -> bytes:
        return _varchar_array(tuple(obj))


_VARCHAR_OID = postgres.types["varchar"].oid
_EMPTY_ARRAY = struct.pack("!III", 0, 0, _VARCHAR_OID)
_pack_head = struct.Struct("!IIIII").pack  # dimensions, has nulls, element type; length, lower bound
_pack_length = struct.Struct("!i").pack


@functools.lru_cache(maxsize=4096)
def _varchar_array(items: tuple) -> bytes:
    if not items:
        return _EMPTY_ARRAY
    parts = [_pack_head(1, 0, _VARCHAR_OID, len(items), 1)]
    for item in items:
        encoded = item.encode()
        parts += (_pack_length(len(encoded)), encoded)
    return b"".join(parts)


def _next_ids(*wanted: tuple) -> list[list[int]]:
    """For each (model, count), `count` ids drawn from the table's sequence, in one statement.
    Sequences are not transactional: a connection other than the writing one may draw them."""
    if not any(count for _model, count in wanted):
        return [[] for _ in wanted]  # an unchanged batch: no round trip
    selects, params = [], []
    for model, count in wanted:
        selects.append("(SELECT coalesce(array_agg(nextval(%s::regclass)), '{}') FROM generate_series(1, %s))")
        params += [_sequence(model._meta.db_table), count]
    return list(fetch(f"SELECT {', '.join(selects)}", params)[0])


@functools.cache
def _sequence(table: str) -> str:
    return fetch("SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
