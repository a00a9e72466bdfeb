"""Permission matrix of every relief page and admin: anonymous → login, out of scope → 404 or
not listed, in scope → shown."""

from datetime import timedelta
from uuid import uuid4

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from registry.choices import SupervisionMethod, SupervisionResult
from registry.models import Supervision
from relief import services
from relief.choices import ReliefCaseStatus, ReliefCaseType
from relief.models import ClockPolicy, Referral
from tests.factories import make_elder, make_guardian
from tests.matrix import AdminMatrix, PageMatrix
from tests.relief.factories import make_case
from visits.models import Visit

S = ReliefCaseStatus
NAME = "甄秀珍"
pytestmark = pytest.mark.django_db
NOT_TOWN_STAFF = ["village2", "other_town", "other_village", "clinic"]


def case_in(world, status=S.REPORTED):
    return make_case(world, status=status, elder=make_elder(world.village, name=NAME))


class CaseMarker:
    def marker(self, obj):
        return NAME


class TestCaseList(CaseMarker, PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "justice"]

    def make(self, world):
        return case_in(world)

    def url(self, obj):
        return reverse("relief:case_list")


class TestCaseDetail(CaseMarker, PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "justice"]  # not referred to any department yet

    def make(self, world):
        return case_in(world)

    def url(self, obj):
        return reverse("relief:case_detail", args=[obj.pk])


class TestReferredCaseDetail(TestCaseDetail):
    in_scope = ["village", "town", "county", "police"]
    out_of_scope = NOT_TOWN_STAFF + ["justice"]

    def make(self, world):
        return case_in(world, S.REFERRED)


class TestInboxOfTheTown(CaseMarker, PageMatrix):
    kind = "list"
    in_scope = ["town"]
    out_of_scope = NOT_TOWN_STAFF + ["village", "police", "county"]

    def make(self, world):
        return case_in(world)

    def url(self, obj):
        return reverse("relief:inbox")


class TestInboxOfTheReporter(TestInboxOfTheTown):
    in_scope = ["village"]
    out_of_scope = NOT_TOWN_STAFF + ["town", "police"]

    def make(self, world):
        return case_in(world, S.RETURNED)


class TestInboxOfTheDepartment(TestInboxOfTheTown):
    in_scope = ["police"]
    out_of_scope = NOT_TOWN_STAFF + ["justice", "village"]

    def make(self, world):
        return case_in(world, S.REFERRED)


class TestDepartmentQueue(CaseMarker, PageMatrix):
    kind = "list"
    in_scope = ["police"]
    out_of_scope = NOT_TOWN_STAFF + ["justice", "village", "town"]

    def make(self, world):
        return case_in(world, S.REFERRED)

    def url(self, obj):
        return reverse("relief:referral_list")


class TestReportPage(PageMatrix):
    kind = "list"
    in_scope = ["village", "town"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "county"]

    def make(self, world):
        return make_elder(world.village, name=NAME)

    def url(self, obj):
        return reverse("relief:case_report")

    def marker(self, obj):
        return NAME


def case_for_the_clinic(world, status=S.REFERRED):
    return make_case(world, status=status, elder=make_elder(world.village, name=NAME),
                     case_type=ReliefCaseType.CRITICAL_ILLNESS, departments=[world.clinic])


# A clinic is a department too: the clinic account reaches exactly the cases referred to its 卫生院.
OUT_OF_THE_CLINICS_CASES = ["village2", "other_town", "other_village", "police", "justice"]


class TestCaseReferredToTheClinic(CaseMarker, PageMatrix):
    in_scope = ["village", "town", "county", "clinic"]
    out_of_scope = OUT_OF_THE_CLINICS_CASES

    def make(self, world):
        return case_for_the_clinic(world)

    def url(self, obj):
        return reverse("relief:case_detail", args=[obj.pk])


class TestInboxOfTheClinic(CaseMarker, PageMatrix):
    kind = "list"
    in_scope = ["clinic"]
    out_of_scope = OUT_OF_THE_CLINICS_CASES + ["village"]

    def make(self, world):
        return case_for_the_clinic(world)

    def url(self, obj):
        return reverse("relief:inbox")


