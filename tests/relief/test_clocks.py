"""Response clocks: frozen time, urgent vs normal, through nights and weekends, per-town policy."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from relief import services
from relief.choices import ReliefCaseStatus, ReliefCaseUrgency
from relief.models import ClockPolicy, Referral, ReliefCase
from tests.relief.factories import make_case

S = ReliefCaseStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Friday, 23:00 in Shanghai: the clocks must run through the night and the weekend.
FRIDAY_NIGHT = datetime(2026, 11, 27, 23, 0, tzinfo=SHANGHAI)
pytestmark = pytest.mark.django_db


def clocks(case, at):
    return ReliefCase.objects.with_clocks(now=at).get(pk=case.pk)


def test_urgent_report_must_be_accepted_within_two_hours_even_at_night(world):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        case = make_case(world, urgency=ReliefCaseUrgency.URGENT)
    assert clocks(case, FRIDAY_NIGHT).accept_due == FRIDAY_NIGHT + timedelta(hours=2)
    assert not clocks(case, FRIDAY_NIGHT + timedelta(hours=1, minutes=59)).is_overdue
    late = clocks(case, FRIDAY_NIGHT + timedelta(hours=2, minutes=1))
    assert late.accept_overdue and late.is_overdue and late.next_due == FRIDAY_NIGHT + timedelta(hours=2)


def test_normal_report_has_24_hours_over_the_weekend(world):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        case = make_case(world, urgency=ReliefCaseUrgency.NORMAL)
    assert not clocks(case, FRIDAY_NIGHT + timedelta(hours=23)).is_overdue
    assert clocks(case, FRIDAY_NIGHT + timedelta(hours=24, minutes=1)).is_overdue  # Saturday 23:01


def test_accepting_stops_the_acceptance_clock_and_starts_resolution(world):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        case = make_case(world, urgency=ReliefCaseUrgency.URGENT)
    with time_machine.travel(FRIDAY_NIGHT + timedelta(hours=3), tick=False):
        services.accept_case(case, acting_user=world.users["town"])
    later = clocks(case, FRIDAY_NIGHT + timedelta(hours=5))
    assert not later.accept_overdue and not later.is_overdue
    assert later.resolve_due == FRIDAY_NIGHT + timedelta(hours=3, days=3)
    assert clocks(case, FRIDAY_NIGHT + timedelta(days=3, hours=4)).resolve_overdue


def test_department_receipt_clock_urgent_2h_normal_48h(world):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        urgent = make_case(world, status=S.REFERRED, urgency=ReliefCaseUrgency.URGENT)
        normal = make_case(world, status=S.REFERRED, urgency=ReliefCaseUrgency.NORMAL)
    at = FRIDAY_NIGHT + timedelta(hours=3)
    assert clocks(urgent, at).receipt_overdue and not clocks(normal, at).receipt_overdue
    assert clocks(normal, FRIDAY_NIGHT + timedelta(hours=48, minutes=1)).receipt_overdue
    referrals = {r.case_id: r for r in Referral.objects.with_clocks(now=at)}
    assert referrals[urgent.pk].receipt_overdue and not referrals[normal.pk].receipt_overdue
    with time_machine.travel(at, tick=False):
        services.receive_referral(Referral.objects.get(case=urgent), acting_user=world.users["police"])
    assert not clocks(urgent, at + timedelta(minutes=1)).receipt_overdue


def test_a_town_sets_its_own_clocks(world):
    ClockPolicy.objects.create(town=world.town, accept_urgent=timedelta(hours=1))
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        case = make_case(world, urgency=ReliefCaseUrgency.URGENT)
    assert clocks(case, FRIDAY_NIGHT + timedelta(minutes=61)).accept_overdue


def test_overdue_is_one_queryset_filter(world):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        late = make_case(world, urgency=ReliefCaseUrgency.URGENT)
        make_case(world, status=S.CLOSED, urgency=ReliefCaseUrgency.URGENT)
    assert list(ReliefCase.objects.overdue(now=FRIDAY_NIGHT + timedelta(hours=3))) == [late]
