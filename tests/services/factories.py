"""Factories for the services app, on top of tests/factories.py."""

from datetime import timedelta

from django.utils import timezone

from services.choices import ProviderKind, ServiceItemCategory
from services.models import FamilyDoctorContract, HealthCheck, Pairing, Provider, ServiceItem, ServiceRecord, Volunteer


def make_provider(area, **fields):
    fields.setdefault("name", "锦屏镇老年协会")
    fields.setdefault("kind", ProviderKind.ELDERS_ASSOCIATION)
    return Provider.objects.create(area=area, **fields)


def make_item(town, **fields):
    fields.setdefault("name", "助浴服务")
    fields.setdefault("category", ServiceItemCategory.DAILY_CARE)
    fields.setdefault("published", True)
    return ServiceItem.objects.create(town=town, **fields)


def make_volunteer(village, **fields):
    fields.setdefault("name", "王志愿")
    fields.setdefault("phone", "13900001111")
    return Volunteer.objects.create(village=village, **fields)


def make_pairing(volunteer, elder, **fields):
    fields.setdefault("started_on", timezone.localdate() - timedelta(days=30))
    fields.setdefault("frequency_days", 7)
    return Pairing.objects.create(volunteer=volunteer, elder=elder, **fields)


def make_record(elder, item, user, **fields):
    fields.setdefault("served_on", timezone.localdate())
    fields.setdefault("duration_minutes", 60)
    return ServiceRecord.objects.create(elder=elder, item=item, recorded_by=user, **fields)


def make_check(elder, user, **fields):
    fields.setdefault("checked_on", timezone.localdate())
    fields.setdefault("clinic_name", "锦屏镇卫生院")
    fields.setdefault("systolic", 138)
    fields.setdefault("diastolic", 86)
    fields.setdefault("glucose", "6.2")
    fields.setdefault("summary", "血压偏高")
    return HealthCheck.objects.create(elder=elder, recorded_by=user, **fields)


def make_contract(elder, **fields):
    today = timezone.localdate()
    fields.setdefault("doctor_name", "赵医生")
    fields.setdefault("clinic_name", "锦屏镇卫生院")
    fields.setdefault("signed_on", today - timedelta(days=300))
    fields.setdefault("valid_until", today + timedelta(days=65))
    return FamilyDoctorContract.objects.create(elder=elder, **fields)
