"""Row rules of the census engine: skipping, required cells, ID checks, cross-field checks."""

import datetime as dt
from decimal import Decimal

from .builders import TODAY, id_number, messages, one_row, parse, parse_rows, write_xlsx

ID = id_number(dt.date(1946, 3, 12), 1)  # male
HEADER = ["序号", "村", "姓名", "身份证号码"]


def test_full_row_is_normalised_to_model_values(tmp_path):
    header = [
        "乡镇",
        "村",
        "组",
        "姓名",
        "性别",
        "身份证号码",
        "出生日期",
        "民族",
        "联系电话",
        "家庭住址",
        "居住情况",
        "健康状况",
        "自理能力",
        "慢性病",
        "经济来源",
        "月收入（元）",
        "是否低保",
        "是否特困",
        "建档立卡",
        "主要困难",
        "服务需求",
        "家庭医生签约",
        "赡养人姓名",
        "关系",
        "赡养人电话",
        "务工地",
        "是否签订委托照顾协议",
        "受托人",
        "受托人电话",
        "帮扶责任人",
        "调查人",
        "调查日期",
        "备注",
    ]
    data = [
        "锦屏镇",
        "李家湾村委会",
        "三组",
        "张  三",
        "男",
        ID,
        "1946年3月12日",
        "汉",
        "13812345678、0831-7654321",
        "李家湾村3组12号",
        "独居老人",
        "一般",
        "半自理",
        "高血压、糖尿病",
        "退休金、子女供养",
        "1,200元",
        "是",
        "否",
        "√",
        "生活照料、看病就医",
        "助餐",
        "已签",
        "张大",
        "儿子",
        "13987654321",
        "浙江宁波",
        "是",
        "王五",
        "13712345678",
        "赵书记",
        "钱调查",
        dt.date(2025, 5, 20),
        "行动不便",
    ]
    [row] = parse_rows(tmp_path, header, data)
    assert row.ok and not row.warnings
    assert row.values == {
        "town": "锦屏镇",
        "village": "李家湾村",
        "village_group": "第3组",
        "name": "张三",
        "sex": "male",
        "id_number": ID,
        "birth_date": dt.date(1946, 3, 12),
        "ethnicity": "汉族",
        "phones": ["13812345678", "0831-7654321"],
        "address": "李家湾村3组12号",
        "living": "alone",
        "health": "fair",
        "self_care": "partial",
        "diseases": "高血压、糖尿病",
        "income_sources": ["pension", "children"],
        "monthly_income": Decimal("1200"),
        "dibao": True,
        "tekun": False,
        "poverty_monitored": True,
        "difficulties": ["care", "medical"],
        "needs": "助餐",
        "family_doctor": True,
        "guardians": [{"name": "张大", "relation": "son", "phone": "13987654321", "whereabouts": "浙江宁波"}],
        "agreement": True,
        "agreement_caregiver": "王五",
        "agreement_phone": "13712345678",
        "cadre": "赵书记",
        "surveyed_by": "钱调查",
        "surveyed_on": dt.date(2025, 5, 20),
        "notes": "行动不便",
    }
    assert row.raw[3] == "张  三"  # the original cells stay as written


def test_empty_cells_are_absent_from_values_so_updates_change_only_filled_cells(tmp_path):
    row = one_row(tmp_path, {"民族": None, "联系电话": "", "备注": "   ", "居住情况": "\u3000"})
    assert set(row.values) == {"village", "name", "id_number", "sex", "birth_date"}


def test_full_width_text_is_folded(tmp_path):
    full_id = ID[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "Ｘ"
    [row] = parse_rows(
        tmp_path,
        ["村", "姓名", "身份证号码", "联系电话", "月收入"],
        ["李家湾", "张三", full_id, "１３８１２３４５６７８", "１２００"],
    )
    assert (row.values["id_number"], row.values["phones"], row.values["monthly_income"]) == (
        ID,
        ["13812345678"],
        Decimal(1200),
    )


def test_row_numbers_are_excel_row_numbers_and_skippable_rows_are_skipped_silently(tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["调查表"],
            HEADER,
            [1, "李家湾", "张三", ID],
            [],
            [2],  # only 序号
            [None, "  ", None, "\u3000"],  # only spaces
            [3, "李家湾", "李四", id_number(sequence=3)],
        ],
    )
    census, rows = parse(path)
    assert [row.row_number for row in rows] == [3, 7]


