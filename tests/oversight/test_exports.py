"""Exports of every list: the current filter, the same rows as the page, masking, access records."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from eldercare.models import AccessEvent
from relief.choices import ReliefCaseStatus, ReliefCaseType
from tests.factories import make_elder
from tests.oversight.data import populate
from tests.relief.factories import make_case
from tests.services.factories import make_item, make_pairing, make_record, make_volunteer

pytestmark = pytest.mark.django_db


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response.streaming, "exports are streamed"
    rows = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_drill_down_export_has_the_same_rows_and_is_recorded(world, login):
    populate(world, per_village=2)
    client = login(world.users["town"])
    page = client.get(reverse("oversight:rows", args=["overdue"]), {"area": world.town.code}).content.decode()
    header, rows = _sheet(client.get(reverse("oversight:rows_export", args=["overdue"]), {"area": world.town.code}))
    assert f"共 {len(rows)} 条" in page and len(rows) == 8
    assert header[:3] == ("村(社区)", "村民小组", "姓名")
    event = AccessEvent.objects.get(kind="export")
    assert event.detail["what"] == "oversight.rows.overdue" and event.detail["rows"] == 8


def test_identifiers_are_masked_for_village_staff_like_the_ledger(world, login):
    elder = make_elder(world.village, name="钟秀兰", age=70, phones=["13812345678"])
    query = {"area": world.village.code}
    _, rows = _sheet(login(world.users["village"]).get(reverse("oversight:rows_export", args=["active"]), query))
    assert rows[0][5] == elder.id_number[:6] + "********" + elder.id_number[-4:]
    assert rows[0][6] == "138****5678"
    _, rows = _sheet(login(world.users["town"]).get(reverse("oversight:rows_export", args=["active"]), query))
    assert rows[0][5] == elder.id_number and rows[0][6] == "13812345678"


def test_exported_text_cannot_run_as_a_formula(world, login):
    make_elder(world.village, name="=HYPERLINK(\"http://x\")", age=70)
    _, rows = _sheet(login(world.users["town"]).get(reverse("oversight:rows_export", args=["active"]),
                                                    {"area": world.village.code}))
    assert rows[0][2] == "'=HYPERLINK(\"http://x\")"


def test_other_areas_cannot_be_exported(world, login):
    client = login(world.users["village2"])
    assert client.get(reverse("oversight:rows_export", args=["active"]), {"area": world.village.code}).status_code == 404
    assert not AccessEvent.objects.exists()


def test_per_village_table_export(world, login):
    populate(world, per_village=1)
    header, rows = _sheet(login(world.users["town"]).get(reverse("oversight:table_export")))
    assert [r[0] for r in rows] == ["李家湾村", "青龙村", "合计"]
    assert header[2] == "在册老人" and rows[-1][1:3] == (world.town.code, "8")


def test_case_export_follows_the_tab_and_hides_sensitive_narratives(world, login):
    make_case(world, case_type=ReliefCaseType.ILLEGAL_HARM, narrative="被邻居推搡受伤")
    make_case(world, status=ReliefCaseStatus.CLOSED, narrative="漏雨已修好")
    village = login(world.users["village"])
    _, rows = _sheet(village.get(reverse("relief:case_export"), {"status": "open"}))
    assert len(rows) == 1 and "被邻居推搡受伤" not in str(rows) and "仅乡镇和承办部门可见" in str(rows)
    _, rows = _sheet(login(world.users["town"]).get(reverse("relief:case_export"), {"status": "all"}))
    assert len(rows) == 2 and "被邻居推搡受伤" in str(rows) and "漏雨已修好" in str(rows)
    assert AccessEvent.objects.filter(kind="export", detail__what="relief.cases").count() == 2


def test_referral_export_is_the_departments_own(world, login):
    make_case(world, status=ReliefCaseStatus.REFERRED, narrative="老人走失")
    _, rows = _sheet(login(world.users["police"]).get(reverse("relief:referral_export")))
    assert len(rows) == 1 and "老人走失" in str(rows)
    _, rows = _sheet(login(world.users["justice"]).get(reverse("relief:referral_export")))
    assert rows == []


def test_pairings_and_hours_exports(world, login):
    elder = make_elder(world.village, name="蒋桂芝")
    volunteer = make_volunteer(world.village, name="刘志愿", phone="13900001111")
    make_pairing(volunteer, elder)
    make_record(elder, make_item(world.town), world.users["village"], volunteer=volunteer, duration_minutes=90)
    client = login(world.users["village"])
    _, rows = _sheet(client.get(reverse("services:pairings_export")))
    assert rows[0][:4] == ("李家湾村", "蒋桂芝", "刘志愿", "139****1111")
    _, rows = _sheet(client.get(reverse("services:hours_export")))
    assert rows[0][1:] == ("刘志愿", "李家湾村", "1", "1.5")
    _, rows = _sheet(login(world.users["village2"]).get(reverse("services:pairings_export")))
    assert rows == []
