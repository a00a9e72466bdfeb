"""What the register already holds for a chunk of census rows, read in a fixed number of queries.

`Lookups(scope).chunk(rows)` → `Register`: the elders with the chunk's ID numbers (unscoped on
purpose: an ID registered out of the user's reach must be refused without saying where), and
the guardian links and care agreements of those in scope. `Lookups.guardians()` → the guardians
with a phone registered in the user's villages, loaded once, the first time a chunk brings a
guardian none of its elders is linked to (never, re-importing an unchanged file).

Plain SQL with one array parameter: the ORM's IN (…2,000 placeholders…) costs more to build than
to run. Runs on whatever connection the calling thread has (see writer.py for which thread).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection

from ..models import CareAgreement, Elder, ElderGuardian, Guardian
from .fields import ELDER_COLUMNS

__all__ = ["ELDER_KEYS", "Link", "Lookups", "Register", "array_literal", "fetch"]

ELDER_KEYS = tuple(ELDER_COLUMNS)  # the census keys of a stored elder's values, in SQL order
_ELDERS_SQL = (f"SELECT id_number, id, village_id, {', '.join(ELDER_COLUMNS.values())} "
               f"FROM {Elder._meta.db_table} WHERE id_number = ANY(%s::text[])")
_LINKS_SQL = (f"SELECT l.id, l.elder_id, l.relation, l.is_primary, l.guardian_id, g.name, g.phone, g.whereabouts "
              f"FROM {ElderGuardian._meta.db_table} l JOIN {Guardian._meta.db_table} g ON g.id = l.guardian_id "
              f"WHERE l.elder_id = ANY(%s::bigint[]) ORDER BY l.is_primary DESC, l.id")  # the model's ordering
_AGREEMENTS_SQL = f"SELECT elder_id, caregiver_name FROM {CareAgreement._meta.db_table} WHERE elder_id = ANY(%s::bigint[])"


class Link(NamedTuple):
    """A guardian link of an elder in the register, with the guardian's own fields (_LINKS_SQL)."""

    id: int
    elder_id: int
    relation: str
    is_primary: bool
    guardian_id: int
    name: str
    phone: str
    whereabouts: str


class Register(NamedTuple):
    """What the register holds for a chunk's ID numbers."""

    elders: dict  # ID number → (ID number, id, village code, *values in ELDER_KEYS order)
    links: dict  # elder id → its guardian links, primary first
    agreements: set  # (elder id, caregiver name)


class Lookups:
    """The register's side of an import, for one user's jurisdiction (scope.Jurisdiction)."""

    def __init__(self, scope):
        self.scope = scope
        self._guardians: dict | None = None

    def chunk(self, numbers: list[str]) -> Register:
        """The register's rows for these ID numbers (each at most once: the engine refuses a
        second row with the same number)."""
        if not numbers:
            return Register({}, {}, set())
        elders = {row[0]: row for row in fetch(_ELDERS_SQL, [array_literal(numbers)])}
        in_scope = [row[1] for row in elders.values() if self.scope.in_scope(row[2])]
        links: dict[int, list[Link]] = defaultdict(list)
        agreements: set[tuple[int, str]] = set()
        if in_scope:
            ids = array_literal(map(str, in_scope))
            for link in map(Link._make, fetch(_LINKS_SQL, [ids])):
                links[link.elder_id].append(link)
            agreements = set(fetch(_AGREEMENTS_SQL, [ids]))
        return Register(elders, links, agreements)

    def guardians(self) -> dict:
        """Guardians with a phone registered in the user's villages, by (village, name, phone):
        a row's new guardian who is one of them is linked, not created twice. Loaded once and
        never changed (the ones an import creates are kept apart, see classify.ImportState):
        a lookup per chunk would scan a growing table."""
        if self._guardians is None:
            found: dict = {}
            queryset = Guardian._base_manager.exclude(phone="")
            if self.scope.prefix:
                queryset = queryset.filter(village__code__startswith=self.scope.prefix)
            rows = queryset.values_list("id", "village_id", "name", "phone").iterator(chunk_size=10_000)
            for gid, village_id, name, phone in rows:
                found.setdefault((village_id, name, phone), gid)
            self._guardians = found
        return self._guardians


def array_literal(items: Iterable[str]) -> str:
    """A PostgreSQL array literal of ID numbers or ids (digits and X: nothing to quote); psycopg's
    list adapter is Python code, and a chunk passes thousands of them."""
    return "{" + ",".join(items) + "}"


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
