"""The ledger export: census headers, text cells, formula neutralisation, scoping, masking, audit."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from eldercare.models import AccessEvent
from registry.census.columns import CENSUS_COLUMNS
from tests.factories import make_elder, make_guardian

pytestmark = pytest.mark.django_db


def export(client, query=""):
    response = client.get(reverse("admin:registry_elder_export") + query)
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.getvalue())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]], sheet


def test_headers_are_the_census_template_headers(client, world):
    client.force_login(world.users["town"])
    header, _, _ = export(client)
    assert header == [column.title for column in CENSUS_COLUMNS] + ["状态", "入住养老机构", "入住日期"]
    assert header[:6] == ["乡镇", "村（社区）", "村民小组", "姓名", "性别", "身份证号码"]


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "＝１+１", "＋1", "－1",
                                       "＠x", " =1"])
def test_formula_like_values_are_neutralised(client, world, dangerous):
    make_elder(world.village, name="王秀英", notes=dangerous, address=dangerous)
    client.force_login(world.users["town"])
    _, rows, sheet = export(client)
    assert rows[0]["备注"] == "'" + dangerous and rows[0]["现居住地址"] == "'" + dangerous
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type in ("s", "n", "inlineStr")  # never "f" (formula)
            assert cell.value is None or isinstance(cell.value, str)


def test_export_contains_the_census_values(client, world):
    elder = make_elder(world.village, name="王秀英", phones=["13812345678"], living="alone", self_care="partial",
                       dibao=True, income_sources=["pension", "children"], village_group="第3组")
    make_guardian(elder, name="王建华", phone="13900001111", relation="son", whereabouts="浙江宁波")
    client.force_login(world.users["town"])
    _, rows, _ = export(client)
    row = rows[0]
    assert (row["乡镇"], row["村（社区）"], row["村民小组"], row["姓名"]) == ("锦屏镇", "李家湾村", "第3组", "王秀英")
    assert row["身份证号码"] == elder.id_number and row["联系电话"] == "13812345678"
    assert (row["居住情况"], row["自理能力"], row["是否低保"]) == ("独居", "半失能", "是")
    assert row["主要经济来源"] == "养老金、子女供养"
    assert (row["主要赡养人/姓名"], row["主要赡养人/关系"], row["主要赡养人/联系电话"]) == ("王建华", "子", "13900001111")
    assert row["委托照顾/是否签订协议"] == "否"


def test_export_is_scoped_filtered_and_recorded(client, world):
    make_elder(world.village, name="本村甲", self_care="disabled", living="alone")
    make_elder(world.village, name="本村乙")
    make_elder(world.village2, name="邻村丙")
    make_elder(world.village, name="迁出丁", status="moved")
    client.force_login(world.users["village"])
    _, rows, _ = export(client)
    assert sorted(r["姓名"] for r in rows) == ["本村乙", "本村甲"]
    _, rows, _ = export(client, "?is_disabled_alone=1")
    assert [r["姓名"] for r in rows] == ["本村甲"]
    events = list(AccessEvent.objects.filter(kind="export").order_by("at"))
    assert [e.detail["rows"] for e in events] == [2, 1]
    assert events[1].detail["filters"] == {"is_disabled_alone": "1"}
    assert events[1].user == world.users["village"]


def test_village_staff_export_is_masked_town_export_is_full(client, world):
    elder = make_elder(world.village, name="王秀英", phones=["13812345678"])
    client.force_login(world.users["village"])
    _, rows, _ = export(client)
    assert rows[0]["身份证号码"] == elder.id_number[:6] + "********" + elder.id_number[-4:]
    assert rows[0]["联系电话"] == "138****5678"
    client.force_login(world.users["county"])
    _, rows, _ = export(client)
    assert rows[0]["身份证号码"] == elder.id_number


def test_clinic_and_departments_cannot_export(client, world):
    make_elder(world.village)
    for username in ("clinic", "police"):
        client.force_login(world.users[username])
        response = client.get(reverse("admin:registry_elder_export"))
        assert response.status_code in (302, 404)
    assert not AccessEvent.objects.exists()


def test_exported_ledger_imports_back_with_zero_changes(client, world, tmp_path):
    from registry.census import services as census

    first = make_elder(world.village, name="王秀英", phones=["13800001111"], living="alone", dibao=True,
                       self_care="partial", village_group="第3组", income_sources=["pension", "children"],
                       difficulties=["economic"], monthly_income=650, notes="=1+1", ethnicity="彝族")
    make_guardian(first, name="张建华", phone="13900002222", relation="son", whereabouts="浙江宁波")
    second = make_elder(world.village2, name="李桂兰", male=False, tekun=True, family_doctor=False)
    make_guardian(second, name="李明", phone="13700003333", relation="daughter")
    client.force_login(world.users["town"])
    response = client.get(reverse("admin:registry_elder_export"))
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(response.getvalue())
    outcome = census.execute(str(path), filename="ledger.xlsx", user=world.users["town"])
    assert (outcome.new, outcome.updated, outcome.unchanged, outcome.rejected) == (0, 0, 2, 0)
