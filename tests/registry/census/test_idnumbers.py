"""eldercare.idnumbers: GB 11643-1999 ID numbers, and masking of IDs and phones."""

import datetime as dt

import pytest

from eldercare.idnumbers import IDNumberError, ParsedID, mask_id_number, mask_phone, parse_id_number

from .builders import id_number

TODAY = dt.date(2025, 6, 1)
MALE_ID = id_number(dt.date(1946, 3, 12), 1)  # 51152919460312001X
FEMALE_ID = id_number(dt.date(1950, 1, 2), 2)


def test_valid_id_gives_number_birth_date_and_sex():
    assert parse_id_number(MALE_ID, today=TODAY) == ParsedID(MALE_ID, dt.date(1946, 3, 12), "male", False)
    assert parse_id_number(FEMALE_ID, today=TODAY).sex == "female"


def test_lower_case_x_full_width_digits_and_spaces_are_folded():
    assert MALE_ID.endswith("X")
    full_width = MALE_ID[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "ｘ"
    assert parse_id_number(full_width, today=TODAY).number == MALE_ID
    assert parse_id_number(MALE_ID[:-1] + "x", today=TODAY).number == MALE_ID
    assert parse_id_number(f" {MALE_ID[:6]} {MALE_ID[6:14]}\u3000{MALE_ID[14:]} ", today=TODAY).number == MALE_ID
    assert parse_id_number("'" + MALE_ID, today=TODAY).number == MALE_ID
    assert parse_id_number(f'="{MALE_ID}"', today=TODAY).number == MALE_ID  # the CSV text trick


def test_bad_check_character_is_rejected_without_revealing_the_expected_one():
    wrong = MALE_ID[:-1] + "3"
    with pytest.raises(IDNumberError) as error:
        parse_id_number(wrong, today=TODAY)
    assert "校验位不符" in str(error.value) and "核对" in str(error.value)


def test_fifteen_digit_number_is_converted_to_eighteen():
    old = MALE_ID[:6] + MALE_ID[8:17]
    parsed = parse_id_number(old, today=TODAY)
    assert parsed == ParsedID(MALE_ID, dt.date(1946, 3, 12), "male", True)
    assert parse_id_number(int(old), today=TODAY).number == MALE_ID  # a 15-digit number cell is intact
    assert parse_id_number(float(old), today=TODAY).number == MALE_ID


@pytest.mark.parametrize("birth", ["19460230", "19461301", "19460000"])
def test_impossible_birth_date_is_rejected(birth):
    body = f"511529{birth}001"
    from stdnum.cn import ric

    with pytest.raises(IDNumberError, match="不是真实的日期"):
        parse_id_number(body + ric.calc_check_digit(body + "0"), today=TODAY)


def test_birth_date_in_the_future_is_rejected():
    with pytest.raises(IDNumberError, match="晚于今天"):
        parse_id_number(id_number(dt.date(2025, 6, 2)), today=TODAY)


def test_birth_date_before_1880_is_rejected():
    with pytest.raises(IDNumberError, match="1880"):
        parse_id_number(id_number(dt.date(1879, 12, 31)), today=TODAY)


@pytest.mark.parametrize(
    "numeric",
    [
        float(MALE_ID[:-1] + "1"),  # an 18-digit number in a float cell
        5.1152919460312e17,
        511529194603120000,  # int with Excel's padding zeros
        int(float(MALE_ID[:-1] + "7")),  # an int that went through a double
        "5.11529E+17",  # what the cell shows, exported to CSV
        "5.1152919460312e+17",
    ],
)
def test_numeric_id_cell_is_rejected_with_fix_instructions(numeric):
    with pytest.raises(IDNumberError) as error:
        parse_id_number(numeric, today=TODAY)
    message = str(error.value)
    assert "身份证号被 Excel 存成了数字，后几位已丢失" in message
    assert "设置为文本格式后重新录入" in message


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "为空"),
        (None, "为空"),
        ("5115291946031200", "16 位"),
        ("51152919460312001XX", "19 位"),
        ("51152919460312A01X", "只能由数字组成"),
        (True, "为空"),
        (1946.5, "18 位数字"),
    ],
)
def test_malformed_ids_say_what_is_wrong(raw, fragment):
    with pytest.raises(IDNumberError, match=fragment):
        parse_id_number(raw, today=TODAY)


def test_mask_id_number_keeps_first_six_and_last_four():
    assert mask_id_number("511529194603120012") == "511529********0012"
    assert mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "138****1234"),
        ("0831-7654321", "0831-***4321"),
        ("010-12345678", "010-****5678"),
        ("(0831)7654321", "(0831)***4321"),
        ("08317654321", "0831***4321"),
        ("0831-12345", "0831-***45"),
        ("12", "**"),
        ("abcdef", "****ef"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked
