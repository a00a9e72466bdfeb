"""Annual health management: plausibility checks, the 65+ worklist and its year boundary,
coverage, the pinned query count."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from registry.models import Elder
from services.models import HealthCheck, health_check_due_elders, with_health_status
from tests.factories import make_elder, make_guardian, make_id_number
from tests.services.factories import make_check, make_contract

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def check_errors(elder, user, **values):
    fields = {"checked_on": date(2026, 11, 1), "clinic_name": "锦屏镇卫生院", **values}
    check = HealthCheck(elder=elder, recorded_by=user, **fields)
    try:
        check.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


@pytest.mark.parametrize(("field", "bad", "label", "range_text"), [
    ("systolic", 59, "收缩压", "60–260"), ("systolic", 261, "收缩压", "60–260"),
    ("diastolic", 29, "舒张压", "30–160"), ("diastolic", 161, "舒张压", "30–160"),
    ("glucose", Decimal("0.9"), "空腹血糖", "1.0–35.0"), ("glucose", Decimal("35.1"), "空腹血糖", "1.0–35.0"),
    ("height_cm", Decimal("99"), "身高", "100–220"), ("height_cm", Decimal("221"), "身高", "100–220"),
    ("weight_kg", Decimal("24.9"), "体重", "25–200"), ("weight_kg", Decimal("201"), "体重", "25–200"),
])
def test_implausible_value_is_refused_with_field_and_range(world, field, bad, label, range_text):
    elder = make_elder(world.village, age=70)
    errors = check_errors(elder, world.users["clinic"], **{field: bad})
    assert label in errors[field][0] and range_text in errors[field][0]


def test_plausible_values_pass_and_bmi_is_computed(world):
    elder = make_elder(world.village, age=70)
    assert check_errors(elder, world.users["clinic"], systolic=120, diastolic=80, glucose=Decimal("5.6"),
                        height_cm=Decimal("160"), weight_kg=Decimal("64")) == {}
    assert HealthCheck(height_cm=Decimal("160"), weight_kg=Decimal("64")).bmi == Decimal("25.0")


def test_diastolic_must_be_below_systolic(world):
    errors = check_errors(make_elder(world.village, age=70), world.users["clinic"], systolic=90, diastolic=95)
    assert "舒张压" in errors["diastolic"][0] and "低于收缩压" in errors["diastolic"][0]


@time_machine.travel(datetime(2026, 11, 29, 10, tzinfo=SHANGHAI), tick=False)
def test_check_date_not_in_future_and_elder_reaching_65_that_year(world):
    assert "晚于今天" in check_errors(make_elder(world.village, age=70), world.users["clinic"],
                                   checked_on=date(2026, 12, 1))["checked_on"][0]
    # 65 on 2026-12-20: on the worklist this year, so the form accepts a check in November
    turning = make_elder(world.village, id_number=make_id_number(date(1961, 12, 20)))
    assert turning in health_check_due_elders(Elder.objects.all())
    assert check_errors(turning, world.users["clinic"], checked_on=date(2026, 11, 1)) == {}
    # but not a check of 2025, the year before the one they turn 65 in
    error = check_errors(turning, world.users["clinic"], checked_on=date(2025, 12, 31))["checked_on"][0]
    assert "年底还不满 65 岁" in error
    young = make_elder(world.village, id_number=make_id_number(date(1962, 1, 1)))  # 65 next year
    assert young not in health_check_due_elders(Elder.objects.all())
    assert "年底还不满 65 岁" in check_errors(young, world.users["clinic"], checked_on=date(2026, 11, 1))["checked_on"][0]


def worklist_names(client):
    return client.get(reverse("services:clinic_worklist")).content.decode()


@time_machine.travel(datetime(2026, 11, 29, 10, tzinfo=SHANGHAI), tick=False)
def test_worklist_includes_those_turning_65_this_year_and_excludes_checked(login, world):
    make_elder(world.village, name="满六十五", id_number=make_id_number(date(1961, 12, 31)))
    make_elder(world.village, name="明年才满", id_number=make_id_number(date(1962, 1, 1)))
    checked = make_elder(world.village, name="已体检", age=72)
    make_check(checked, world.users["clinic"], checked_on=date(2026, 3, 2))
    make_elder(world.village, name="已迁出", age=75, status="moved")
    make_elder(world.other_village, name="外镇老人", age=75)
    page = worklist_names(login(world.users["clinic"]))
    assert "满六十五" in page and "明年才满" not in page and "已迁出" not in page and "外镇老人" not in page
    assert "今年尚未体检（1 人）" in page and "50.0%" in page


def test_year_boundary_uses_shanghai_local_date(world):
    elder = make_elder(world.village, name="跨年", age=75)
    make_check(elder, world.users["clinic"], checked_on=date(2026, 12, 31))
    due = health_check_due_elders(Elder.objects.all(), date(2026, 12, 31))
    # 2026-12-31 16:30 UTC is already 2027-01-01 in Shanghai: last year's check no longer counts.
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert not with_health_status(health_check_due_elders(Elder.objects.all())).get(pk=elder.pk).checked_this_year
    with time_machine.travel(datetime(2026, 12, 31, 15, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert with_health_status(health_check_due_elders(Elder.objects.all())).get(pk=elder.pk).checked_this_year
    assert due.filter(pk=elder.pk).exists()


def test_coverage_moves_when_a_check_is_recorded_from_the_worklist(login, world):
    elders = [make_elder(world.village, name=n, age=70) for n in ("甲", "乙", "丙", "丁")]
    client = login(world.users["clinic"])
    assert "0.0%" in worklist_names(client)
    response = client.post(reverse("services:health_check_add", args=[elders[0].pk]), {
        "checked_on": date.today().isoformat(), "clinic_name": "锦屏镇卫生院", "systolic": 130, "diastolic": 80,
        "glucose": "5.5", "height_cm": "158", "weight_kg": "55", "summary": "基本正常"})
    assert response.status_code == 302
    assert "25.0%" in worklist_names(client)


def test_health_check_form_keeps_input_and_names_the_range(login, world):
    elder = make_elder(world.village, age=70)
    response = login(world.users["clinic"]).post(reverse("services:health_check_add", args=[elder.pk]), {
        "checked_on": date.today().isoformat(), "clinic_name": "锦屏镇卫生院", "systolic": 300, "diastolic": 80,
        "summary": "复查血压"})
    page = response.content.decode()
    assert response.status_code == 200 and "60–260" in page and "复查血压" in page
    assert HealthCheck.objects.count() == 0


def test_worklist_shows_masked_phones_and_guardians_but_not_income(login, world):
    elder = make_elder(world.village, name="郑玉兰", age=70, phones=["13512345678"], monthly_income=888)
    make_guardian(elder, name="郑大强", phone="13698765432")
    page = worklist_names(login(world.users["clinic"]))
    assert "135****5678" in page and "136****5432" in page and "郑大强" in page
    assert "13512345678" not in page and "13698765432" not in page
    assert "888" not in page and "月收入" not in page


def test_expiring_and_missing_contract_lists(login, world):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    soon = make_elder(world.village, name="快到期", age=70)
    make_contract(soon, valid_until=today + timedelta(days=10))
    make_contract(make_elder(world.village, name="长期有效", age=70), valid_until=today + timedelta(days=200))
    make_elder(world.village, name="没签约", age=70)
    page = worklist_names(login(world.users["clinic"]))
    expiring, missing = page.split("30 天内到期")[1].split("未签约家庭医生")
    assert "快到期" in expiring and "长期有效" not in expiring
    assert "没签约" in missing and "快到期" not in missing and "长期有效" not in missing


def _fill(world, n):
    for i in range(n):
        elder = make_elder(world.village if i % 2 else world.village2, name=f"老人{i}", age=70 + i % 20,
                           phones=["13800000000"])
        make_guardian(elder, name=f"子女{i}")
        if i % 3 == 0:
            make_contract(elder)


@pytest.mark.parametrize("n", [2, 20])
def test_worklist_query_count_does_not_grow_with_rows(login, world, django_assert_num_queries, n):
    _fill(world, n)
    client = login(world.users["clinic"])
    client.get(reverse("services:clinic_worklist"))  # warm session/user caches
    # session, user (with their area), coverage aggregate, page rows, guardians prefetch,
    # expiring, missing, census claims to verify; the menu's count and the session's renewal
    # happened in the first request
    with django_assert_num_queries(8):
        response = client.get(reverse("services:clinic_worklist"))
    assert response.status_code == 200
    with django_assert_num_queries(9):  # a search runs the same queries and counts its matches
        response = client.get(reverse("services:clinic_worklist"), {"q": "老人"})
    assert response.content.decode().count('class="button primary"') == n


def test_worklist_search_finds_a_walk_in_elder_checked_or_not_and_only_in_reach(login, world):
    checked = make_elder(world.village, name="王秀英", age=72, phones=["13912345678"])
    make_check(checked, world.users["clinic"])
    make_elder(world.village2, name="王德明", age=80)
    make_elder(world.other_village, name="王外镇", age=75)
    make_elder(world.village, name="王年轻", age=50)
    client = login(world.users["clinic"])

    def found(term):
        html = client.get(reverse("services:clinic_worklist"), {"q": term}).content.decode()
        return html.split('<ul class="list worklist">')[1].split("</ul>")[0]

    rows = found("王")
    assert "王秀英" in rows and "今年已体检" in rows and "王德明" in rows and "今年尚未体检" in rows
    assert "王外镇" not in rows and "王年轻" not in rows  # another town; under 65
    rows = found("5678")
    assert "王秀英" in rows and "王德明" not in rows
    assert "没有找到今年应体检的这位老人" in found("李")


def test_coverage_is_shown_per_village_and_adds_up_to_the_total(login, world):
    for i, village in enumerate([world.village, world.village, world.village2, world.village2]):
        elder = make_elder(village, name=f"老人{i}", age=70)
        if i in (0, 1, 2):
            make_check(elder, world.users["clinic"])
    html = worklist_names(login(world.users["clinic"]))
    assert "75.0%" in html  # 3 of 4 in the town
    rows = html.split("各村覆盖率")[1].split("</table>")[0]
    assert "<td>李家湾村</td><td>2</td><td>2</td><td>100.0%</td>" in rows
    assert "<td>青龙村</td><td>2</td><td>1</td><td>50.0%</td>" in rows
