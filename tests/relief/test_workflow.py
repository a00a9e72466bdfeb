"""The case workflow: every legal step, every illegal one, roles, the timeline, the notifier."""

import sys
import types

import pytest
from django.core.exceptions import ValidationError

from eldercare.models import Department, DepartmentKind
from relief import services
from relief.choices import CaseEventAction, ReliefCaseStatus, ReliefCaseType, ReliefCaseUrgency
from relief.models import CaseEvent, Referral, ReliefCase
from relief.services import TRANSITIONS, IllegalTransition
from tests.factories import make_elder
from tests.relief.factories import make_case

S = ReliefCaseStatus
pytestmark = pytest.mark.django_db


def timeline(case):
    return [(e.action, e.from_status, e.to_status) for e in CaseEvent.objects.filter(case=case).order_by("at", "id")]


class TestHappyPath:
    def test_village_reports_town_refers_department_closes(self, world):
        elder = make_elder(world.village, name="王秀英")
        case = services.report_case(elder, case_type=ReliefCaseType.ILLEGAL_HARM, urgency=ReliefCaseUrgency.URGENT,
                                    narrative="老人被邻居殴打", acting_user=world.users["village"])
        assert (case.status, case.village_id, case.reported_by) == (S.REPORTED, world.village.code,
                                                                     world.users["village"])
        services.accept_case(case, note="已电话核实", acting_user=world.users["town"])
        [referral] = services.refer_case(case, departments=[world.police], acting_user=world.users["town"])
        services.receive_referral(referral, acting_user=world.users["police"])
        services.start_referral(referral, note="民警已上门", acting_user=world.users["police"])
        services.close_referral(referral, result="已调解，邻居赔礼道歉", acting_user=world.users["police"])
        case.refresh_from_db()
        assert case.status == S.CLOSED and case.outcome == "锦屏镇派出所：已调解，邻居赔礼道歉"
        assert case.closed_at and case.accepted_at and case.referred_at
        assert timeline(case) == [
            ("report", "", "reported"), ("accept", "reported", "accepted"), ("refer", "accepted", "referred"),
            ("receive", "referred", "received"), ("start", "received", "in_progress"),
            ("close", "in_progress", "closed")]
        assert CaseEvent.objects.filter(case=case, actor=world.users["police"]).count() == 3

    def test_return_and_resubmit_restarts_the_acceptance_clock(self, world):
        case = make_case(world, status=S.RETURNED)
        first_submit = case.submitted_at
        assert CaseEvent.objects.get(case=case, action="return").note == "请补充老人目前的住处"
        services.resubmit_case(case, supplement="老人暂住侄子家", acting_user=world.users["village"])
        case.refresh_from_db()
        assert case.status == S.REPORTED and case.submitted_at > first_submit
        assert "老人暂住侄子家" in case.narrative and "老人家中漏雨" in case.narrative
        assert timeline(case)[-1] == ("resubmit", "returned", "reported")

    def test_two_departments_the_last_one_closes_the_case(self, world):
        case = make_case(world, status=S.ACCEPTED)
        town = world.users["town"]
        police_ref, justice_ref = services.refer_case(case, departments=[world.police, world.justice],
                                                      acting_user=town)
        police, justice = world.users["police"], world.users["justice"]
        services.receive_referral(justice_ref, acting_user=justice)
        services.receive_referral(police_ref, acting_user=police)
        services.start_referral(police_ref, acting_user=police)
        services.start_referral(justice_ref, acting_user=justice)
        services.close_referral(police_ref, result="已出警", acting_user=police)
        case.refresh_from_db()
        assert case.status == S.IN_PROGRESS
        services.close_referral(justice_ref, result="已提供法律援助", acting_user=justice)
        case.refresh_from_db()
        assert case.status == S.CLOSED
        assert case.outcome == "锦屏镇派出所：已出警；锦屏镇司法所：已提供法律援助"
        # the second department's receipt and start are timeline rows that do not move the case
        assert ("receive", "received", "received") in timeline(case)
        assert CaseEvent.objects.filter(case=case, action="refer").count() == 2

    def test_town_may_close_a_case_in_progress_which_closes_open_referrals(self, world):
        case = make_case(world, status=S.IN_PROGRESS)
        services.close_case(case, outcome="老人已由子女接走照料", acting_user=world.users["town"])
        case.refresh_from_db()
        assert case.status == S.CLOSED and case.outcome == "老人已由子女接走照料"
        assert Referral.objects.get(case=case).result == "由乡镇统一办结"


