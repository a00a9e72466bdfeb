"""One rule for who is an elder: 60 or more on the day of registration — the page form, the
admin and the census import refuse a 58-year-old alike; rows already stored that break the
rule are listed for the town to fix, never changed."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.census.engine import open_census
from registry.models import Elder, registration_age_error
from tests.factories import birth_for_age, make_elder, make_id_number
from tests.registry.census.builders import write_xlsx

pytestmark = pytest.mark.django_db
REFUSAL = "未满 60 周岁，不属于留守老年人关爱对象"


def test_the_rule_counts_completed_years_on_the_registration_day():
    assert registration_age_error(date(1966, 6, 1), date(2026, 6, 1)) is None
    assert "年龄为 59 岁" in registration_age_error(date(1966, 6, 2), date(2026, 6, 1))


def test_a_58_year_old_is_refused_by_the_page_form(client, world):
    number = make_id_number(birth_for_age(58))
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_add"), {
        "village": world.village.code, "name": "年轻人", "id_number": number, "phones": ""})
    assert response.status_code == 200 and REFUSAL in response.content.decode()
    assert not Elder.objects.exists()


def test_a_58_year_old_is_refused_by_the_admin(client, world):
    number = make_id_number(birth_for_age(58))
    client.force_login(world.users["town"])
    response = client.post(reverse("admin:registry_elder_add"), {
        "village": world.village.code, "name": "年轻人", "id_number": number, "phones": "", "status": "active",
        "income_sources": [], "difficulties": [],
        "guardian_links-TOTAL_FORMS": "0", "guardian_links-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and REFUSAL in response.content.decode()
    assert not Elder.objects.exists()


def test_a_58_year_old_is_refused_by_the_census_import(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [["村", "姓名", "身份证号码"],
                                             ["李家湾村", "年轻人", make_id_number(birth_for_age(58))]])
    with open_census(path, filename="c.xlsx", today=timezone.localdate()) as census:
        (row,) = list(census.rows())
    assert not row.ok and REFUSAL in row.errors[0].message


def test_a_survey_date_is_the_registration_day(client, world):
    """Surveyed at 59, registered (typed in) a year later at 60: the survey day counts."""
    this_year = timezone.localdate().year
    birth = date(this_year - 61, 6, 15)  # 60 or 61 today
    surveyed = date(this_year - 2, 9, 1)  # 59 then
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_add"), {
        "village": world.village.code, "name": "调查时未满", "id_number": make_id_number(birth), "phones": "",
        "surveyed_on": surveyed.isoformat()})
    assert "调查时年龄为 59 岁" in response.content.decode() and not Elder.objects.exists()


def test_stored_rows_that_break_the_rule_are_listed_for_the_town_and_left_unchanged(client, world):
    young = make_elder(world.village, name="四十六岁", age=46)  # stored before the rule
    make_elder(world.village, name="六十一岁", age=61)
    assert list(Elder.objects.registered_under_age()) == [young]
    client.force_login(world.users["town"])
    page = client.get(reverse("registry:alerts")).content.decode()
    assert "登记时未满60周岁" in page and "四十六岁" in page and "六十一岁" not in page
    client.force_login(world.users["village2"])
    assert "四十六岁" not in client.get(reverse("registry:alerts")).content.decode()
    young.refresh_from_db()
    assert young.status == "active" and young.birth_date == birth_for_age(46)



def test_a_stored_under_age_row_can_still_be_edited_and_its_id_number_must_be_fixed_to_pass(client, world):
    young = make_elder(world.village, name="四十六岁", age=46)
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_edit", args=[young.pk]), {
        "village": world.village.code, "name": "四十六岁", "phones": "13912345678", "address": "李家湾村1组"})
    assert response.status_code == 302  # other fields change; the row stays listed on 提醒
    young.refresh_from_db()
    assert young.address == "李家湾村1组" and Elder.objects.registered_under_age().filter(pk=young.pk).exists()
