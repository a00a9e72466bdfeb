"""The audit trail: row history by database triggers (django-pghistory), plus access events.

Triggers catch every write, including bulk writes and imports; the request or job that caused
a write is attached through `pghistory.context` (HistoryMiddleware does it for requests).
"""

import contextlib

import pghistory
import pgtrigger
from django.apps import apps
from django.db import connection
from pghistory.models import Events

# A bulk insert that writes its history rows itself, set-wise (the census import, the demo
# seeders), sets this for its COPY or bulk_create (set_wise_history); the insert trigger's WHEN
# clause then skips the row-by-row call (checked by PostgreSQL itself, where pgtrigger.ignore
# still calls the trigger function for every row), and record_inserts writes the events.
SET_WISE_HISTORY = "eldercare.set_wise_history"


def tracked(**kwargs):
    """Class decorator: record inserts, updates and deletes of a model holding personal data."""
    # Fresh tracker instances per model: pghistory binds each tracker to the model it tracks.
    insert = pghistory.InsertEvent(condition=pgtrigger.Condition(
        f"current_setting('{SET_WISE_HISTORY}', true) IS DISTINCT FROM 'on'"))
    return pghistory.track(insert, pghistory.UpdateEvent(), pghistory.DeleteEvent(), **kwargs)


@contextlib.contextmanager
def set_wise_history():
    """Inside the block the row-level insert history triggers are skipped; the caller then writes
    the same event rows with record_inserts(). The setting is transaction-local, and not reset
    when the block fails: the failed transaction rolls it back with everything else."""
    skip_insert_triggers(True)
    yield
    skip_insert_triggers(False)


def skip_insert_triggers(skip: bool) -> None:
    """Switch the row-level insert history triggers off (`skip`) or on again, until the end of
    the transaction: set_wise_history's block, or a bulk writer's batches (registry.census.bulk)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SET_WISE_HISTORY, "on" if skip else "off"])


def record_inserts(model, *, after_id: int) -> int:
    """The 'insert' history rows the skipped triggers would have written, in one statement, with
    the current pghistory context: for every row of `model` with an id above `after_id`. Returns
    how many were written."""
    with connection.cursor() as cursor:
        cursor.execute(f"{_CONTEXT} {_insert_events(model, _ABOVE_ID)}", [after_id])
        return cursor.rowcount


def record_inserts_of(inserted: list[tuple]) -> None:
    """The same for several tables' new rows, `(model, ids)` each, in one statement (a bulk
    writer's batch: each statement is a wait for PostgreSQL and an update of the context row).
    The ids go as array literals, joined in C: psycopg dumps a list's elements one by one in
    Python, holding the GIL (0.4 s for 380,000 ids; a census import inserts an elder, the
    guardians and the links per row)."""
    parts = [f"e{n} AS ({_insert_events(model, _BY_IDS)})" for n, (model, _ids) in enumerate(inserted)]
    with connection.cursor() as cursor:
        cursor.execute(f"{_CONTEXT}, {', '.join(parts)} SELECT 1",
                       ["{" + ",".join(map(str, ids)) + "}" for _model, ids in inserted])


# Through Django's cursor: pghistory's wrapper sets the context that _pgh_attach_context reads.
_CONTEXT = "WITH ctx AS (SELECT _pgh_attach_context() AS id)"
_BY_IDS = 't."id" = ANY(%s::bigint[])'
_ABOVE_ID = 't."id" > %s'


def _insert_events(model, where: str) -> str:
    """INSERT … SELECT of the 'insert' events of `model`'s rows `where`, in id order, with the
    context of the statement's `ctx`."""
    event = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
    tracked = [f.column for f in event._meta.concrete_fields
               if not f.column.startswith("pgh_") and not getattr(f, "generated", False)]
    columns = ", ".join(f'"{c}"' for c in tracked)
    selected = ", ".join(f't."{c}"' for c in tracked)
    return (f'INSERT INTO "{event._meta.db_table}" (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, {columns}) '
            f"SELECT NOW(), 'insert', t.\"id\", (SELECT id FROM ctx), {selected} "
            f'FROM "{model._meta.db_table}" t WHERE {where} ORDER BY t."id"')


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
