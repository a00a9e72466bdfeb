"""Factories for visits, built on tests.factories."""

import uuid
from datetime import timedelta

from django.utils import timezone

from visits.choices import VisitMethod
from visits.models import Visit
from visits.services import refresh_visit_state


def make_visit(elder, visitor, days_ago=0, method=VisitMethod.PHONE, **fields) -> Visit:
    """A visit `days_ago` days back (at the same time of day), inserted directly."""
    fields.setdefault("visited_at", timezone.now() - timedelta(days=days_ago))
    visit = Visit.objects.create(elder=elder, visitor=visitor, method=method, submission_key=uuid.uuid4(), **fields)
    refresh_visit_state([elder.pk])  # what the services do after every visit
    return visit


def register_days_ago(elder, days):
    """Pretend the elder was registered `days` days ago (the schedule's start for the never-visited)."""
    type(elder).objects.filter(pk=elder.pk).update(created_at=timezone.now() - timedelta(days=days))
