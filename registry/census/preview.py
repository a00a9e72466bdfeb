"""The preview's lists: every row the import would add, and for every row it would update each
field's old → new value. Written as JSON lines (one file per list, in private storage beside the
upload) while the preview runs, and read back a page at a time; a file of 200,000 rows is a few
tens of MB on disk and never in memory.

What is shown follows the register's masking rules for lists (registry.masking): ID numbers and
phone numbers masked. The entries are text, ready for the page.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from itertools import islice

from django.core.files.storage import default_storage

from eldercare.idnumbers import mask_id_number, mask_phone

from ..models import Elder, ElderGuardian, Guardian
from . import normalize as nz
from .fields import ELDER_COLUMNS

__all__ = ["PAGE_ROWS", "Details", "page"]

PAGE_ROWS = 20
_KINDS = ("new", "updated")
_VOCABULARIES = {"living": nz.LIVING, "health": nz.HEALTH, "self_care": nz.SELF_CARE, "relation": nz.RELATIONS,
                 "income_sources": nz.INCOME_SOURCES, "difficulties": nz.DIFFICULTIES}
_PHONES = frozenset({"phones", "phone"})


def _label(model, column: str) -> str:
    return str(model._meta.get_field(column).verbose_name)


_ELDER_LABELS = {key: _label(Elder, column) for key, column in ELDER_COLUMNS.items()} | {"village": "村(社区)"}
_GUARDIAN_LABELS = {"phone": _label(Guardian, "phone"), "whereabouts": _label(Guardian, "whereabouts"),
                    "relation": _label(ElderGuardian, "relation")}


def _shown(key: str, value, villages: dict) -> str:
    """A stored or imported value as the page shows it."""
    if value is None or value == "" or value == []:
        return "（空）"
    if key == "village":
        return villages.get(value, (value,))[0]
    if key in _PHONES:
        return "、".join(mask_phone(phone) for phone in (value if isinstance(value, list) else [value]))
    if isinstance(value, bool):
        return "是" if value else "否"
    vocabulary = _VOCABULARIES.get(key)
    if vocabulary is not None:
        return "、".join(vocabulary.labels.get(item, item) for item in value) if isinstance(value, list) else \
            vocabulary.labels.get(value, value)
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class Details:
    """The two lists of one preview, written batch by batch: `add(batch)`, then `close()` →
    what job.preview keeps to read them back ({kind: {"path", "count", "offsets"}})."""

    def __init__(self, base: str, villages: dict):
        self.villages = villages  # code → (name, town code), scope.Jurisdiction.by_code
        self.names = {kind: f"{base}-{kind}.jsonl" for kind in _KINDS}
        self.files = {kind: open(default_storage.path(name), "wb") for kind, name in self.names.items()}  # noqa: SIM115
        self.counts = dict.fromkeys(_KINDS, 0)
        self.offsets: dict[str, list[int]] = {kind: [] for kind in _KINDS}  # where each page starts

    def add(self, details: list[tuple]) -> None:
        for kind, row, code, *changes in details:
            values = row.values
            entry = {"row": row.row_number, "name": values.get("name", ""),
                     "id": mask_id_number(values.get("id_number", "")), "village": _shown("village", code, self.villages)}
            if kind == "updated":
                differences, others = changes
                entry["changes"] = [[_ELDER_LABELS[key], _shown(key, old, self.villages), _shown(key, new, self.villages)]
                                    for key, old, new in differences] + [self._other(other) for other in others]
            self._write(kind, entry)

    def _other(self, other: tuple) -> list[str]:
        if other[0] == "guardian":
            _, name, key, old, new = other
            return [f"赡养人 {name} 的{_GUARDIAN_LABELS[key]}", _shown(key, old, {}), _shown(key, new, {})]
        if other[0] == "guardian_linked":
            return ["赡养人", "（无）", f"{other[1]}（{_shown('relation', other[2], {})}）"]
        return ["委托照顾协议", "（无）", f"受托人 {other[1]}"]

    def _write(self, kind: str, entry: dict) -> None:
        out = self.files[kind]
        if self.counts[kind] % PAGE_ROWS == 0:
            self.offsets[kind].append(out.tell())
        out.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
        self.counts[kind] += 1

    def close(self) -> dict:
        for out in self.files.values():
            out.close()
        return {kind: {"path": self.names[kind], "count": self.counts[kind], "offsets": self.offsets[kind]}
                for kind in _KINDS}

    def discard(self) -> None:
        for kind, out in self.files.items():
            out.close()
            default_storage.delete(self.names[kind])


def page(details: dict, kind: str, number: int) -> tuple[list[dict], int]:
    """Entries of page `number` (1-based, clamped) of a list, and the number of pages."""
    found = (details or {}).get(kind)
    if not found or not found["count"] or not default_storage.exists(found["path"]):
        return [], 0
    pages = len(found["offsets"])
    number = min(max(number, 1), pages)
    with open(default_storage.path(found["path"]), "rb") as lines:
        lines.seek(found["offsets"][number - 1])
        return [json.loads(line) for line in islice(lines, PAGE_ROWS)], pages


def paths(details: dict) -> list[str]:
    """The stored files of a preview's lists (for the retention sweep)."""
    return [found["path"] for found in (details or {}).values() if isinstance(found, dict) and "path" in found]