class TestClinicQueue(TestInboxOfTheClinic):
    out_of_scope = OUT_OF_THE_CLINICS_CASES + ["village", "town"]

    def url(self, obj):
        return reverse("relief:referral_list")


class TestClinicReferralStepPost(CaseMarker, PageMatrix):
    method = "post"
    in_scope = ["clinic"]
    out_of_scope = OUT_OF_THE_CLINICS_CASES + ["village", "town"]

    def make(self, world):
        return Referral.objects.get(case=case_for_the_clinic(world, S.IN_PROGRESS))

    def url(self, obj):
        return reverse("relief:referral_action", args=[obj.pk, "close"])


class TestCaseStepPost(CaseMarker, PageMatrix):
    """POSTing a town step (here: 退回 without a reason, which re-shows the form)."""

    method = "post"
    in_scope = ["town"]
    out_of_scope = NOT_TOWN_STAFF + ["village", "police", "county"]

    def make(self, world):
        return case_in(world)

    def url(self, obj):
        return reverse("relief:case_action", args=[obj.pk, "return"])


class TestReferralStepPost(CaseMarker, PageMatrix):
    method = "post"
    in_scope = ["police"]
    out_of_scope = NOT_TOWN_STAFF + ["justice", "village", "town"]

    def make(self, world):
        return Referral.objects.get(case=case_in(world, S.IN_PROGRESS))

    def url(self, obj):
        return reverse("relief:referral_action", args=[obj.pk, "close"])  # no outcome: the form comes back


class TestCaseFromSupervision(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "county"]

    def make(self, world):
        elder = make_elder(world.village, name=NAME)
        return Supervision.objects.create(elder=elder, guardian=make_guardian(elder),
                                          supervised_on=timezone.localdate(), method=SupervisionMethod.PHONE,
                                          result=SupervisionResult.REFUSED, recorded_by=world.users["village"])

    def url(self, obj):
        return reverse("relief:case_from_supervision", args=[obj.pk])

    def marker(self, obj):
        return NAME


class TestCaseFromVisit(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "county"]

    def make(self, world):
        elder = make_elder(world.village, name=NAME)
        return Visit.objects.create(elder=elder, visitor=world.users["village"], visited_at=timezone.now(), submission_key=uuid4(),
                                    method="home", outcome="help", needs_raised="", notes="", report_to_town=True)

    def url(self, obj):
        return reverse("relief:case_from_visit", args=[obj.pk])

    def marker(self, obj):
        return NAME


class TestAssessPage(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = NOT_TOWN_STAFF + ["police", "county"]

    def make(self, world):
        return make_elder(world.village, name=NAME)

    def url(self, obj):
        return reverse("relief:assess", args=[obj.pk])

    def marker(self, obj):
        return NAME


class TestReassessmentDue(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = NOT_TOWN_STAFF + ["police"]

    def make(self, world):
        elder = make_elder(world.village, name=NAME)
        with time_machine.travel(timezone.now() - timedelta(days=400)):
            services.confirm_assessment(elder, level="low", acting_user=world.users["village"])
        return elder

    def url(self, obj):
        return reverse("relief:reassessment_due")

    def marker(self, obj):
        return NAME


OFFICE_ONLY_OUT = NOT_TOWN_STAFF + ["village", "police"]


class TestReliefCaseAdmin(CaseMarker, AdminMatrix):
    in_scope = ["town", "county"]
    out_of_scope = OFFICE_ONLY_OUT

    def make(self, world):
        return case_in(world, S.REFERRED)


class TestReferralAdmin(CaseMarker, AdminMatrix):
    in_scope = ["town", "county"]
    out_of_scope = OFFICE_ONLY_OUT

    def make(self, world):
        return Referral.objects.get(case=case_in(world, S.REFERRED))


class TestRiskAssessmentAdmin(CaseMarker, AdminMatrix):
    in_scope = ["town", "county"]
    out_of_scope = OFFICE_ONLY_OUT

    def make(self, world):
        return services.confirm_assessment(make_elder(world.village, name=NAME), level="low",
                                           acting_user=world.users["village"])


class TestClockPolicyAdmin(AdminMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "other_village", "village", "village2", "clinic", "police"]

    def make(self, world):
        return ClockPolicy.objects.create(town=world.town)

    def marker(self, obj):
        return "锦屏镇"
