"""Small builders for the register tests."""

from datetime import date

from registry.models import CareAgreement, ContactEvent


def contact(elder, user, on: date, guardian=None):
    return ContactEvent.objects.create(elder=elder, guardian=guardian, kind="phone", occurred_on=on, recorded_by=user)


def agreement(elder, start: date | None, end: date | None, **fields):
    fields.setdefault("caregiver_name", "李邻居")
    return CareAgreement.objects.create(elder=elder, start_date=start, end_date=end, **fields)