ACTIONS = {
    "accept": lambda world, case: services.accept_case(case, acting_user=world.users["town"]),
    "return": lambda world, case: services.return_case(case, reason="补充", acting_user=world.users["town"]),
    "resubmit": lambda world, case: services.resubmit_case(case, supplement="已补充",
                                                           acting_user=world.users["village"]),
    "refer": lambda world, case: services.refer_case(case, departments=[world.justice],
                                                     acting_user=world.users["town"]),
    "close": lambda world, case: services.close_case(case, outcome="结果", acting_user=world.users["town"]),
}
# Which (status, action) pairs are legal; every other pair must raise IllegalTransition.
LEGAL = {(S.REPORTED, "accept"), (S.REPORTED, "return"), (S.RETURNED, "resubmit"), (S.ACCEPTED, "refer"),
         (S.IN_PROGRESS, "close")}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_case_step_from_every_status(world, status, action):
    case = make_case(world, status=status)
    events_before = CaseEvent.objects.filter(case=case).count()
    if (status, action) in LEGAL:
        ACTIONS[action](world, case)
        case.refresh_from_db()
        assert case.status != status
        assert case.status in TRANSITIONS[status]
        assert CaseEvent.objects.filter(case=case).count() > events_before
    else:
        with pytest.raises(IllegalTransition):
            ACTIONS[action](world, case)
        assert ReliefCase.objects.get(pk=case.pk).status == status
        assert CaseEvent.objects.filter(case=case).count() == events_before


def test_the_transition_map_matches_the_policy_chain():
    assert TRANSITIONS == {
        S.REPORTED: {S.ACCEPTED, S.RETURNED}, S.RETURNED: {S.REPORTED}, S.ACCEPTED: {S.REFERRED},
        S.REFERRED: {S.RECEIVED}, S.RECEIVED: {S.IN_PROGRESS}, S.IN_PROGRESS: {S.CLOSED}, S.CLOSED: set()}


class TestIllegalDepartmentSteps:
    def test_department_cannot_start_before_receiving_or_close_before_starting(self, world):
        case = make_case(world, status=S.REFERRED)
        referral = Referral.objects.get(case=case)
        police = world.users["police"]
        with pytest.raises(IllegalTransition):
            services.start_referral(referral, acting_user=police)
        with pytest.raises(IllegalTransition):
            services.close_referral(referral, result="结果", acting_user=police)
        services.receive_referral(referral, acting_user=police)
        with pytest.raises(IllegalTransition):
            services.receive_referral(referral, acting_user=police)
        with pytest.raises(IllegalTransition):
            services.close_referral(referral, result="结果", acting_user=police)

    def test_closing_needs_an_outcome(self, world):
        case = make_case(world, status=S.IN_PROGRESS)
        with pytest.raises(ValidationError, match="办理结果"):
            services.close_case(case, outcome="  ", acting_user=world.users["town"])
        with pytest.raises(ValidationError, match="办理结果"):
            services.close_referral(Referral.objects.get(case=case), result="", acting_user=world.users["police"])
        assert ReliefCase.objects.get(pk=case.pk).status == S.IN_PROGRESS

    def test_returning_needs_a_reason(self, world):
        case = make_case(world)
        with pytest.raises(ValidationError, match="退回理由"):
            services.return_case(case, reason="", acting_user=world.users["town"])

    def test_a_closed_case_takes_no_more_department_steps(self, world):
        case = make_case(world, status=S.CLOSED)
        with pytest.raises(IllegalTransition):
            services.close_referral(Referral.objects.get(case=case), result="再办", acting_user=world.users["police"])


