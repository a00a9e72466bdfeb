"""A clinic is a department too: a 危重病情 case referred to 卫生院 is received, worked and
closed by the clinic account in its own worklist, without a second account."""

import pytest
from django.urls import reverse

from relief.choices import ReliefCaseStatus, ReliefCaseType
from relief.models import ReliefCase
from tests.factories import make_elder, make_user
from tests.relief.factories import make_case

pytestmark = pytest.mark.django_db


def test_referral_to_the_clinic_is_accepted_and_closed_by_the_clinic_account(login, world):
    elder = make_elder(world.village, name="病危老人")
    case = make_case(world, status=ReliefCaseStatus.REFERRED, elder=elder,
                     case_type=ReliefCaseType.CRITICAL_ILLNESS, departments=[world.clinic])
    client = login(world.users["clinic"])
    inbox = client.get(reverse("relief:inbox")).content.decode()
    assert "病危老人" in inbox
    referral = case.referrals.get()
    for action, data in (("receive", {}), ("start", {}), ("close", {"rclose-outcome": "已送县医院救治，子女已回家陪护"})):
        response = client.post(reverse("relief:referral_action", args=[referral.pk, action]), data)
        assert response.status_code == 302, (action, response.content.decode()[:2000])
    case = ReliefCase.objects.get(pk=case.pk)
    assert case.status == ReliefCaseStatus.CLOSED and "已送县医院救治" in case.outcome
    assert "病危老人" not in client.get(reverse("relief:inbox")).content.decode()  # done: off the worklist
    # the clinic still does its health work with the same account
    assert client.get(reverse("services:clinic_worklist")).status_code == 200


def test_the_clinic_sees_no_case_referred_elsewhere(login, world):
    make_case(world, status=ReliefCaseStatus.REFERRED, elder=make_elder(world.village, name="派出所的"))
    client = login(world.users["clinic"])
    assert "派出所的" not in client.get(reverse("relief:referral_list")).content.decode()
    assert not ReliefCase.objects.for_user(world.users["clinic"]).exists()


def test_a_clinic_account_may_belong_only_to_its_towns_clinic(world):
    from django.core.exceptions import ValidationError

    user = make_user("clinic_b", "clinic", world.town, department=world.police)
    with pytest.raises(ValidationError, match="卫生院"):
        user.full_clean()
    user.department = world.clinic
    user.full_clean()
