"""The table of docs/access.md ("What each role sees"), enforced against real responses.

The table is data here; `render_table()` writes it as Markdown, and the first test fails when the
document's table differs (copy the printed table into docs/access.md). The other tests request each
page as each role and check that each item is shown in full, masked, or not at all, as the table
says; a page a role cannot open must answer 404.
"""

from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from eldercare.idnumbers import mask_id_number, mask_phone
from tests.factories import make_elder, make_guardian, make_id_number

ROLES = ["village", "town", "county", "clinic", "police"]
ROLE_TITLES = {"village": "村", "town": "乡镇", "county": "县", "clinic": "卫生院", "department": "部门"}
SHOWN = {"full": "完整", "masked": "遮挡", "year": "仅年份", "none": "不显示", "404": "打不开"}
BIRTH = date(1947, 8, 19)

# (page, URL maker, item, {role: full|masked|year|none|404}, how a reveal is recorded)
TABLE = [
    ("老人名册", lambda e: reverse("registry:elders"), "身份证号",
     {"village": "none", "town": "none", "county": "none", "clinic": "none", "police": "404"}, "—"),
    ("老人名册", lambda e: reverse("registry:elders"), "老人电话",
     {"village": "masked", "town": "masked", "county": "masked", "clinic": "masked", "police": "404"}, "—"),
    ("老人信息", lambda e: reverse("registry:elder", args=[e.pk]), "身份证号",
     {"village": "masked", "town": "masked", "county": "masked", "clinic": "masked", "police": "404"},
     "按“显示”：记一条“查看完整信息”（字段 id_number）"),
    ("老人信息", lambda e: reverse("registry:elder", args=[e.pk]), "出生日期",
     {"village": "year", "town": "year", "county": "year", "clinic": "year", "police": "404"}, "—"),
    ("老人信息", lambda e: reverse("registry:elder", args=[e.pk]), "老人电话",
     {"village": "full", "town": "full", "county": "full", "clinic": "full", "police": "404"},
     "单个老人的页面，为打电话而设，不记录"),
    ("老人信息", lambda e: reverse("registry:elder", args=[e.pk]), "赡养人电话",
     {"village": "full", "town": "full", "county": "full", "clinic": "full", "police": "404"},
     "同上"),
    ("老人信息", lambda e: reverse("registry:elder", args=[e.pk]), "月收入",
     {"village": "full", "town": "full", "county": "full", "clinic": "none", "police": "404"}, "—"),
    ("修改老人信息", lambda e: reverse("registry:elder_edit", args=[e.pk]), "身份证号",
     {"village": "masked", "town": "masked", "county": "404", "clinic": "404", "police": "404"},
     "“修改身份证号”一步：原号码不显示，修改记一条“查看完整信息”（id_number，附原因）"),
    ("变更状态", lambda e: reverse("registry:elder_status", args=[e.pk]), "身份证号",
     {"village": "none", "town": "none", "county": "404", "clinic": "404", "police": "404"}, "—"),
    ("健康管理", lambda e: reverse("services:clinic_worklist"), "老人电话",
     {"village": "404", "town": "masked", "county": "masked", "clinic": "masked", "police": "404"},
     "点号码拨打：记一条“查看完整信息”（字段 phone），再转到拨号"),
    ("健康管理", lambda e: reverse("services:clinic_worklist"), "赡养人电话",
     {"village": "404", "town": "masked", "county": "masked", "clinic": "masked", "police": "404"}, "同上"),
    ("健康管理", lambda e: reverse("services:clinic_worklist"), "身份证号",
     {"village": "404", "town": "none", "county": "none", "clinic": "none", "police": "404"}, "—"),
    ("台账导出", lambda e: reverse("admin:registry_elder_export"), "身份证号",
     {"village": "masked", "town": "full", "county": "full", "clinic": "404", "police": "404"},
     "每次导出记一条“导出”（条件、行数、是否遮挡）"),
    ("台账导出", lambda e: reverse("admin:registry_elder_export"), "出生日期",
     {"village": "year", "town": "full", "county": "full", "clinic": "404", "police": "404"}, "同上"),
    ("台账导出", lambda e: reverse("admin:registry_elder_export"), "老人电话",
     {"village": "masked", "town": "full", "county": "full", "clinic": "404", "police": "404"}, "同上"),
    ("访问记录", lambda e: reverse("access_log"), "身份证号",
     {"village": "404", "town": "none", "county": "none", "clinic": "404", "police": "404"}, "—"),
]

ITEM_VALUES = {
    # item: (full text, masked text) as they appear on a page or in a workbook
    "身份证号": lambda e: (e.id_number, mask_id_number(e.id_number)),
    "出生日期": lambda e: (BIRTH.isoformat(), f"{BIRTH.year}年"),
    "老人电话": lambda e: ("13512345678", mask_phone("13512345678")),
    "赡养人电话": lambda e: ("13698765432", mask_phone("13698765432")),
    "月收入": lambda e: ("1234.00 元", None),
}


def render_table() -> str:
    head = "| 页面 | 内容 | " + " | ".join(ROLE_TITLES[r if r != "police" else "department"] for r in ROLES) \
        + " | 查看完整内容如何记录 |"
    lines = [head, "|" + "---|" * (len(ROLES) + 3)]
    for page, _url, item, shown, recorded in TABLE:
        lines.append(f"| {page} | {item} | " + " | ".join(SHOWN[shown[r]] for r in ROLES) + f" | {recorded} |")
    return "\n".join(lines)


def test_docs_access_md_holds_this_table():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "access.md").read_text(encoding="utf-8")
    table = render_table()
    assert table in doc, "docs/access.md must hold this table:\n\n" + table


@pytest.fixture
def elder(world):
    elder = make_elder(world.village, name="郑玉兰", id_number=make_id_number(BIRTH, male=False),
                       phones=["13512345678"], monthly_income=1234)
    make_guardian(elder, name="郑大强", phone="13698765432")
    return elder


def text_of(response) -> str:
    from tests.matrix import workbook_as_text

    return workbook_as_text(response).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_what_the_table_says(client, world, elder, role):
    client.force_login(world.users[role])
    pages = {}
    problems = []
    for page, url, item, shown, _recorded in TABLE:
        expected = shown[role]
        address = url(elder)
        if address not in pages:  # a download streams once: keep its text
            response = client.get(address)
            pages[address] = (response.status_code, text_of(response) if response.status_code == 200 else "")
        status, content = pages[address]
        if expected == "404":
            if status != 404:
                problems.append(f"{page} {item}: {status}, expected 404")
            continue
        assert status == 200, f"{role} {page}: {status}"
        full, masked = ITEM_VALUES[item](elder)
        if item == "出生日期":
            found = "full" if full in content else "year" if masked in content else "none"
        else:
            found = "full" if full in content else "masked" if masked and masked in content else "none"
        if found != expected:
            problems.append(f"{page} {item}: {SHOWN[found]}, the table says {SHOWN[expected]}")
    assert not problems, f"{role}: {problems}"
