"""Finding the header and mapping columns: aliases, notes, two-row headers, title rows."""

import pytest

from registry.census.columns import FIELD_BY_ALIAS, header_key
from registry.census.reader import CensusFileError

from .builders import id_number, parse, parse_rows, write_csv, write_xlsx

ID = id_number()

SPEC_ALIASES = {
    "town": ["乡镇", "乡镇(街道)", "所属乡镇"],
    "village": ["村", "村(社区)", "所属村", "村委会", "行政村", "村居"],
    "village_group": ["组", "村民小组", "小组"],
    "name": ["姓名", "老人姓名"],
    "sex": ["性别"],
    "id_number": ["身份证号", "身份证号码", "公民身份号码", "身份证"],
    "birth_date": ["出生日期", "出生年月"],
    "ethnicity": ["民族"],
    "phones": ["联系电话", "本人电话", "电话"],
    "address": ["现居住地址", "住址", "家庭住址"],
    "living": ["居住情况", "居住状况"],
    "health": ["健康状况"],
    "self_care": ["自理能力", "失能情况", "能力等级"],
    "diseases": ["慢性病", "患病情况", "主要疾病"],
    "income_sources": ["经济来源", "主要经济来源"],
    "monthly_income": ["月收入", "月收入(元)", "人均月收入"],
    "dibao": ["低保", "是否低保", "低保对象"],
    "tekun": ["特困", "是否特困", "特困人员", "特困供养"],
    "poverty_monitored": ["脱贫户", "监测户", "脱贫(监测)户", "建档立卡"],
    "difficulties": ["主要困难", "存在困难"],
    "needs": ["服务需求", "需求"],
    "family_doctor": ["家庭医生签约", "是否签约家庭医生"],
    "agreement": ["是否签订委托照顾协议", "委托照顾协议"],
    "agreement_caregiver": ["受托人", "受托人姓名"],
    "agreement_phone": ["受托人电话"],
    "cadre": ["帮扶责任人", "联系责任人", "包保干部"],
    "surveyed_by": ["调查人", "填报人"],
    "surveyed_on": ["调查日期", "填报日期"],
    "notes": ["备注"],
}


@pytest.mark.parametrize(
    ("alias", "field"), [(alias, field) for field, aliases in SPEC_ALIASES.items() for alias in aliases]
)
def test_every_spec_alias_maps_to_its_field(alias, field):
    assert FIELD_BY_ALIAS[header_key(alias)] == field


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("身份证号码（必填）", "身份证号码"),
        ("身份证号码(必填)", "身份证号码"),
        ("*姓名", "姓名"),
        ("姓 名", "姓名"),
        ("姓\u3000名", "姓名"),
        ("身份证\n号码", "身份证号码"),
        ("月收入（元）", "月收入"),
        ("【必填】村", "村"),
        ("ＩＤ", "ID"),
    ],
)
def test_header_text_is_matched_without_spaces_breaks_stars_and_notes(written, key):
    assert header_key(written) == key


def test_header_after_ten_title_rows_is_found_and_the_eleventh_row_is_the_limit(tmp_path):
    titles = [[f"标题{index}"] for index in range(10)]
    path = write_xlsx(tmp_path / "ok.xlsx", [*titles, ["村", "姓名", "身份证号"], ["李家湾", "张三", ID]])
    census, rows = parse(path)
    assert [row.row_number for row in rows] == [12]
    too_deep = write_xlsx(tmp_path / "deep.xlsx", [*titles, [], ["村", "姓名", "身份证号"], ["李家湾", "张三", ID]])
    with pytest.raises(CensusFileError, match="前 11 行中没有找到表头"):
        parse(too_deep)


