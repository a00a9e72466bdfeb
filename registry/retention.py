"""Retention of the register (PIPL: personal information is kept no longer than the purpose
needs; docs/access.md, "Retention").

An elder who died or moved away more than RETENTION_YEARS ago is de-identified: the row and its
history stay (the county's statistics and the audit trail still count them), the identifiers go
— in the live row and in every history row of it. Guardians go the same way once no elder still
on the register needs them; care agreements lose the caregiver's name, phone and scan.
"""

from dataclasses import dataclass, field
from datetime import date

from django.apps import apps
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad, Trunc

from registry.choices import ElderStatus
from registry.models import CareAgreement, Elder, Guardian

PLACEHOLDER = "已脱敏"
# A de-identified ID number: "X" and the row's id, 18 characters. No resident ID starts with a
# letter, so it can neither collide with a real one nor be mistaken for one; it also marks the
# elder as done, so the command can run every night.
MARK = "X"
DEPARTED = [ElderStatus.DECEASED, ElderStatus.MOVED]


def cutoff_date(years: int, today: date) -> date:
    """The day `years` years before today (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def departed_elders(years: int, today: date):
    """Elders who died or moved away before the cutoff and are not de-identified yet."""
    return (Elder.objects.filter(status__in=DEPARTED, status_changed_on__lt=cutoff_date(years, today))
            .exclude(id_number__startswith=MARK).select_related("village").order_by("village_id", "pk"))


def guardians_of(elder_ids):
    """Guardians linked to these elders and to no elder still identified outside them."""
    still_needed = Elder.objects.exclude(pk__in=elder_ids).exclude(id_number__startswith=MARK)
    return (Guardian.objects.filter(elder_links__elder__in=elder_ids)
            .exclude(elder_links__elder__in=still_needed).distinct())


def event_model(model):
    """The pghistory event model of a tracked model (registry.Elder → registry.ElderEvent)."""
    return apps.get_model(model._meta.app_label, f"{model.__name__}Event")


def scrub(model, ids, values: dict, obj_field: str = "pk") -> int:
    """Overwrite `values` in the rows `ids` of `model` and in all their history rows; returns
    the number of history rows changed."""
    model.objects.filter(**{f"{obj_field}__in": ids}).update(**values)
    event = event_model(model)
    return event.objects.filter(pgh_obj_id__in=ids).update(**values)


@dataclass
class RegistryChanges:
    """What de-identifying a set of elders changes (or would change) in the register."""

    elders: int = 0
    guardians: int = 0
    agreements: int = 0
    history_rows: int = 0
    files: list[str] = field(default_factory=list)


def plan(elder_ids) -> RegistryChanges:
    """Count what deidentify() would change, without changing anything."""
    agreements = CareAgreement.objects.filter(elder__in=elder_ids)
    guardians = list(guardians_of(elder_ids).values_list("pk", flat=True))
    history = (event_model(Elder).objects.filter(pgh_obj_id__in=elder_ids).count()
               + event_model(Guardian).objects.filter(pgh_obj_id__in=guardians).count()
               + event_model(CareAgreement).objects.filter(pgh_obj_id__in=agreements.values("pk")).count())
    return RegistryChanges(elders=len(elder_ids), guardians=len(guardians), agreements=agreements.count(),
                           history_rows=history, files=[f for f in agreements.values_list("document", flat=True) if f])


def _placeholder_id(column: str):
    return Concat(Value(MARK), LPad(Cast(column, CharField()), 17, Value("0")))


def deidentify(elder_ids) -> int:
    """Remove the identifiers of these elders, their guardians (where no one else needs them)
    and their care agreements, in the rows and in the history rows; returns the history rows
    changed. Runs inside the caller's transaction; the caller deletes plan()'s files after it commits."""
    guardian_ids = list(guardians_of(elder_ids).values_list("pk", flat=True))
    agreement_ids = list(CareAgreement.objects.filter(elder__in=elder_ids).values_list("pk", flat=True))
    elder_values = {"name": PLACEHOLDER, "name_initials": "", "phones": [], "address": "", "village_group": "",
                    "notes": "", "birth_date": Trunc("birth_date", "year")}
    # The live rows first (their own update writes one more history row), then every history row.
    Elder.objects.filter(pk__in=elder_ids).update(**elder_values, id_number=_placeholder_id("pk"))
    history_rows = event_model(Elder).objects.filter(pgh_obj_id__in=elder_ids).update(
        **elder_values, id_number=_placeholder_id("pgh_obj_id"))
    history_rows += scrub(Guardian, guardian_ids, {"name": PLACEHOLDER, "phone": "", "id_number": "", "whereabouts": ""})
    history_rows += scrub(CareAgreement, agreement_ids, {"caregiver_name": PLACEHOLDER, "caregiver_phone": "",
                                                         "document": ""})
    return history_rows
