"""Reading-heavy pages read from a streaming replica (DATABASE_REPLICA_URL); everything else, and
every write, stays on the primary.

A view opts in explicitly — nothing is sent to the replica by guesswork:

    @scoped_view(roles=[UserRole.TOWN, UserRole.COUNTY])
    @reads_from_replica
    def overview(request): ...

    class Dashboard(ScopedViewMixin, TemplateView): ...
    dashboard = reads_from_replica(Dashboard.as_view())

    with replica_reads():            # a part of a view, e.g. the rows of an export
        rows = write_ledger(queryset, …)

Only pages that show figures a few seconds old without harm belong there (dashboards, reports,
big exports): the replica replays the primary's changes after a delay (docs/operations.md,
"Read replica"). Inside a transaction, and for every write, the primary is used, so a view that
writes (an export's access record) still reads its own writes. Without DATABASE_REPLICA_URL
everything runs on the primary and these markers change nothing.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_reading_from_replica = ContextVar("reading_from_replica", default=False)


@contextmanager
def replica_reads():
    """Send the reads inside this block to the replica (when one is configured)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view):
    """Decorator for a view whose reads may come from the replica."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # The session and the user are read on the primary first: someone who has just logged
        # in has a session row the replica may not have replayed yet.
        request.user.is_authenticated  # noqa: B018
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Reads inside replica_reads() go to the replica, unless a transaction is open on the
    primary; all other reads and every write go to the primary. The answers are explicit even
    for the primary: Django would otherwise send a save of an object read from the replica
    back to the replica (the instance's own database), which refuses writes."""

    def db_for_read(self, model, **hints):
        if (_reading_from_replica.get() and REPLICA in settings.DATABASES
                and not connections[DEFAULT_DB_ALIAS].in_atomic_block):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica gets the schema by replication
