"""Eligibility of elders for catalogue items: each flag, ALL-of semantics, Python == queryset."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.choices import ElderLiving, ElderSelfCare
from registry.models import Elder
from services.choices import ServiceItemEligibility as F
from services.models import ServiceItem
from services.services import eligible_elders_for, items_not_yet_received
from tests.factories import make_elder
from tests.services.factories import make_item, make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    v = world.village
    return {
        "young_plain": make_elder(v, name="甲", age=62, living=ElderLiving.WITH_SPOUSE,
                                  self_care=ElderSelfCare.INDEPENDENT),
        "very_old": make_elder(v, name="乙", age=85, living=ElderLiving.WITH_SPOUSE),
        "disabled_alone": make_elder(v, name="丙", age=70, living=ElderLiving.ALONE, self_care=ElderSelfCare.DISABLED),
        "alone": make_elder(v, name="丁", age=66, living=ElderLiving.ALONE, self_care=ElderSelfCare.INDEPENDENT),
        "tekun": make_elder(v, name="戊", age=68, tekun=True),
        "dibao_old": make_elder(v, name="己", age=82, dibao=True),
    }


EXPECTED = {
    F.VERY_OLD: {"乙", "己"},
    F.DISABLED: {"丙"},
    F.TEKUN: {"戊"},
    F.DIBAO: {"己"},
    F.ALONE: {"丙", "丁"},
    F.DISABLED_ALONE: {"丙"},
    F.HARDSHIP: {"戊", "己"},
    F.AGE_65: {"乙", "丙", "丁", "戊", "己"},
}


@pytest.mark.parametrize("flag", list(F))
def test_each_flag_selects_exactly_the_elders_who_have_it(world, people, flag):
    item = ServiceItem(town=world.town, name="x", category="other", eligibility=[flag])
    matched = set(eligible_elders_for(item, Elder.objects.all()).values_list("name", flat=True))
    assert matched == EXPECTED[flag]
    assert {e.name for e in Elder.objects.all() if item.is_eligible(e)} == EXPECTED[flag]


def test_several_flags_require_all_of_them(world, people):
    item = ServiceItem(town=world.town, name="x", category="other", eligibility=[F.VERY_OLD, F.DIBAO])
    assert set(eligible_elders_for(item, Elder.objects.all()).values_list("name", flat=True)) == {"己"}
    item.eligibility = [F.ALONE, F.DISABLED]
    assert set(eligible_elders_for(item, Elder.objects.all()).values_list("name", flat=True)) == {"丙"}


def test_no_flags_means_every_elder(world, people):
    item = ServiceItem(town=world.town, name="x", category="other", eligibility=[])
    assert eligible_elders_for(item, Elder.objects.all()).count() == len(people)


@pytest.mark.parametrize("flags", [[F.AGE_65, F.ALONE], [F.HARDSHIP, F.VERY_OLD], [F.TEKUN, F.DIBAO], [F.DISABLED]])
def test_python_check_equals_queryset_filter(world, people, flags):
    item = ServiceItem(town=world.town, name="x", category="other", eligibility=flags)
    by_query = set(eligible_elders_for(item, Elder.objects.all()).values_list("pk", flat=True))
    by_python = {e.pk for e in Elder.objects.all() if item.is_eligible(e)}
    assert by_query == by_python


def test_profile_lists_eligible_items_not_received_in_the_last_year(world, people):
    elder = people["disabled_alone"]
    bath = make_item(world.town, name="助浴服务", eligibility=[F.DISABLED])
    make_item(world.town, name="高龄补贴", eligibility=[F.VERY_OLD])
    meals = make_item(world.town, name="助餐服务", eligibility=[F.ALONE])
    make_item(world.town, name="未发布项目", eligibility=[], published=False)
    make_record(elder, meals, world.users["village"], served_on=timezone.localdate() - timedelta(days=30))
    make_record(elder, bath, world.users["village"], served_on=timezone.localdate() - timedelta(days=400))
    names = [i.name for i in items_not_yet_received(Elder.objects.get(pk=elder.pk))]
    assert names == ["助浴服务"]
