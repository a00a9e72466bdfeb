"""De-identifying elders who died or moved away long ago, across the apps that hold their data
(docs/access.md, "Retention"). The registry and the visits each scrub their own records; this
layer, above both, calls them in one transaction."""

from dataclasses import dataclass

import pghistory
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from registry import retention as registry_retention
from visits import retention as visits_retention


@dataclass
class RetentionRun:
    """The elders concerned and what changed (or, in a dry run, would change)."""

    elders: list
    registry: registry_retention.RegistryChanges
    visits: int
    files: list[str]
    history_rows: int


def departed(years: int, today=None):
    """The elders due for de-identification today."""
    return list(registry_retention.departed_elders(years, today or timezone.localdate()))


def plan(elders) -> RetentionRun:
    """What deidentify_departed would change, changing nothing."""
    ids = [elder.pk for elder in elders]
    registry = registry_retention.plan(ids)
    visits, visit_history, photos = visits_retention.plan(ids)
    return RetentionRun(elders=elders, registry=registry, visits=visits, files=registry.files + photos,
                        history_rows=registry.history_rows + visit_history)


def deidentify_departed(*, years: int, acting_user, today=None) -> RetentionRun:
    """De-identify every elder who died or moved away more than `years` years ago, in one
    transaction; the scans and photos are deleted once it has committed."""
    with transaction.atomic(), pghistory.context(reason="retention", user=acting_user.pk,
                                                 username=acting_user.get_username()):
        elders = departed(years, today)
        run = plan(elders)
        ids = [elder.pk for elder in elders]
        run.history_rows = registry_retention.deidentify(ids) + visits_retention.deidentify(ids)
        for name in run.files:
            transaction.on_commit(lambda name=name: default_storage.delete(name))
    return run
