"""The audit trail: row history by database triggers (django-pghistory), plus access events.

Triggers catch every write, including bulk writes and imports; the request or job that caused
a write is attached through `pghistory.context` (HistoryMiddleware does it for requests).
"""

import pghistory
from pghistory.models import Events


def tracked(**kwargs):
    """Class decorator: record inserts, updates and deletes of a model holding personal data."""
    # Fresh tracker instances per model: pghistory binds each tracker to the model it tracks.
    return pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), **kwargs)


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
