"""Where each census value lands in the register: the explicit map from census field keys (what
the engine puts in a row's `values`) to the columns of Elder, Guardian, ElderGuardian and
CareAgreement. Only what is named here is ever written from a file; a model field added later
gets its default until someone maps it here."""

from __future__ import annotations

__all__ = ["ELDER_COLUMNS", "ELDER_FROM_ID", "GUARDIAN_COLUMNS", "LINK_COLUMNS"]

# Census key → Elder column, for the cells an update may change (an empty cell keeps the value).
ELDER_COLUMNS: dict[str, str] = {
    "village_group": "village_group",
    "name": "name",
    "ethnicity": "ethnicity",
    "phones": "phones",
    "address": "address",
    "living": "living",
    "health": "health",
    "self_care": "self_care",
    "diseases": "diseases",
    "income_sources": "income_sources",
    "monthly_income": "monthly_income",
    "dibao": "dibao",
    "tekun": "tekun",
    "poverty_monitored": "poverty_monitored",
    "difficulties": "difficulties",
    "needs": "needs",
    "family_doctor": "family_doctor",
    "cadre": "cadre",
    "surveyed_by": "surveyed_by",
    "surveyed_on": "surveyed_on",
    "notes": "notes",
}
# Elder columns the ID number determines (registry.models.fields_from_id; never updated: an ID
# number is the elder). Besides these the writer sets village_id (the 村 cell, resolved),
# name_initials (registry.models.name_initials), source_import_id and the timestamps.
ELDER_FROM_ID = ("id_number", "birth_date", "sex")
# A guardian's part of a row (values["guardians"][slot]) → Guardian column; the link's relation.
GUARDIAN_COLUMNS: dict[str, str] = {"name": "name", "phone": "phone", "whereabouts": "whereabouts"}
LINK_COLUMNS: dict[str, str] = {"relation": "relation"}