def test_everything_below_totals_and_notes_rows_is_ignored(tmp_path):
    for marker in ("合计", "合计：2人", "填表说明：身份证号请用文本格式", "说明", "备注：本表由村委会填报", "备注:x"):
        path = write_xlsx(
            tmp_path / "t.xlsx",
            [HEADER, [1, "李家湾", "张三", ID], [marker, None, 2], [2, "李家湾", "李四", id_number(sequence=3)]],
        )
        census, rows = parse(path)
        assert [row.values["name"] for row in rows] == ["张三"], marker


def test_a_remark_without_colon_in_the_first_cell_is_not_a_notes_marker(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["备注", "村", "姓名", "身份证号码"], ["备注说", "李家湾", "张三", ID]])
    census, rows = parse(path)
    assert len(rows) == 1 and rows[0].values["notes"] == "备注说"


def test_repeated_id_in_the_file_rejects_the_later_rows_naming_the_first(tmp_path):
    rows = parse_rows(
        tmp_path,
        HEADER,
        [1, "李家湾", "张三", ID],
        [2, "李家湾", "张三", ID.lower()],
        [3, "李家湾", "张三", ID[:6] + ID[8:17]],  # the same person's 15-digit number
    )
    assert rows[0].ok
    assert messages(rows[1]) == ["与第 2 行身份证号重复，同一人只能填写一行；请删除重复的行或核对身份证号"]
    assert "与第 2 行身份证号重复" in messages(rows[2])[0]


def test_fifteen_digit_id_is_accepted_with_a_warning(tmp_path):
    [row] = parse_rows(tmp_path, HEADER, [1, "李家湾", "张三", ID[:6] + ID[8:17]])
    assert row.ok and row.values["id_number"] == ID
    assert messages(row, "warnings") == [f"15 位老身份证号已自动升级为 18 位：{ID}，请核对"]
    assert row.warnings[0].header == "身份证号码"


def test_numeric_id_cell_is_rejected_with_fix_instructions(tmp_path):
    [row] = parse_rows(tmp_path, HEADER, [1, "李家湾", "张三", float(ID[:-1] + "1")])
    assert not row.ok
    [issue] = row.errors
    assert issue.header == "身份证号码"
    assert issue.message.startswith("身份证号被 Excel 存成了数字，后几位已丢失；请把该列设置为文本格式后重新录入")
    assert "id_number" not in row.values


def test_bad_check_character_rejects_the_row(tmp_path):
    [row] = parse_rows(tmp_path, HEADER, [1, "李家湾", "张三", ID[:-1] + "0"])
    assert messages(row) == ["身份证号校验位不符，号码中有数字录错，请对照身份证原件逐位核对"]
    assert row.errors[0].value == ID[:-1] + "0"


def test_impossible_and_future_birth_dates_in_the_id_reject_the_row(tmp_path):
    from stdnum.cn import ric

    body = "51152919460231001"
    impossible = body + ric.calc_check_digit(body + "0")
    future = id_number(TODAY + dt.timedelta(days=1))
    rows = parse_rows(tmp_path, HEADER, [1, "李家湾", "张三", impossible], [2, "李家湾", "李四", future])
    assert "不是真实的日期" in messages(rows[0])[0]
    assert "晚于今天" in messages(rows[1])[0]


def test_sex_different_from_the_id_is_an_error(tmp_path):
    row = one_row(tmp_path, {"性别": "女"})
    assert messages(row) == ["性别与身份证号不符：按身份证号应为“男”。请核对身份证号是否录错，或改正性别"]
    assert row.errors[0].header == "性别" and row.errors[0].value == "女"


def test_sex_is_derived_from_the_id_when_not_given(tmp_path):
    row = one_row(tmp_path, {}, sequence=2)
    assert row.values["sex"] == "female"


def test_birth_date_different_from_the_id_is_a_warning_and_the_id_wins(tmp_path):
    row = one_row(tmp_path, {"出生日期": "1947-03-12"})
    assert row.ok and row.values["birth_date"] == dt.date(1946, 3, 12)
    assert messages(row, "warnings") == ["出生日期与身份证号不一致，已按身份证号记录为 1946-03-12，请核对"]


