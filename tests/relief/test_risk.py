"""Risk assessment: the factor table, thresholds, versioning, proposals from register data,
confirmation (Elder.risk_level) and who is due for reassessment."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from registry.choices import (
    ContactEventKind,
    DutyFulfilment,
    ElderDifficulty,
    ElderHealth,
    ElderLiving,
    ElderSelfCare,
    GuardianDuty,
    SupervisionMethod,
    SupervisionResult,
)
from registry.models import ContactEvent, DutyObservation, Elder, Supervision
from relief import risk, services
from relief.choices import ReliefCaseUrgency
from relief.models import RiskAssessment, with_reassessment
from tests.factories import make_elder, make_guardian
from tests.relief.factories import make_case

TODAY = date(2026, 11, 29)


def factor(proposal, code):
    return next(f for f in proposal.factors if f.code == code)


class TestFactorTable:
    def test_a_healthy_young_elder_with_family_in_touch_is_low(self):
        facts = risk.Facts(today=TODAY, age=65, self_care=ElderSelfCare.INDEPENDENT, living=ElderLiving.WITH_SPOUSE,
                           health=ElderHealth.HEALTHY, last_contact_on=TODAY - timedelta(days=5))
        proposal = risk.score_factors(facts)
        assert (proposal.score, proposal.level, proposal.version) == (0, "low", risk.VERSION)
        assert [f.code for f in proposal.factors] == [code for code, _label, _rule in risk.FACTORS]
        assert all(f.reason for f in proposal.factors), "every factor says why, even at 0 points"

    def test_each_factor_reports_points_and_a_chinese_reason(self):
        facts = risk.Facts(today=TODAY, age=91, self_care=ElderSelfCare.DISABLED, living=ElderLiving.ALONE,
                           health=ElderHealth.ILL_DEPENDENT, tekun=True,
                           difficulties=[ElderDifficulty.LONELINESS, ElderDifficulty.SAFETY],
                           last_contact_on=TODAY - timedelta(days=200), supervision_refused=True,
                           recent_case_urgency=ReliefCaseUrgency.URGENT)
        proposal = risk.score_factors(facts)
        points = {f.code: f.points for f in proposal.factors}
        assert points == {"age": 3, "self_care": 4, "living_alone": 2, "hardship": 2, "illness": 3, "mental": 1,
                          "housing": 2, "contact": 2, "duties": 3, "special": 3}
        assert proposal.score == 25 and proposal.level == "high"
        assert factor(proposal, "age").reason == "91 岁（90 岁及以上）"
        assert factor(proposal, "contact").reason == "赡养人已 200 天未联系（超过 180 天）"
        assert factor(proposal, "duties").reason == "赡养人经督促仍拒不履行义务"

    @pytest.mark.parametrize(("score", "level"), [(0, "low"), (3, "low"), (4, "medium"), (7, "medium"),
                                                  (8, "high"), (20, "high")])
    def test_thresholds(self, score, level):
        assert risk.level_for(score) == level

    def test_an_elder_of_80_living_alone_and_disabled_is_high(self):
        facts = risk.Facts(today=TODAY, age=80, self_care=ElderSelfCare.DISABLED, living=ElderLiving.ALONE,
                           last_contact_on=TODAY)
        assert risk.score_factors(facts).level == "high"  # 2 + 4 + 2 = 8

    def test_no_guardian_contact_record_counts(self):
        assert factor(risk.score_factors(risk.Facts(today=TODAY, age=70)), "contact").points == 2
        recent = risk.Facts(today=TODAY, age=70, last_contact_on=TODAY - timedelta(days=100))
        assert factor(risk.score_factors(recent), "contact").points == 1

    def test_last_visit_outcome_counts_as_recent_situation(self):
        facts = risk.Facts(today=TODAY, age=70, last_contact_on=TODAY, last_visit_outcome="help")
        assert factor(risk.score_factors(facts), "special").reason == "最近一次巡访结论为“需帮扶”"


@pytest.mark.django_db
class TestProposalFromRegister:
    def test_proposal_reads_flags_health_contacts_and_duties(self, world):
        elder = make_elder(world.village, age=83, self_care=ElderSelfCare.PARTIAL, living=ElderLiving.ALONE,
                           health=ElderHealth.ILL_SELF_CARING, diseases="高血压", dibao=True,
                           difficulties=[ElderDifficulty.SAFETY])
        guardian = make_guardian(elder)
        worker = world.users["village"]
        ContactEvent.objects.create(elder=elder, guardian=guardian, kind=ContactEventKind.PHONE,
                                    occurred_on=timezone.localdate() - timedelta(days=120), recorded_by=worker)
        observation = DutyObservation.objects.create(
            elder=elder, guardian=guardian, duty=GuardianDuty.CARE, fulfilment=DutyFulfilment.NOT,
            observed_on=timezone.localdate() - timedelta(days=10), observed_by=worker)
        proposal = risk.propose_assessment(elder)
        points = {f.code: f.points for f in proposal.factors}
        assert points == {"age": 2, "self_care": 2, "living_alone": 2, "hardship": 2, "illness": 2, "mental": 0,
                          "housing": 2, "contact": 1, "duties": 2, "special": 0}
        assert proposal.level == "high"
        assert factor(proposal, "illness").reason == "患病（高血压）"
        Supervision.objects.create(elder=elder, guardian=guardian, observation=observation,
                                   supervised_on=timezone.localdate(), method=SupervisionMethod.PHONE,
                                   result=SupervisionResult.REFUSED, recorded_by=worker)
        assert factor(risk.propose_assessment(elder), "duties").points == 3

    def test_a_recent_case_raises_the_special_situation_factor(self, world):
        elder = make_elder(world.village, age=70)
        make_case(world, elder=elder, urgency=ReliefCaseUrgency.URGENT)
        assert factor(risk.propose_assessment(elder), "special").points == 3


@pytest.mark.django_db
class TestConfirmation:
    def test_confirming_stores_version_factors_and_sets_the_elders_level(self, world):
        elder = make_elder(world.village, age=85, self_care=ElderSelfCare.DISABLED, living=ElderLiving.ALONE)
        assessment = services.confirm_assessment(elder, level="high", acting_user=world.users["village"])
        assert assessment.version == risk.VERSION and assessment.proposed_level == "high"
        assert len(assessment.factors) == 10 and assessment.factors[1]["points"] == 4
        assert Elder.objects.get(pk=elder.pk).risk_level == "high"

    def test_adjusting_requires_a_reason(self, world):
        elder = make_elder(world.village, age=65, living=ElderLiving.WITH_SPOUSE)
        with pytest.raises(ValidationError) as error:
            services.confirm_assessment(elder, level="high", acting_user=world.users["village"])
        assert "调整理由" in str(error.value)
        assert not RiskAssessment.objects.exists() and Elder.objects.get(pk=elder.pk).risk_level == ""
        assessment = services.confirm_assessment(elder, level="medium", adjusted_reason="近期老伴住院，无人照应",
                                                 acting_user=world.users["village"])
        assert assessment.was_adjusted and Elder.objects.get(pk=elder.pk).risk_level == "medium"

    def test_other_village_and_departments_cannot_assess(self, world):
        from eldercare.scoping import OutOfScope

        elder = make_elder(world.village, age=70)
        with pytest.raises(OutOfScope):
            services.confirm_assessment(elder, level="low", acting_user=world.users["village2"])
        with pytest.raises(services.ActionNotAllowed):
            services.confirm_assessment(elder, level="low", acting_user=world.users["police"])

    def test_the_version_of_older_assessments_is_kept(self, world, monkeypatch):
        elder = make_elder(world.village, age=70)
        old = services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        first_version = risk.VERSION
        monkeypatch.setattr(risk, "VERSION", "2027.1")
        new = services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        old.refresh_from_db()
        assert (old.version, new.version) == (first_version, "2027.1")


@pytest.mark.django_db
class TestReassessmentDue:
    def due(self, user):
        return {e.name: e for e in with_reassessment(Elder.objects.for_user(user)).filter(reassessment_due=True)}

    def test_due_twelve_months_after_the_last_assessment(self, world):
        elder = make_elder(world.village, name="李桂兰", age=70)
        with time_machine.travel(timezone.now() - timedelta(days=370)):
            services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        make_elder(world.village, name="从未评估", age=70)
        due = self.due(world.users["village"])
        assert set(due) == {"李桂兰"} and due["李桂兰"].due_expired
        services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        assert self.due(world.users["village"]) == {}

    def test_due_after_a_special_situation_reported_since(self, world):
        elder = make_elder(world.village, name="王秀英", age=70)
        services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        assert self.due(world.users["village"]) == {}
        make_case(world, elder=elder)
        due = self.due(world.users["village"])
        assert due["王秀英"].due_case and not due["王秀英"].due_expired
        assert self.due(world.users["village2"]) == {}

    def test_due_after_a_visit_that_reported_a_change_and_current_is_the_complement(self, world):
        from tests.visits.factories import make_visit

        changed = make_elder(world.village, name="赵大爷", age=75)
        calm = make_elder(world.village, name="钱奶奶", age=75)
        make_elder(world.village, name="从未评估", age=75)
        for elder in (changed, calm):
            make_visit(elder, world.users["village"], days_ago=5, outcome="help")  # before: no reason
            services.confirm_assessment(elder, level="low", adjusted_reason="已好转", acting_user=world.users["village"])
            make_visit(elder, world.users["village"], days_ago=0, outcome="normal")
        make_visit(changed, world.users["village"], days_ago=0, outcome="attention")
        rows = {e.name: e for e in with_reassessment(Elder.objects.for_user(world.users["village"]))}
        assert rows["赵大爷"].due_visit and rows["赵大爷"].reassessment_due and not rows["赵大爷"].due_case
        assert not rows["钱奶奶"].due_visit and not rows["钱奶奶"].reassessment_due
        # 现行有效: assessed and no reason; never assessed is neither due nor current.
        assert {name for name, e in rows.items() if e.assessment_current} == {"钱奶奶"}
        assert not rows["从未评估"].reassessment_due and rows["从未评估"].last_assessed_at is None


class TestLastVisitChecklist:
    def test_mental_state_from_the_last_visit(self):
        problem = risk.Facts(today=TODAY, age=70, last_contact_on=TODAY, last_visit_mental="problem")
        fair = risk.Facts(today=TODAY, age=70, last_contact_on=TODAY, last_visit_mental="fair")
        mental = [factor(risk.score_factors(f), "mental") for f in (problem, fair)]
        assert [(m.points, m.reason) for m in mental] == [(2, "最近一次巡访发现精神状态有问题"), (1, "最近一次巡访精神状态一般")]

    def test_housing_safety_from_the_last_visit_names_the_items(self):
        facts = risk.Facts(today=TODAY, age=70, last_contact_on=TODAY,
                           last_visit_safety={"居住安全·房屋": "normal", "居住安全·用火用电": "problem"})
        housing = factor(risk.score_factors(facts), "housing")
        assert (housing.points, housing.reason) == (2, "最近一次巡访发现居住安全·用火用电有问题")

    def test_gather_facts_reads_the_checklist_of_the_latest_visit(self, world):
        from tests.visits.factories import make_visit

        elder = make_elder(world.village, age=70)
        make_visit(elder, world.users["village"], days_ago=20, mental_check="problem")
        make_visit(elder, world.users["village"], days_ago=2, fire_check="problem")
        facts = risk.gather_facts(elder)
        assert facts.last_visit_mental == "normal"
        assert facts.last_visit_safety["居住安全·用火用电"] == "problem"
