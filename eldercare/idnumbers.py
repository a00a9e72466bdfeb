"""Resident ID numbers (公民身份号码, GB 11643-1999) and masking of personal identifiers.

Everything that reads an ID number — the census import, the elder form, search — goes through
`parse_id_number`, so one set of rules (and one set of plain-Chinese messages) applies
everywhere. The check character comes from python-stdnum's `stdnum.cn.ric`; we do not use its
`validate()` because that also insists on the birth place being in its (dated) area-code table,
and counties are merged and renamed often enough that a real number can fail it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from stdnum.cn import ric

__all__ = ["IDNumberError", "ParsedID", "parse_id_number", "mask_id_number", "mask_phone"]

# Nobody alive was born before this; an earlier date is a typing error.
EARLIEST_BIRTH_DATE = date(1880, 1, 1)

LOST_DIGITS_MESSAGE = (
    "身份证号被 Excel 存成了数字，后几位已丢失；请把该列设置为文本格式后重新录入（或在号码前加英文单引号 '）"
)

_WHITESPACE_RE = re.compile(r"\s+")
# '5.11529E+17' — what Excel shows (and what a CSV export writes) for an ID stored as a number.
_SCIENTIFIC_RE = re.compile(r"^\d+(?:\.\d+)?E\+?\d+$")
_ID18_RE = re.compile(r"^\d{17}[\dX]$")
_ID15_RE = re.compile(r"^\d{15}$")
_NUMBER_TYPES = (int, float)  # not `int | float`, which builds a union at every call


class IDNumberError(ValueError):
    """An unusable ID number; str(error) says in plain Chinese what is wrong and how to fix it."""


@dataclass(frozen=True, slots=True)
class ParsedID:
    """A valid 18-character ID number and what it tells about its holder."""

    number: str  # 18 characters, check character 'X' upper-case
    birth_date: date
    sex: str  # registry.choices.ElderSex value: 'male' / 'female'
    converted_from_15: bool  # True when a first-generation 15-digit number was upgraded


def _text_from_number(raw: int | float) -> str:
    """The digits of a numeric spreadsheet cell, refusing 18-digit numbers that lost precision."""
    # A spreadsheet number keeps 15 significant digits; anything longer was rounded on entry,
    # so the last digits are gone and must not be "repaired" by guessing.
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise IDNumberError("身份证号不是有效的号码，请按身份证原件重新录入")
        if raw >= 1e15:
            raise IDNumberError(LOST_DIGITS_MESSAGE)
        if not raw.is_integer():
            raise IDNumberError("身份证号应为 18 位数字（最后一位可以是 X），请按身份证原件重新录入")
        return str(int(raw))
    text = str(raw)
    if len(text) >= 16:
        trailing_zeros = len(text) - len(text.rstrip("0"))
        # An int that survived a trip through a double either ends in the zeros Excel padded it
        # with, or is exactly representable as a double (spacing 64 at this magnitude).
        if trailing_zeros >= len(text) - 15 or int(float(raw)) == raw:
            raise IDNumberError(LOST_DIGITS_MESSAGE)
    return text


def _birth_date(digits: str, today: date) -> date:
    """The birth date embedded in an 18-digit number (positions 7–14)."""
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        raise IDNumberError(
            f"身份证号中的出生日期 {digits[6:10]}-{digits[10:12]}-{digits[12:14]} 不是真实的日期，请对照身份证原件核对"
        ) from None
    if born > today:
        raise IDNumberError(f"身份证号中的出生日期 {born.isoformat()} 晚于今天，请对照身份证原件核对")
    if born < EARLIEST_BIRTH_DATE:
        raise IDNumberError(f"身份证号中的出生日期 {born.isoformat()} 早于 1880 年，请对照身份证原件核对")
    return born


def parse_id_number(raw: object, *, today: date | None = None) -> ParsedID:
    """Validate an ID number as typed in a form or spreadsheet cell and return its parts.

    Accepts full-width digits, spaces, a lower-case 'x', a numeric cell holding a 15-digit
    number, and a first-generation 15-digit number (converted, `converted_from_15=True`).
    Raises `IDNumberError` with a plain-Chinese message for anything else.
    """
    today = today or timezone.localdate()
    if raw is None or isinstance(raw, bool):
        raise IDNumberError("身份证号为空，请填写 18 位身份证号")
    if isinstance(raw, _NUMBER_TYPES):
        text = _text_from_number(raw)
    elif isinstance(raw, str):
        text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
        if not (len(text) == 18 and text.isalnum()):
            # A leading apostrophe is how people force text in Excel (in a CSV it stays literal);
            # ="…" is the other CSV trick to keep Excel from turning the number into 5.1E+17.
            text = _WHITESPACE_RE.sub("", text).lstrip("'`")
            if text.startswith('="') and text.endswith('"'):
                text = text[2:-1]
        text = text.upper()
    else:
        raise IDNumberError("身份证号应为 18 位数字（最后一位可以是 X），请按身份证原件重新录入")
    if not text:
        raise IDNumberError("身份证号为空，请填写 18 位身份证号")

    # The usual case first: the four patterns exclude one another, so the order decides nothing.
    converted = False
    if _ID18_RE.match(text):
        if ric.calc_check_digit(text) != text[17]:
            # Do not reveal the expected check character: the wrong digit may be any of the 18,
            # and "fixing" the last one would turn a typo into someone else's valid number.
            raise IDNumberError("身份证号校验位不符，号码中有数字录错，请对照身份证原件逐位核对")
    elif _SCIENTIFIC_RE.match(text):
        raise IDNumberError(LOST_DIGITS_MESSAGE)
    elif _ID15_RE.match(text):
        # First-generation numbers omit the century (always 19xx) and the check character.
        body = text[:6] + "19" + text[6:]
        text = body + ric.calc_check_digit(body + "0")
        converted = True
    elif len(text) != 18:
        raise IDNumberError(f"身份证号应为 18 位，这里是 {len(text)} 位，请对照身份证原件核对是否多录或漏录")
    else:
        raise IDNumberError("身份证号只能由数字组成，最后一位可以是 X，请对照身份证原件核对")

    born = _birth_date(text, today)
    sex = "male" if int(text[16]) % 2 else "female"
    return ParsedID(number=text, birth_date=born, sex=sex, converted_from_15=converted)


def mask_id_number(number: str) -> str:
    """Hide the birth date and sequence: '511529********0012' (first 6, last 4 kept)."""
    number = number or ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d)(\d{4})(\d{4})$")
_LANDLINE_RE = re.compile(r"^(\(?0(?:[12]\d|[3-9]\d{2})\)?)([-\s]?)(\d{5,8})((?:[-转#]\d{1,6})?)$")


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number: '138****1234'; landlines keep the area code and tail.

    '0831-7654321' → '0831-***4321'. Anything unrecognised keeps only its last 2 characters.
    """
    phone = (phone or "").strip()
    compact = phone.replace(" ", "").replace("-", "")
    mobile = _MOBILE_RE.match(compact)
    if mobile:
        return f"{mobile.group(1)}****{mobile.group(3)}"
    landline = _LANDLINE_RE.match(phone)
    if landline:
        area, sep, local, extension = landline.groups()
        keep = 4 if len(local) >= 7 else 2
        return f"{area}{sep}{'*' * (len(local) - keep)}{local[-keep:]}{'*' * len(extension)}"
    if len(phone) <= 2:
        return "*" * len(phone)
    return "*" * (len(phone) - 2) + phone[-2:]
