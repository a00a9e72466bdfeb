"""The classify step: checked rows plus what the register holds → new / updated / unchanged /
rejected, and the changes each implies. No database, no ids: new rows refer to each other by
negative references (-1, -2 …, per batch) until bulk.prepare draws their ids.

The rules, for each row the engine accepted:
- its 村/乡镇 cells must name a village of the user's jurisdiction (scope.Jurisdiction);
- an ID number registered out of the user's reach → rejected with ID_REGISTERED_ELSEWHERE;
- an ID number registered in reach → the filled-in cells that differ become an update (an
  empty cell keeps the stored value); the same values → unchanged, nothing written;
- guardians: a guardian already linked to the elder under that name is updated (phone,
  whereabouts: the first row of the import that names a shared guardian decides, or re-imports
  would flip it; the relation per link); otherwise someone registered in the village with that
  name AND phone is linked, else a new guardian is created. Without a phone a name alone never
  says two rows are one person. The first guardian becomes the primary one if the elder has none;
- a care agreement with a caregiver the elder has no agreement with → a new agreement.

It relies on the engine for one thing: an ID number appears in at most one accepted row of a
file (engine.CensusFile rejects the later ones, naming the first), so no two rows of an import
can update or create the same elder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import ID_REGISTERED_ELSEWHERE
from .engine import CellIssue, CensusRow
from .lookups import ELDER_KEYS, Link, Register
from .scope import Jurisdiction

__all__ = ["Batch", "ImportState", "classify"]


@dataclass
class ImportState:
    """What one batch's classification leaves for the next, the only state carried along:
    guardians this import creates, by (village, name, phone), with their ids once drawn (a
    placeholder in a dry run); and the linked guardians a row has already checked."""

    created_guardians: dict = field(default_factory=dict)
    settled_guardians: set = field(default_factory=set)


@dataclass
class Batch:
    """One batch classified: its counts, its rejected and warned rows, and its changes."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # CensusRow
    warned: list = field(default_factory=list)  # CensusRow with warnings
    new_elders: list = field(default_factory=list)  # (values, village code); ref = -(position + 1)
    new_guardians: list = field(default_factory=list)  # {"village_id", "name", "phone", "whereabouts"}
    guardian_refs: dict = field(default_factory=dict)  # (village, name, phone) → ref of a new guardian with a phone
    new_links: list = field(default_factory=list)  # (elder ref or id, guardian ref or id, relation, is_primary)
    new_agreements: list = field(default_factory=list)  # (elder ref or id, caregiver, phone, filed on)
    elder_updates: list = field(default_factory=list)  # (elder id, {census key or column: new value})
    guardian_updates: dict = field(default_factory=dict)  # guardian id → {"phone": …, "whereabouts": …}
    link_updates: list = field(default_factory=list)  # (link id, {"relation": …})
    # For the preview's lists (preview.py): ("new", row, village) and ("updated", row, village,
    # [(census key, old, new)], [guardian or agreement change, see _describe]).
    details: list = field(default_factory=list)


def classify(rows: list[CensusRow], register: Register, scope: Jurisdiction, state: ImportState,
             known_guardians: Callable[[], dict], *, village_header: str, id_header: str) -> Batch:
    """Classify a batch of checked rows against the register (see the module doc).
    `known_guardians()` gives the guardians registered before the import (lookups.Lookups); it
    is called only when a row brings a guardian with a phone who is not linked to its elder."""
    batch = Batch(rows=len(rows))
    for row in rows:
        if row.warnings:
            batch.warned.append(row)
        if row.ok:
            code, reason = scope.resolve(row.values)
            if reason:
                row.add_error(CellIssue(village_header, str(row.values.get("village", "")), reason))
            elif code:
                _classify_row(batch, row, code, register, scope, state, known_guardians, id_header)
                continue
        batch.rejected.append(row)
    return batch


