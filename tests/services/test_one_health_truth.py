"""One health truth: the family-doctor status comes from the contracts; the census flag is a
claim that, without a contract, is a "to verify" item for the clinic. The profile and the
signing rate read only the contracts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from oversight.metrics import METRICS, compute
from oversight.periods import MONTH, Period
from registry.models import Elder
from services.models import contract_claims_to_verify
from tests.factories import make_elder
from tests.services.factories import make_contract

pytestmark = pytest.mark.django_db


def test_the_signing_rate_is_computed_from_contracts_only(world):
    make_contract(make_elder(world.village, name="有签约记录", family_doctor=False))
    make_elder(world.village, name="填报已签约", family_doctor=True)  # a claim, no contract
    make_elder(world.village, name="未签约", family_doctor=False)
    figures = compute([METRICS["contract_valid"]], world.users["town"], Period(MONTH, timezone.localdate()),
                      world.town.code, None).total
    assert figures["contract_valid"] == 1


def test_a_census_claim_without_a_contract_is_on_the_clinics_list_to_verify(login, world):
    make_elder(world.village, name="填报已签约", family_doctor=True, age=70)
    make_contract(make_elder(world.village, name="已有签约", family_doctor=True, age=70))
    assert [e.name for e in contract_claims_to_verify(Elder.objects.all())] == ["填报已签约"]
    page = login(world.users["clinic"]).get(reverse("services:clinic_worklist")).content.decode()
    assert "待核实（1）" in page


def test_the_profile_shows_the_contracts_status_and_the_claim_as_a_claim(login, world):
    elder = make_elder(world.village, name="填报已签约", family_doctor=True, age=70)
    page = login(world.users["town"]).get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert "未签约或已过期" in page and "调查表填报已签约，待卫生院核实" in page
    assert "已签约，有效至" not in page


def test_an_elder_moved_to_a_care_home_stays_on_the_clinics_list(login, world):
    from registry.models import CareHome
    from registry.services import change_status

    elder = make_elder(world.village, name="入住敬老院", age=78)
    care_home = CareHome.objects.create(name="锦屏镇敬老院", area=world.town)
    change_status(elder, to_status="institution", changed_on=timezone.localdate(), reason="子女外出，自愿入住",
                  care_home=care_home, acting_user=world.users["village"])
    page = login(world.users["clinic"]).get(reverse("services:clinic_worklist")).content.decode()
    assert "入住敬老院" in page and "锦屏镇敬老院" in page  # the home named: the clinic's doctors go there
    moved = make_elder(world.village, name="迁出外地", age=78)
    change_status(moved, to_status="moved", changed_on=timezone.localdate(), reason="随子女迁往外省",
                  acting_user=world.users["village"])
    assert "迁出外地" not in login(world.users["clinic"]).get(reverse("services:clinic_worklist")).content.decode()
