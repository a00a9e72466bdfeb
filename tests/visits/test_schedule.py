"""The schedule rules: interval by risk level, the key-target cap, the 失能独居 home-visit rule,
the 24-hour rule, the provisional level, per-town policy, and who is scheduled at all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Elder
from tests.factories import make_elder
from tests.visits.factories import make_visit, register_days_ago
from visits.choices import DueBucket, VisitMethod
from visits.models import VisitPolicy
from visits.schedule import annotate_schedule, schedule_counts
from visits.services import record_visit, request_urgent_visit

pytestmark = pytest.mark.django_db


def schedule_of(elder, **kwargs):
    return annotate_schedule(Elder.objects.filter(pk=elder.pk), **kwargs).get()


def plain_elder(world, **fields):
    """低 by the register's flags: self-caring, living with a spouse, no hardship."""
    return make_elder(world.village, self_care="independent", living="spouse", **fields)


def key_target(world, **fields):
    """重点对象 (高龄 + 低保), not 失能独居 → provisional 中."""
    return make_elder(world.village, age=85, dibao=True, self_care="independent", living="spouse", **fields)


def disabled_alone(world, **fields):
    """失能独居 → provisional 高, and a key target."""
    return make_elder(world.village, self_care="disabled", living="alone", **fields)


def test_provisional_levels_follow_the_register_flags(world):
    assert schedule_of(plain_elder(world)).schedule_level == "low"
    assert schedule_of(key_target(world)).schedule_level == "medium"
    assert schedule_of(disabled_alone(world)).schedule_level == "high"


def test_confirmed_risk_level_replaces_the_provisional_one(world):
    elder = plain_elder(world, risk_level="high")
    assert schedule_of(elder).schedule_level == "high"
    assert schedule_of(elder).interval_days == 7


@pytest.mark.parametrize(("risk_level", "interval"), [("low", 30), ("medium", 15), ("high", 7)])
def test_each_level_is_due_its_interval_after_the_last_visit(world, risk_level, interval):
    elder = plain_elder(world, risk_level=risk_level)
    make_visit(elder, world.users["village"], days_ago=interval - 1)
    row = schedule_of(elder)
    assert row.interval_days == interval
    assert row.next_due == timezone.localdate() + timedelta(days=1)
    assert not row.is_overdue and row.due_bucket == DueBucket.WEEK

    make_visit(elder, world.users["village"], days_ago=interval + 3, method=VisitMethod.HOME)
    assert schedule_of(elder).next_due == timezone.localdate() + timedelta(days=1)  # the latest visit counts


@pytest.mark.parametrize(("risk_level", "interval"), [("low", 30), ("medium", 15), ("high", 7)])
def test_a_missed_interval_is_overdue_by_the_days_past_due(world, risk_level, interval):
    elder = plain_elder(world, risk_level=risk_level)
    make_visit(elder, world.users["village"], days_ago=interval + 4)
    row = schedule_of(elder)
    assert row.is_overdue and row.days_overdue == 4 and row.due_bucket == DueBucket.OVERDUE


def test_due_today_is_not_yet_overdue(world):
    elder = plain_elder(world)
    make_visit(elder, world.users["village"], days_ago=30)
    row = schedule_of(elder)
    assert row.next_due == timezone.localdate()
    assert not row.is_overdue and row.days_overdue == 0 and row.due_bucket == DueBucket.TODAY


def test_key_targets_are_visited_at_least_every_15_days_even_if_assessed_low(world):
    elder = key_target(world, risk_level="low")
    VisitPolicy.objects.create(town=world.town, low_days=60, medium_days=40, high_days=20)
    make_visit(elder, world.users["village"], days_ago=16)
    row = schedule_of(elder)
    assert row.interval_days == 15
    assert row.is_overdue and row.days_overdue == 1


def test_town_policy_sets_the_intervals_for_its_own_town_only(world):
    VisitPolicy.objects.create(town=world.town, low_days=20, medium_days=10, high_days=5)
    here = plain_elder(world)
    elsewhere = make_elder(world.other_village, self_care="independent", living="spouse")
    assert schedule_of(here).interval_days == 20
    assert schedule_of(elsewhere).interval_days == 30  # 新市镇 has no policy: the defaults


def test_disabled_alone_needs_a_home_visit_every_30_days_phone_calls_do_not_count(world):
    elder = disabled_alone(world, risk_level="low")  # even when assessed low
    make_visit(elder, world.users["village"], days_ago=32, method=VisitMethod.HOME)
    make_visit(elder, world.users["village"], days_ago=1, method=VisitMethod.PHONE)
    row = schedule_of(elder)
    assert row.interval_days == 15  # key target cap
    assert row.is_overdue and row.days_overdue == 2  # home visit was due 30 days after the last one

    make_visit(elder, world.users["village"], days_ago=0, method=VisitMethod.HOME)
    row = schedule_of(elder)
    assert not row.is_overdue
    assert row.next_due == timezone.localdate() + timedelta(days=15)