def _classify_row(batch: Batch, row: CensusRow, code: str, register: Register, scope: Jurisdiction,
                  state: ImportState, known_guardians: Callable[[], dict], id_header: str) -> None:
    values = row.values
    current = register.elders.get(values["id_number"])
    if current is not None and not scope.in_scope(current[2]):
        row.add_error(CellIssue(id_header, values["id_number"], str(ID_REGISTERED_ELSEWHERE)))
        batch.rejected.append(row)
        return
    changed = False
    differences: list[tuple] = []  # (census key, old, new) of the elder's own fields
    others: list[tuple] = []  # guardians and agreements
    if current is None:
        batch.new_elders.append((values, code))
        elder_ref = -len(batch.new_elders)
        elder_links: list[Link] = []
        has_primary = False
    else:
        elder_ref, village_id, stored = current[1], current[2], current[3:]
        # The row's cells over the stored values (an empty cell is absent: it keeps the value),
        # compared in C; field by field only when something differs.
        merged = tuple(map(values.get, ELDER_KEYS, stored))
        if merged != stored:
            differences = [(key, old, value) for key, value, old in zip(ELDER_KEYS, merged, stored, strict=True)
                           if value != old]
        changes = {key: value for key, _old, value in differences} if differences else {}
        if code != village_id:
            changes["village_id"] = code
            differences.append(("village", village_id, code))
        if changes:
            batch.elder_updates.append((elder_ref, changes))
            changed = True
        elder_links = register.links.get(elder_ref, ())
        has_primary = any(link.is_primary for link in elder_links)

    used_links: set[int] = set()
    used_guardians: set = set()
    for slot, guardian in enumerate(values.get("guardians", ())):
        name = guardian["name"]
        # Slot by slot: two guardians of one elder may share a name (two sons named 张伟).
        linked = None
        for link in elder_links:
            if link.name == name and link.id not in used_links:
                linked = link
                break
        if linked is not None:
            used_links.add(linked.id)
            if _update_linked(batch, state, linked, guardian, others):
                changed = True
            continue
        phone = guardian.get("phone", "")
        key = (code, name, phone)
        if key in used_guardians:
            continue  # the same person written twice in one row: one link
        used_guardians.add(key)
        # Someone already registered in the village with this name and phone is that person;
        # without a phone, a name alone does not say so (two 王秀英 in one village).
        guardian_ref = None
        if phone:
            guardian_ref = (known_guardians().get(key) or state.created_guardians.get(key)
                            or batch.guardian_refs.get(key))
        if guardian_ref is None:
            batch.new_guardians.append({"village_id": code, "name": name, "phone": phone,
                                        "whereabouts": guardian.get("whereabouts", "")})
            guardian_ref = -len(batch.new_guardians)
            if phone:
                batch.guardian_refs[key] = guardian_ref
        primary = slot == 0 and not has_primary
        has_primary = has_primary or primary
        batch.new_links.append((elder_ref, guardian_ref, guardian.get("relation") or "other_kin", primary))
        others.append(("guardian_linked", name, guardian.get("relation") or "other_kin"))
        changed = True

    caregiver = values.get("agreement_caregiver")
    if values.get("agreement") is True and caregiver:
        if elder_ref < 0 or (elder_ref, caregiver) not in register.agreements:
            batch.new_agreements.append((elder_ref, caregiver, values.get("agreement_phone", ""),
                                         values.get("surveyed_on")))
            if elder_ref > 0:
                register.agreements.add((elder_ref, caregiver))
            others.append(("agreement", caregiver))
            changed = True

    if current is None:
        batch.new += 1
        batch.details.append(("new", row, code))
    elif changed:
        batch.updated += 1
        batch.details.append(("updated", row, code, differences, others))
    else:
        batch.unchanged += 1


def _update_linked(batch: Batch, state: ImportState, linked: Link, guardian: dict, others: list) -> bool:
    """A row's guardian who is already linked to the elder: what differs is updated (and noted in
    `others`). A guardian shared by several elders takes the first row's phone and whereabouts:
    later rows that differ would flip them on every re-import."""
    changed = False
    if linked.guardian_id not in state.settled_guardians:
        state.settled_guardians.add(linked.guardian_id)
        changes = {}
        if "phone" in guardian and guardian["phone"] != linked.phone:
            changes["phone"] = guardian["phone"]
        if "whereabouts" in guardian and guardian["whereabouts"] != linked.whereabouts:
            changes["whereabouts"] = guardian["whereabouts"]
        if changes:
            batch.guardian_updates[linked.guardian_id] = changes
            others.extend(("guardian", linked.name, key, getattr(linked, key), value) for key, value in changes.items())
            changed = True
    if "relation" in guardian and guardian["relation"] != linked.relation:
        batch.link_updates.append((linked.id, {"relation": guardian["relation"]}))
        others.append(("guardian", linked.name, "relation", linked.relation, guardian["relation"]))
        changed = True
    return changed