def test_title_and_reporting_unit_rows_above_the_header_are_ignored(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["锦屏镇农村留守老年人基本情况调查表"],
            ["填报单位：李家湾村", None, "填报日期：2025-05-01"],
            ["序号", "村", "姓名", "身份证号码"],
            [1, "李家湾", "张三", ID],
        ],
        merges=["A1:D1"],
    )
    census, rows = parse(path)
    assert census.headers == ["序号", "村", "姓名", "身份证号码"]
    assert rows[0].row_number == 4 and rows[0].values["name"] == "张三"


def test_two_row_header_with_merged_guardian_groups(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            [
                "村",
                "姓名",
                "身份证号码",
                "主要赡养人",
                None,
                None,
                None,
                "第二赡养人",
                None,
                None,
                None,
                "委托照顾",
                None,
                None,
                "备注",
            ],
            [
                None,
                None,
                None,
                "姓名",
                "关系",
                "联系电话",
                "居住地",
                "姓名",
                "关系",
                "联系电话",
                "务工地",
                "是否签订协议",
                "受托人",
                "受托人电话",
                None,
            ],
            [
                "李家湾",
                "张三",
                ID,
                "张大",
                "儿子",
                "13812345678",
                "浙江宁波",
                "张二",
                "女儿",
                "13987654321",
                "本县城区",
                "是",
                "王五",
                "13712345678",
                "无",
            ],
        ],
        merges=["A1:A2", "B1:B2", "C1:C2", "D1:G1", "H1:K1", "L1:N1", "O1:O2"],
    )
    census, rows = parse(path)
    assert census.headers[3:7] == ["主要赡养人/姓名", "主要赡养人/关系", "主要赡养人/联系电话", "主要赡养人/居住地"]
    assert census.headers[11] == "委托照顾/是否签订协议"
    assert census.unknown_columns == []
    values = rows[0].values
    assert values["guardians"] == [
        {"name": "张大", "relation": "son", "phone": "13812345678", "whereabouts": "浙江宁波"},
        {"name": "张二", "relation": "daughter", "phone": "13987654321", "whereabouts": "本县城区"},
    ]
    assert (values["agreement"], values["agreement_caregiver"], values["agreement_phone"]) == (
        True,
        "王五",
        "13712345678",
    )
    assert values["notes"] == "无"
    assert rows[0].row_number == 3


def test_two_row_header_without_merges_fills_the_group_forward(tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["村", "姓名", "身份证号码", "赡养人信息", "", "", "", "", "备注"],
            ["", "", "", "姓名", "关系", "联系电话", "姓名", "关系", ""],
            ["李家湾", "张三", ID, "张大", "子", "13812345678", "张二", "女", "x"],
        ],
    )
    census, rows = parse(path)
    assert census.headers[3:9] == [
        "赡养人信息/姓名",
        "赡养人信息/关系",
        "赡养人信息/联系电话",
        "赡养人信息/姓名",
        "赡养人信息/关系",
        "备注",
    ]
    assert rows[0].values["guardians"] == [
        {"name": "张大", "relation": "son", "phone": "13812345678"},
        {"name": "张二", "relation": "daughter"},
    ]
    assert rows[0].values["notes"] == "x"


def test_group_row_above_a_header_that_has_name_and_id(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["调查表"],
            ["基本情况", None, None, "主要赡养人", None],
            ["村", "姓名", "身份证号", "姓名", "联系电话"],
            ["李家湾", "张三", ID, "张大", "13812345678"],
        ],
        merges=["A2:C2", "D2:E2"],
    )
    census, rows = parse(path)
    # Only known group labels join the header; '基本情况' is a heading for people, not a meaning.
    assert census.headers == ["村", "姓名", "身份证号", "主要赡养人/姓名", "主要赡养人/联系电话"]
    assert rows[0].values["name"] == "张三"
    assert rows[0].values["guardians"] == [{"name": "张大", "phone": "13812345678"}]


