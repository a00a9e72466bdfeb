"""Retention of visit records (docs/access.md, "Retention"): when an elder is de-identified, the
visits stay — date, method, checklist results, outcome — and what may name or show a person goes:
who was met, the free-text notes and the photo, in the rows and in their history rows."""

from registry.retention import event_model, scrub
from visits.models import Visit

SCRUBBED = {"met_with": "", "checklist_note": "", "needs_raised": "", "notes": "", "photo": ""}


def plan(elder_ids) -> tuple[int, int, list[str]]:
    """(visits that would change, their history rows, their photo files)."""
    visits = Visit.objects.filter(elder__in=elder_ids)
    history = event_model(Visit).objects.filter(pgh_obj_id__in=visits.values("pk")).count()
    return visits.count(), history, [name for name in visits.values_list("photo", flat=True) if name]


def deidentify(elder_ids) -> int:
    """Scrub the visits of these elders and their history rows; returns the history rows changed.
    Runs inside the caller's transaction."""
    ids = list(Visit.objects.filter(elder__in=elder_ids).values_list("pk", flat=True))
    return scrub(Visit, ids, SCRUBBED)