def test_home_visit_rule_does_not_apply_to_other_elders(world):
    elder = key_target(world)
    make_visit(elder, world.users["village"], days_ago=3, method=VisitMethod.PHONE)
    row = schedule_of(elder)
    assert row.home_due is None and not row.is_overdue


def test_never_visited_elder_is_due_from_the_registration_date(world):
    elder = plain_elder(world)
    assert schedule_of(elder).next_due == timezone.localdate()  # registered today: due today
    register_days_ago(elder, 10)
    row = schedule_of(elder)
    assert row.is_overdue and row.days_overdue == 10 and row.last_visit_at is None


def test_urgent_request_makes_the_next_visit_due_within_24_hours(world):
    elder = plain_elder(world)
    make_visit(elder, world.users["village"], days_ago=1)
    before = schedule_of(elder)
    assert before.next_due == timezone.localdate() + timedelta(days=29)

    request = request_urgent_visit(elder, reason="出院回家", acting_user=world.users["town"])
    assert request.due_by - request.requested_at == timedelta(hours=24)
    row = schedule_of(elder)
    assert row.urgent_due_by == request.due_by
    assert row.next_due == timezone.localdate(request.due_by)
    assert not row.is_overdue
    late = schedule_of(elder, now=request.due_by + timedelta(minutes=1))
    assert late.is_overdue and late.due_bucket == DueBucket.OVERDUE


def test_a_visit_after_the_urgent_request_fulfils_it(world):
    import uuid

    elder = plain_elder(world)
    make_visit(elder, world.users["village"], days_ago=1)
    request = request_urgent_visit(elder, reason="跌倒", acting_user=world.users["town"])
    visit, _ = record_visit(elder, acting_user=world.users["village"], submission_key=uuid.uuid4(),
                            visited_at=timezone.now(), method=VisitMethod.HOME)
    request.refresh_from_db()
    assert request.fulfilled_by == visit
    row = schedule_of(elder)
    assert row.urgent_due_by is None and row.next_due == timezone.localdate() + timedelta(days=30)


def test_a_late_entered_visit_from_before_the_request_does_not_fulfil_it(world):
    import uuid

    elder = plain_elder(world)
    request = request_urgent_visit(elder, reason="特殊情况", acting_user=world.users["town"])
    record_visit(elder, acting_user=world.users["village"], submission_key=uuid.uuid4(),
                 visited_at=timezone.now() - timedelta(days=1))
    request.refresh_from_db()
    assert request.fulfilled_by is None
    assert schedule_of(elder).urgent_due_by == request.due_by


def test_only_active_elders_are_scheduled(world):
    elder = plain_elder(world)
    gone = plain_elder(world, status="moved")
    ids = set(annotate_schedule(Elder.objects.filter(pk__in=[elder.pk, gone.pk])).values_list("pk", flat=True))
    assert ids == {elder.pk}


def test_correcting_a_visit_moves_the_schedule_with_it(world):
    from visits.services import update_visit

    elder = disabled_alone(world, risk_level="low")
    register_days_ago(elder, 40)
    visit = make_visit(elder, world.users["village"], days_ago=2, method=VisitMethod.HOME)
    assert not schedule_of(elder).is_overdue
    update_visit(visit, acting_user=world.users["village"], method=VisitMethod.PHONE)  # it was a call
    row = schedule_of(elder)
    assert row.last_home_visit_at is None  # never visited at home: due since registration
    assert row.is_overdue and row.days_overdue == 40


def test_urgent_requests_respect_scope(world):
    from eldercare.scoping import OutOfScope

    elder = plain_elder(world)
    with pytest.raises(OutOfScope):
        request_urgent_visit(elder, reason="出院", acting_user=world.users["village2"])


def test_counts_by_several_fields_in_one_query_equal_the_counts_by_each(world, django_assert_num_queries):
    worker = world.users["village"]
    for i, days_ago in enumerate([40, 30, 26, 5, 31, 2]):
        elder = make_elder(world.village if i % 2 else world.village2, responsible_worker=worker if i % 3 else None)
        make_visit(elder, worker, days_ago=days_ago)
    scheduled = annotate_schedule(Elder.objects.all())
    with django_assert_num_queries(1):
        both = schedule_counts(scheduled, "village", "responsible_worker")
    assert both == {"village": schedule_counts(scheduled, "village"),
                    "responsible_worker": schedule_counts(scheduled, "responsible_worker")}
    assert both["responsible_worker"][None]["total"] == 2  # elders nobody is responsible for: a group too
    assert sum(c["overdue"] for c in both["village"].values()) == 2  # 40 and 31 days ago (30: due today)
