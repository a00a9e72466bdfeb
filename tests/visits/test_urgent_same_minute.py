"""Issue 21 (1): a visit entered in the same minute as a reported special situation fulfils the
24-hour visit — times are compared at the precision people enter them (whole minutes)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from relief.choices import ReliefCaseType
from tests.factories import make_elder
from tests.visits.test_recording import form_data
from visits.models import UrgentVisitRequest, Visit

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def report_then_visit(client, elder, *, visited_at=None):
    """The village reports a special situation at 17:36:42, then saves the visit form with the time it
    offers (whole minutes) or `visited_at`; returns the elder's page afterwards."""
    with time_machine.travel(datetime(2026, 11, 30, 17, 36, 42, tzinfo=BEIJING), tick=False):
        client.post(reverse("relief:case_report"), {
            "elder": elder.pk, "case_type": ReliefCaseType.CRITICAL_ILLNESS, "urgency": "urgent",
            "narrative": "老人突发高烧"})
        page = client.get(reverse("visits:record", args=[elder.pk])).content.decode()
        offered = "2026-11-30T17:36"
        assert f'value="{offered}"' in page  # what the form offers: the current whole minute
        data = form_data(visited_at=visited_at or offered)
        assert client.post(reverse("visits:record", args=[elder.pk]), data).status_code == 302
    with time_machine.travel(datetime(2026, 11, 30, 18, 0, tzinfo=BEIJING), tick=False):
        return client.get(reverse("registry:elder", args=[elder.pk])).content.decode()


def test_a_visit_saved_in_the_same_minute_as_the_report_fulfils_the_24_hour_visit(login, world):
    elder = make_elder(world.village, name="王秀英")
    html = report_then_visit(login(world.users["village"]), elder)
    visit = Visit.objects.get(elder=elder)
    assert visit.visited_at.astimezone(BEIJING).strftime("%H:%M:%S") == "17:36:00"  # the form's whole minute
    assert UrgentVisitRequest.objects.get(elder=elder).fulfilled_by == visit
    assert "紧急巡访" not in html and "前须巡访" not in html


def test_a_visit_entered_for_a_minute_before_the_report_does_not_fulfil_it(login, world):
    elder = make_elder(world.village, name="王秀英")
    html = report_then_visit(login(world.users["village"]), elder, visited_at="2026-11-30T17:35")
    assert UrgentVisitRequest.objects.get(elder=elder).fulfilled_by is None
    assert "紧急巡访" in html and "前须巡访" in html