class TestRoles:
    def test_village_staff_cannot_accept_refer_or_close(self, world):
        case = make_case(world)
        for step in (services.accept_case, services.close_case):
            with pytest.raises(services.ActionNotAllowed):
                step(case, **({"outcome": "x"} if step is services.close_case else {}),
                     acting_user=world.users["village"])
        with pytest.raises(services.ActionNotAllowed):
            services.refer_case(case, departments=[world.police], acting_user=world.users["village"])

    def test_another_department_cannot_act_on_a_referral(self, world):
        case = make_case(world, status=S.REFERRED)
        with pytest.raises(services.ActionNotAllowed):
            services.receive_referral(Referral.objects.get(case=case), acting_user=world.users["justice"])

    def test_other_town_cannot_touch_the_case(self, world):
        from eldercare.scoping import OutOfScope

        case = make_case(world)
        with pytest.raises(OutOfScope):
            services.accept_case(case, acting_user=world.users["other_town"])

    def test_village2_cannot_report_for_an_elder_of_another_village(self, world):
        from eldercare.scoping import OutOfScope

        elder = make_elder(world.village)
        with pytest.raises(OutOfScope):
            services.report_case(elder, case_type="other", urgency="normal", narrative="x",
                                 acting_user=world.users["village2"])
        assert not ReliefCase.objects.exists()

    def test_refer_only_to_departments_of_the_cases_town(self, world):
        other = Department.objects.create(town=world.other_town, name="新市镇派出所", kind=DepartmentKind.POLICE)
        case = make_case(world, status=S.ACCEPTED)
        with pytest.raises(ValidationError, match="本乡镇"):
            services.refer_case(case, departments=[other], acting_user=world.users["town"])
        with pytest.raises(ValidationError, match="至少选择"):
            services.refer_case(case, departments=[], acting_user=world.users["town"])


received = []


def remember(event):
    received.append((event.action, event.to_status))


class TestHooks:
    def test_notifier_is_called_after_commit_for_each_step(self, world, settings, django_capture_on_commit_callbacks):
        settings.RELIEF_NOTIFIER = "tests.relief.test_workflow.remember"
        received.clear()
        elder = make_elder(world.village)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            case = services.report_case(elder, case_type="other", urgency="normal", narrative="情况",
                                        acting_user=world.users["village"])
            services.accept_case(case, acting_user=world.users["town"])
        assert len(callbacks) == 2
        assert received == [("report", "reported"), ("accept", "accepted")]

    def test_a_failing_notifier_does_not_break_the_step(self, world, settings, django_capture_on_commit_callbacks):
        settings.RELIEF_NOTIFIER = "tests.relief.test_workflow.no_such_notifier"
        elder = make_elder(world.village)
        with django_capture_on_commit_callbacks(execute=True):
            case = services.report_case(elder, case_type="other", urgency="normal", narrative="情况",
                                        acting_user=world.users["village"])
        assert ReliefCase.objects.filter(pk=case.pk).exists()

    def test_a_report_asks_the_visits_app_for_an_urgent_visit_in_the_towns_time_limit(self, world, monkeypatch):
        calls = []
        fake = types.ModuleType("visits.services")
        fake.request_urgent_visit = lambda elder, *, reason, due_by=None, acting_user: calls.append(
            (elder.pk, reason, due_by, acting_user))
        monkeypatch.setitem(sys.modules, "visits.services", fake)
        elder = make_elder(world.village)
        case = services.report_case(elder, case_type=ReliefCaseType.CRITICAL_ILLNESS, urgency="urgent",
                                    narrative="突发脑梗", acting_user=world.users["village"])
        [(elder_pk, reason, due_by, user)] = calls
        assert elder_pk == elder.pk and "发生危重病情" in reason and user == world.users["village"]
        # no deadline of its own: the visits app applies the town's urgent_hours (24 h by default;
        # tests/visits/test_pages.py::test_urgent_visit_due_within_the_towns_hours)
        assert due_by is None and case.pk


def test_nothing_is_deleted_through_the_admin(world, login):
    case = make_case(world)
    client = login(world.users["town"])
    from django.urls import reverse

    response = client.get(reverse("admin:relief_reliefcase_delete", args=[case.pk]))
    assert response.status_code in (403, 404)
    assert ReliefCase.objects.filter(pk=case.pk).exists()
    assert CaseEventAction.REPORT in CaseEvent.objects.filter(case=case).values_list("action", flat=True)
