"""The pluggable notifier hook: a deployment may add SMS or e-mail without touching the workflow.

Set `RELIEF_NOTIFIER` to the dotted path of a callable `(event: CaseEvent) -> None`. It is
called after the transaction of each transition commits (never for a rolled-back step). The
default only logs; the in-app inbox is what people rely on.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("relief.notify")

DEFAULT_NOTIFIER = "relief.notifiers.log_notifier"


def log_notifier(event) -> None:
    """Default notifier: one log line per transition (no external messages)."""
    logger.info("relief case %s: %s %s→%s by %s", event.case_id, event.action, event.from_status or "-",
                event.to_status, event.actor_id)


def get_notifier():
    return import_string(getattr(settings, "RELIEF_NOTIFIER", DEFAULT_NOTIFIER))


def notify(event) -> None:
    """Hand one CaseEvent to the configured notifier; a failing notifier never breaks the workflow."""
    try:
        get_notifier()(event)
    except Exception:  # noqa: BLE001 — an SMS gateway outage must not lose the case step
        logger.exception("relief notifier failed for case event %s", event.pk)