@pytest.mark.parametrize(
    "headers",
    [
        ["赡养人姓名", "关系", "赡养人电话", "务工地", "赡养人姓名", "关系", "赡养人电话", "外出地点"],
        [
            "赡养人1姓名",
            "赡养人1关系",
            "赡养人1电话",
            "赡养人1现居地",
            "赡养人2姓名",
            "赡养人2关系",
            "赡养人2电话",
            "赡养人2居住地",
        ],
        [
            "主要赡养人/姓名",
            "主要赡养人/关系",
            "主要赡养人/联系电话",
            "主要赡养人/居住地",
            "第二赡养人/姓名",
            "第二赡养人/关系",
            "第二赡养人/联系电话",
            "第二赡养人/居住地",
        ],
        [
            "子女姓名",
            "与老人关系",
            "赡养人电话",
            "务工地",
            "第二赡养人姓名",
            "第二赡养人关系",
            "第二赡养人电话",
            "第二赡养人务工地",
        ],
    ],
)
def test_single_row_guardian_headers_in_every_style(tmp_path, headers):
    rows = parse_rows(
        tmp_path,
        ["村", "姓名", "身份证号码", *headers],
        ["李家湾", "张三", ID, "张大", "儿子", "13812345678", "宁波", "张二", "女儿", "13987654321", "本村"],
    )
    assert rows[0].values["guardians"] == [
        {"name": "张大", "relation": "son", "phone": "13812345678", "whereabouts": "宁波"},
        {"name": "张二", "relation": "daughter", "phone": "13987654321", "whereabouts": "本村"},
    ]


def test_second_contact_phone_right_after_a_guardian_is_the_guardians(tmp_path):
    rows = parse_rows(
        tmp_path,
        ["村", "姓名", "身份证号码", "联系电话", "赡养人姓名", "联系电话"],
        ["李家湾", "张三", ID, "13812345678", "张大", "13987654321"],
    )
    assert rows[0].values["phones"] == ["13812345678"]
    assert rows[0].values["guardians"] == [{"name": "张大", "phone": "13987654321"}]


def test_unknown_column_is_one_warning_for_the_file_never_an_error(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["村", "姓名", "身份证号码", "宠物", "身高（cm）"],
            ["李家湾", "张三", ID, "猫", 170],
            ["李家湾", "李四", id_number(sequence=3), "狗", 160],
        ],
    )
    census, rows = parse(path)
    assert census.unknown_columns == ["宠物", "身高（cm）"]
    assert census.file_warnings == [
        "不认识的列“宠物”，这一列的内容不会导入",
        "不认识的列“身高（cm）”，这一列的内容不会导入",
    ]
    assert all(row.ok and not row.warnings for row in rows)


def test_duplicate_column_reads_the_first_and_warns(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx", [["村", "姓名", "身份证号码", "民族", "民族"], ["李家湾", "张三", ID, "汉", "彝"]]
    )
    census, rows = parse(path)
    assert rows[0].values["ethnicity"] == "汉族"
    assert census.file_warnings == ["“民族”列与前面的列重复，只读取第一列"]


def test_third_guardian_is_not_imported_and_says_so(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["村", "姓名", "身份证号码", "赡养人姓名", "赡养人姓名", "赡养人姓名"],
            ["李家湾", "张三", ID, "甲", "乙", "丙"],
        ],
    )
    census, rows = parse(path)
    assert [g["name"] for g in rows[0].values["guardians"]] == ["甲", "乙"]
    assert census.file_warnings == ["最多导入两名赡养人，“赡养人姓名”列不会导入"]
    assert census.unknown_columns == []


def test_missing_village_column_is_a_file_error(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["姓名", "身份证号码"], ["张三", ID]])
    with pytest.raises(CensusFileError, match="缺少必填列：村"):
        parse(path)


def test_sheet_without_name_and_id_header_is_a_file_error(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["名单"], ["张三", ID]])
    with pytest.raises(CensusFileError, match="没有找到表头"):
        parse(path)


def test_empty_sheet_is_a_file_error(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [])
    with pytest.raises(CensusFileError, match="工作表是空的"):
        parse(path)
