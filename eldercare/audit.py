"""The audit trail: row history by database triggers (django-pghistory), plus access events.

Triggers catch every write, including bulk writes and imports; the request or job that caused
a write is attached through `pghistory.context` (HistoryMiddleware does it for requests).
"""

import pghistory
import pgtrigger
from django.db import connection
from pghistory.models import Events

# A bulk insert that writes its history rows itself, set-wise (the census import), sets this
# for its COPY; the insert trigger's WHEN clause then skips the row-by-row call (checked in
# C by PostgreSQL, where pgtrigger.ignore still calls the trigger function for every row).
SET_WISE_HISTORY = "eldercare.set_wise_history"


def tracked(**kwargs):
    """Class decorator: record inserts, updates and deletes of a model holding personal data."""
    # Fresh tracker instances per model: pghistory binds each tracker to the model it tracks.
    insert = pghistory.InsertEvent(condition=pgtrigger.Condition(
        f"current_setting('{SET_WISE_HISTORY}', true) IS DISTINCT FROM 'on'"))
    return pghistory.track(insert, pghistory.UpdateEvent(), pghistory.DeleteEvent(), **kwargs)


def set_wise_history(on: bool) -> None:
    """Skip (or stop skipping) the row-level insert history triggers for the rest of the
    transaction; the caller then writes the same history rows itself."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SET_WISE_HISTORY, "on" if on else "off"])


def history_of(obj):
    """Events of one object, newest first, with their context (user, url, job)."""
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")  # one transaction shares NOW()


def record_access(*, user, kind, obj=None, area_code="", field="", detail=None):
    """Record an export, a reveal of a masked value, or a download of a private file."""
    from eldercare.models import AccessEvent

    return AccessEvent.objects.create(
        user=user,
        kind=kind,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        area_code=area_code,
        field=field,
        detail=detail or {},
    )