def test_year_month_birth_date_matching_the_id_is_accepted_silently(tmp_path):
    row = one_row(tmp_path, {"出生年月": "1946.03"})
    assert row.ok and not row.warnings


def test_unreadable_birth_date_is_only_a_warning_because_the_id_decides(tmp_path):
    row = one_row(tmp_path, {"出生日期": "不详"})
    assert row.ok and row.values["birth_date"] == dt.date(1946, 3, 12)
    assert messages(row, "warnings")[0].endswith("出生日期已按身份证号记录")


def test_under_60_on_the_survey_date_is_rejected(tmp_path):
    birth = dt.date(1965, 6, 1)
    row = one_row(tmp_path, {"调查日期": "2025-05-31"}, birth=birth)
    assert messages(row) == [
        "按身份证号，调查时年龄为 59 岁，未满 60 周岁，不属于留守老年人关爱对象；如身份证号录错请改正"
    ]
    assert one_row(tmp_path, {"调查日期": "2025-06-01"}, birth=birth).ok


def test_without_a_survey_date_age_counts_on_today(tmp_path):
    assert one_row(tmp_path, {}, birth=dt.date(1965, 6, 1)).ok  # TODAY is 2025-06-01
    row = one_row(tmp_path, {}, birth=dt.date(1965, 6, 2))
    assert "目前年龄为 59 岁" in messages(row)[0]


def test_survey_date_in_the_future_or_approximate(tmp_path):
    assert messages(one_row(tmp_path, {"调查日期": "2025-06-02"})) == ["调查日期晚于今天，请核对年份和月份"]
    row = one_row(tmp_path, {"填报日期": "2025年5月"})
    assert row.values["surveyed_on"] == dt.date(2025, 5, 1)
    assert messages(row, "warnings") == ["调查日期只有年月，按当月 1 日记录（近似值）"]


def test_agreement_yes_without_caregiver_is_an_error(tmp_path):
    row = one_row(tmp_path, {"是否签订委托照顾协议": "是"})
    assert messages(row) == ["已签订委托照顾协议，但没有填写受托人姓名；请补填受托人，或把协议一栏改为“否”"]
    assert row.errors[0].header == "是否签订委托照顾协议"
    assert one_row(tmp_path, {"是否签订委托照顾协议": "是", "受托人": "王五"}).ok
    assert one_row(tmp_path, {"是否签订委托照顾协议": "否"}).ok


def test_guardian_details_without_a_name_are_an_error(tmp_path):
    row = one_row(tmp_path, {"关系": "儿子", "赡养人电话": "13812345678"})
    assert messages(row) == ["填写了赡养人的关系、电话或居住地，但没有填写赡养人姓名；请补填姓名"]


def test_missing_required_cells_are_errors_naming_the_column(tmp_path):
    rows = parse_rows(tmp_path, ["村", "姓名", "身份证号码", "备注"], [None, None, None, "只有备注"])
    assert [(issue.header, issue.message) for issue in rows[0].errors] == [
        ("村", "村没有填写，这是必填项"),
        ("姓名", "姓名没有填写，这是必填项"),
        ("身份证号码", "身份证号没有填写，这是必填项"),
    ]


def test_unknown_ethnicity_is_a_warning_and_kept(tmp_path):
    row = one_row(tmp_path, {"民族": "穿青人"})
    assert row.ok and row.values["ethnicity"] == "穿青人"
    assert row.warnings[0].header == "民族"


def test_every_bad_cell_of_a_row_is_reported(tmp_path):
    row = one_row(tmp_path, {"居住情况": "住校", "月收入": "-5", "联系电话": "123", "是否低保": "不知道"})
    assert [issue.header for issue in row.errors] == ["居住情况", "月收入", "联系电话", "是否低保"]


def test_memoised_columns_give_the_same_outcome_every_time(tmp_path):
    rows = parse_rows(
        tmp_path,
        ["村", "姓名", "身份证号码", "居住情况"],
        *[["李家湾", "张三", id_number(sequence=2 * n + 1), "住校" if n % 2 else "空巢"] for n in range(6)],
    )
    assert [row.ok for row in rows] == [True, False] * 3
    assert all(row.values["living"] == "spouse" for row in rows[::2])
