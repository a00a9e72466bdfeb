"""Field normalisation for census cells: what village staff type → the Elder model's values.

Each `normalize_*` function takes one raw cell value (str, int, float, bool, date, datetime —
never an empty one) and returns `(value, warning)` or raises `FieldError` with a message in
plain Chinese that says what is wrong and how to write it instead. Choice fields return the
`registry.choices` value ('alone'), never the label.

The vocabulary tables below hold, for each choice value, its canonical Chinese text (the first
entry, equal to the TextChoices label — a test pins that) followed by the aliases seen on real
forms. They are plain strings because the labels in `registry.choices` are lazy translations,
which cannot be turned into text before Django's settings are loaded.

Everything here is hot: a 200,000-row census runs these functions millions of times. Regexes
are compiled once, and the engine memoises the low-cardinality columns per distinct value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from eldercare.spreadsheets import plain_text
from registry.choices import (
    ETHNICITIES,
    ElderDifficulty,
    ElderHealth,
    ElderIncomeSource,
    ElderLiving,
    ElderSelfCare,
    ElderSex,
    GuardianRelation,
)

__all__ = [
    "FieldError",
    "to_text",
    "parse_date",
    "normalize_text",
    "normalize_name",
    "normalize_village",
    "normalize_town",
    "normalize_group",
    "normalize_sex",
    "normalize_ethnicity",
    "normalize_phones",
    "normalize_phone",
    "normalize_bool",
    "normalize_income",
    "normalize_date",
    "normalize_birth_date",
    "LIVING",
    "HEALTH",
    "SELF_CARE",
    "INCOME_SOURCES",
    "DIFFICULTIES",
    "RELATIONS",
    "SEXES",
    "Vocabulary",
    "PLAIN_CELLS",
]


class FieldError(ValueError):
    """A cell value that cannot be used; str(error) tells staff how to fix it."""


# --- text -----------------------------------------------------------------------------------

# Characters that survive NFKC but are invisible noise from copy-paste (zero-width, BOM).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_FORMULA_TRIGGERS = frozenset("=+-@")
_WHITESPACE_RE = re.compile(r"\s+")


def to_text(value: object) -> str:
    """A cell value as trimmed, NFKC-folded text ('' for nothing).

    Also undoes `eldercare.spreadsheets.safe_cell_text`: an exported "'=…" comes back as "=…",
    so a rejected-rows workbook imports back unchanged.
    """
    if value.__class__ is str:
        if value.isascii():
            text = value.strip()
        else:
            text = unicodedata.normalize("NFKC", value)
            if _INVISIBLE_RE.search(text):
                text = text.translate(_INVISIBLE)
            text = text.strip()
        if text[:1] == "'" and text[1:].lstrip()[:1] in _FORMULA_TRIGGERS and len(text) > 1:
            text = text[1:]
        return text
    return plain_text(value)  # what the readers give besides text: numbers, 是/否 cells, dates, None


def normalize_text(value: object) -> tuple[str | None, None]:
    """Free text (address, notes, needs …): folded and trimmed; None when only spaces."""
    return to_text(value) or None, None


# --- names and places ------------------------------------------------------------------------

# Minority names use an interpunct; forms carry every look-alike (NFKC turns '．' into '.').
_NAME_DOTS_RE = re.compile(r"[.•・‧∙⋅･·]")


_NAME_NOISE_RE = re.compile(r"[\s.•・‧∙⋅･·]")


def normalize_name(value: object) -> tuple[str | None, None]:
    """A person's name: spaces removed ('张  三' pads two-character names), dots unified to '·'."""
    text = to_text(value)
    if not text:
        return None, None
    if _NAME_NOISE_RE.search(text):
        text = _NAME_DOTS_RE.sub("·", _WHITESPACE_RE.sub("", text)).strip("·")
    if not text:
        raise FieldError("姓名不能只有间隔点，请填写完整姓名")
    if len(text) > 30:
        raise FieldError(f"姓名太长（{len(text)} 个字），最多 30 个字，请只填写老人本人的姓名")
    return text, None


_VILLAGE_CODE_RE = re.compile(r"^\d{12}$")
_DIGITS_RE = re.compile(r"^\d+$")
# Longest suffix first: '李家湾村民委员会' must not be read as '李家湾村民委员' + '会'.
_VILLAGE_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("居民委员会", "居委会"),
    ("村委会", "村"),
    ("村委", "村"),
)
_VILLAGE_ENDINGS = ("村", "社区", "居委会")


def normalize_village(value: object) -> tuple[str | None, None]:
    """'李家湾村委会' / '李家湾村民委员会' / '李家湾' → '李家湾村'; a 12-digit code is kept as is."""
    text = _WHITESPACE_RE.sub("", to_text(value))
    if not text:
        return None, None
    if _VILLAGE_CODE_RE.match(text):
        return text, None
    if _DIGITS_RE.match(text):
        raise FieldError("村的区划代码应为 12 位数字（或直接填写村名，如“李家湾村”）")
    for suffix, replacement in _VILLAGE_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)] + replacement
            break
    if text in _VILLAGE_ENDINGS:
        raise FieldError("村名不完整，请填写村（社区）的名称，如“李家湾村”")
    if not text.endswith(_VILLAGE_ENDINGS):
        text += "村"
    return text, None


def normalize_town(value: object) -> tuple[str | None, None]:
    """Town name (or its 9-digit code): folded, spaces removed; checked against the village later."""
    text = _WHITESPACE_RE.sub("", to_text(value))
    return text or None, None


_CHINESE_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_GROUP_RE = re.compile(r"^第?([0-9]{1,3}|[〇零一二两三四五六七八九十]{1,3})(?:组|小组|村民小组)?$")


def _chinese_number(text: str) -> int | None:
    """'三' → 3, '十二' → 12, '二十' → 20, '二十三' → 23 (what group numbers need)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _CHINESE_DIGITS.get(text) if len(text) == 1 else None
    tens, _, units = text.partition("十")
    tens_value = _CHINESE_DIGITS.get(tens, None) if tens else 1
    units_value = _CHINESE_DIGITS.get(units, None) if units else 0
    if tens_value is None or units_value is None:
        return None
    return tens_value * 10 + units_value


def normalize_group(value: object) -> tuple[str | None, None]:
    """Village group: '3', '3组', '三组', '第三组' → '第3组'; a named group ('上坝组') is kept."""
    text = _WHITESPACE_RE.sub("", to_text(value))
    if not text:
        return None, None
    match = _GROUP_RE.match(text)
    if match:
        number = _chinese_number(match.group(1))
        if number:
            return f"第{number}组", None
    return text, None


# --- closed vocabularies ---------------------------------------------------------------------


class Vocabulary:
    """A closed vocabulary: canonical text and aliases → choice value, and back."""

    def __init__(self, title: str, entries: dict[str, tuple[str, ...]]):
        self.title = title
        self.labels: dict[str, str] = {}  # value → canonical Chinese text
        self.lookup: dict[str, str] = {}  # any accepted text → value
        for choice, texts in entries.items():
            value = str(getattr(choice, "value", choice))  # plain str, not the enum member
            self.labels[value] = texts[0]
            for text in texts:
                self.lookup[text] = value
                self.lookup[text.upper()] = value

    @property
    def options(self) -> str:
        return "、".join(self.labels.values())

    def value_of(self, text: str) -> str | None:
        return self.lookup.get(text) or self.lookup.get(text.upper())

    def normalize(self, value: object) -> tuple[str | None, None]:
        """One value of this vocabulary; unknown text is an error listing the options."""
        text = _WHITESPACE_RE.sub("", to_text(value))
        if not text:
            return None, None
        found = self.value_of(text)
        if found is None:
            raise FieldError(f"{self.title}“{text}”无法识别，请填写以下之一：{self.options}")
        return found, None

    def normalize_many(self, value: object) -> tuple[list[str] | None, None]:
        """Several values separated by 、，,;／/ or spaces; order kept, duplicates dropped."""
        text = to_text(value)
        chosen: list[str] = []
        for part in _LIST_SPLIT_RE.split(text):
            if not part:
                continue
            found = self.value_of(part)
            if found is None:
                raise FieldError(
                    f"{self.title}中的“{part}”无法识别，请从以下各项中选填（多项用顿号“、”分隔）：{self.options}"
                )
            if found not in chosen:
                chosen.append(found)
        return chosen or None, None


_LIST_SPLIT_RE = re.compile(r"[、,;/\s]+")

SEXES = Vocabulary("性别", {ElderSex.MALE: ("男", "男性", "M"), ElderSex.FEMALE: ("女", "女性", "F")})
LIVING = Vocabulary(
    "居住情况",
    {
        ElderLiving.ALONE: ("独居", "独居老人"),
        ElderLiving.WITH_SPOUSE: ("与配偶同住", "空巢", "夫妻同住", "与老伴同住"),
        ElderLiving.WITH_GRANDCHILDREN: ("与未成年孙辈同住", "隔代", "与孙子女同住"),
        ElderLiving.WITH_RELATIVES: ("与其他亲属同住",),
        ElderLiving.OTHER: ("其他",),
    },
)
HEALTH = Vocabulary(
    "健康状况",
    {
        ElderHealth.HEALTHY: ("健康", "良好"),
        ElderHealth.FAIR: ("基本健康", "一般"),
        ElderHealth.ILL_SELF_CARING: ("患病能自理", "较差"),
        ElderHealth.ILL_DEPENDENT: ("患病不能自理",),
    },
)
SELF_CARE = Vocabulary(
    "自理能力",
    {
        ElderSelfCare.INDEPENDENT: ("自理", "完全自理", "能自理", "能力完好"),
        ElderSelfCare.PARTIAL: ("半失能", "部分自理", "半自理", "轻度失能", "中度失能"),
        ElderSelfCare.DISABLED: ("失能", "不能自理", "完全不能自理", "重度失能", "完全失能"),
    },
)
INCOME_SOURCES = Vocabulary(
    "经济来源",
    {
        ElderIncomeSource.PENSION: ("养老金", "退休金", "养老保险"),
        ElderIncomeSource.CHILDREN: ("子女供养",),
        ElderIncomeSource.LABOUR: ("劳动收入",),
        ElderIncomeSource.DIBAO: ("低保金",),
        ElderIncomeSource.TEKUN: ("特困供养金",),
        ElderIncomeSource.OTHER: ("其他",),
    },
)
DIFFICULTIES = Vocabulary(
    "主要困难",
    {
        ElderDifficulty.CARE: ("生活照料",),
        ElderDifficulty.ECONOMIC: ("经济困难",),
        ElderDifficulty.MEDICAL: ("看病就医",),
        ElderDifficulty.LONELINESS: ("精神孤独",),
        ElderDifficulty.SAFETY: ("安全隐患",),
        ElderDifficulty.OTHER: ("其他",),
    },
)
RELATIONS = Vocabulary(
    "与老人关系",
    {
        GuardianRelation.SON: ("子", "儿子", "长子", "次子", "三子", "四子", "五子"),
        GuardianRelation.DAUGHTER: ("女", "女儿", "长女", "次女", "三女", "四女", "五女"),
        GuardianRelation.SPOUSE: ("配偶", "老伴", "妻", "夫", "妻子", "丈夫"),
        GuardianRelation.DAUGHTER_IN_LAW: ("儿媳", "儿媳妇"),
        GuardianRelation.SON_IN_LAW: ("女婿",),
        GuardianRelation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙子", "外孙女"),
        GuardianRelation.OTHER_KIN: ("其他亲属", "其他", "侄子", "侄女", "外甥", "外甥女", "兄弟", "姐妹"),
    },
)


def normalize_sex(value: object) -> tuple[str | None, str | None]:
    """'男'/'女' → ElderSex value. Unreadable text is only a warning: the ID number decides."""
    text = _WHITESPACE_RE.sub("", to_text(value))
    if not text:
        return None, None
    found = SEXES.value_of(text)
    if found is None:
        return None, f"性别“{text}”无法识别（应填“男”或“女”），已按身份证号确定性别"
    return found, None


_ETHNICITY_SET = frozenset(ETHNICITIES)


def normalize_ethnicity(value: object) -> tuple[str | None, str | None]:
    """'汉' → '汉族'; a name outside the 56 is kept as written, with a warning."""
    text = _WHITESPACE_RE.sub("", to_text(value))
    if not text:
        return None, None
    if text in _ETHNICITY_SET:
        return text, None
    if text + "族" in _ETHNICITY_SET:
        return text + "族", None
    return text, f"民族“{text}”不在 56 个民族名称中，已按原文保存，请核对（如“汉族”“彝族”）"


# --- yes / no --------------------------------------------------------------------------------

_YES = frozenset({"是", "有", "√", "✓", "✔", "Y", "YES", "1", "已签", "已签约", "已签订", "TRUE"})
_NO = frozenset({"否", "无", "×", "✗", "✘", "N", "NO", "0", "未签", "未签约", "未签订", "FALSE", "没有"})


def normalize_bool(value: object) -> tuple[bool | None, None]:
    """是/否, 有/无, √/×, Y/N, 1/0, 已签/未签 → True/False."""
    if isinstance(value, bool):
        return value, None
    text = _WHITESPACE_RE.sub("", to_text(value)).upper()
    if not text:
        return None, None
    if text in _YES:
        return True, None
    if text in _NO:
        return False, None
    raise FieldError(f"“{text}”无法识别为“是”或“否”，请填写 是/否（也可用 有/无、√/×、1/0）")


# --- numbers ---------------------------------------------------------------------------------

_MONEY_RE = re.compile(r"^[¥]?(-?\d+(?:\.\d+)?)(?:元)?(?:/月|每月)?$")
_CENT = Decimal("0.01")


def normalize_income(value: object) -> tuple[Decimal | None, None]:
    """Monthly income in yuan: '1200元', '1,200', '１２００', 1200 → Decimal('1200'); ≥ 0."""
    if isinstance(value, bool):
        raise FieldError("月收入应填写金额数字，如 1200")
    if isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
    else:
        text = _WHITESPACE_RE.sub("", to_text(value)).replace(",", "")
    if not text:
        return None, None
    match = _MONEY_RE.match(text)
    if not match:
        raise FieldError(f"月收入“{text}”不是金额，请只填写数字（单位：元），如 1200")
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation:
        raise FieldError(f"月收入“{text}”不是金额，请只填写数字（单位：元），如 1200") from None
    if amount < 0:
        raise FieldError("月收入不能为负数，请填写 0 或正数")
    if amount == amount.to_integral_value():
        return Decimal(int(amount)), None
    return amount.quantize(_CENT), None


# --- phones ----------------------------------------------------------------------------------

_PHONE_SPLIT_RE = re.compile(r"[、,;/\s]+")
_PHONE_NOISE_RE = re.compile(r"[-—–()]")
_MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_AREA_CODE_RE = re.compile(r"^\(?0\d{2,3}\)?$")
_LOCAL_NUMBER_RE = re.compile(r"^\d{7,8}$")
_LANDLINE_WITH_SEP_RE = re.compile(r"^(?:\+?86)?\(?(0\d{2,3})\)?[-—–]?(\d{7,8})$")
_LANDLINE_DIGITS_RE = re.compile(r"^0\d{9,11}$")
PHONE_HELP = "手机号应为 11 位（1 开头）；固定电话请带区号，如 0831-1234567；多个号码用顿号“、”分隔"


def _area_code_length(digits: str) -> int:
    # Beijing 010 and the 02x cities have 3-digit area codes; every other area code has 4.
    return 3 if digits[1] in "12" else 4


def _one_phone(token: str) -> tuple[str, str | None]:
    """One phone number → canonical text ('13812345678', '0831-7654321'), maybe with a warning."""
    compact = _PHONE_NOISE_RE.sub("", token)
    mobile = _MOBILE_RE.match(compact)
    if mobile:
        return mobile.group(1), None
    landline = _LANDLINE_WITH_SEP_RE.match(token)
    if landline and ("-" in token or "(" in token or "—" in token or "–" in token):
        area, local = landline.groups()
        if len(area) in (3, 4):
            return f"{area}-{local}", None
    if compact.startswith("86") and _LANDLINE_DIGITS_RE.match(compact[2:]):
        compact = compact[2:]
    if _LANDLINE_DIGITS_RE.match(compact):
        split = _area_code_length(compact)
        if 7 <= len(compact) - split <= 8:
            return f"{compact[:split]}-{compact[split:]}", None
    if compact.isdigit() and compact[0] not in "01" and 9 <= len(compact) <= 11:
        # A numeric cell drops a landline's leading 0: 8317654321 was typed 0831-7654321.
        restored = "0" + compact
        split = _area_code_length(restored)
        if 7 <= len(restored) - split <= 8:
            return (
                f"{restored[:split]}-{restored[split:]}",
                f"电话号码 {compact} 前面的 0 可能被 Excel 去掉了，已按 {restored[:split]}-{restored[split:]} 保存，请核对",
            )
    if _LOCAL_NUMBER_RE.match(compact):
        raise FieldError(f"固定电话“{token}”缺少区号，请写成“区号-号码”，如 0831-{compact}")
    raise FieldError(f"“{token}”不是有效的电话号码。{PHONE_HELP}")


_PLAIN_MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def normalize_phones(value: object) -> tuple[list[str] | None, str | None]:
    """One or more phone numbers → list of canonical numbers; a numeric cell is fine."""
    text = to_text(value)
    if _PLAIN_MOBILE_RE.fullmatch(text):
        return [text], None  # the common case, without the general machinery
    tokens = [token for token in _PHONE_SPLIT_RE.split(text) if token]
    phones: list[str] = []
    warnings: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        # '0831 7654321': the space between area code and number is not a separator.
        if _AREA_CODE_RE.match(token) and index + 1 < len(tokens) and _LOCAL_NUMBER_RE.match(tokens[index + 1]):
            token = f"{token.strip('()')}-{tokens[index + 1]}"
            index += 1
        phone, warning = _one_phone(token)
        if warning:
            warnings.append(warning)
        if phone not in phones:
            phones.append(phone)
        index += 1
    return phones or None, "；".join(warnings) or None


def normalize_phone(value: object) -> tuple[str | None, str | None]:
    """A single phone (a guardian's, the caregiver's); extra numbers are dropped with a warning."""
    phones, warning = normalize_phones(value)
    if not phones:
        return None, warning
    if len(phones) > 1:
        extra = f"这里只能保存一个号码，已保存 {phones[0]}，其余号码（{'、'.join(phones[1:])}）未保存"
        warning = f"{warning}；{extra}" if warning else extra
    return phones[0], warning


# --- cells that are their own value ----------------------------------------------------------

# Text a normaliser gives back unchanged (normalize_phones: as a list of one): CJK ideographs
# (U+4E00–U+9FFF, none of which NFKC changes) and ASCII letters and digits, so nothing to fold,
# trim, strip of a leading apostrophe, or unify. The engine takes such cells as they are, without
# calling the normaliser (a county census has a million of them); test_normalize.py holds each
# normaliser to its pattern.
_PLAIN_TEXT_RE = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]+")
_PLAIN_NAME_RE = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]{1,30}")
_PLAIN_PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
PLAIN_CELLS = {
    normalize_text: _PLAIN_TEXT_RE.fullmatch,
    normalize_name: _PLAIN_NAME_RE.fullmatch,
    normalize_phones: _PLAIN_PHONE_RE.fullmatch,
    normalize_phone: _PLAIN_PHONE_RE.fullmatch,
}


# --- dates -----------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_NUMBERS = (int, float)  # tuples, not `int | float`: a union would be built at every call
_TIMES = (dt.time, dt.timedelta)
_FULL_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
DATE_HELP = "请写成 1946-03-12、1946/3/12、1946年3月12日 或 19460312 这样的日期"


def _make_date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError(f"“{text}”不是真实存在的日期，{DATE_HELP}") from None


def parse_date(value: object) -> tuple[dt.date, bool]:
    """A date cell or date text → (date, approximate); approximate when only year-month given."""
    if value.__class__ is not str:  # text, the usual cell, needs none of these tests
        if isinstance(value, dt.datetime):
            return value.date(), False
        if isinstance(value, dt.date):
            return value, False
        if isinstance(value, _NUMBERS) and not isinstance(value, bool):
            number = float(value)
            if number.is_integer():
                whole = int(number)
                if 10000101 <= whole <= 99991231:
                    text = str(whole)
                    return _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), text), False
                if 1 <= whole < 80000:
                    # A date cell formatted as a plain number shows Excel's serial day count.
                    return _EXCEL_EPOCH + dt.timedelta(days=whole), False
                raise FieldError(f"“{whole}”不是日期，{DATE_HELP}")
            if 1800 <= number < 2200:
                # 1946.03 typed into a number cell: Excel keeps 1946.03, but 1946.10 becomes 1946.1.
                text = f"{number:.2f}"
                return _make_date(int(text[:4]), int(text[5:7]), 1, text), True
            raise FieldError(f"“{value}”不是日期，{DATE_HELP}")
        if isinstance(value, _TIMES):
            raise FieldError(f"这里填的是时间而不是日期，{DATE_HELP}")
    text = to_text(value)
    match = _FULL_DATE_RE.match(text)
    if match:
        return _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)), text), False
    match = _COMPACT_DATE_RE.match(text)
    if match:
        return _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)), text), False
    match = _YEAR_MONTH_RE.match(text)
    if match:
        return _make_date(int(match.group(1)), int(match.group(2)), 1, text), True
    raise FieldError(f"“{text}”无法识别为日期，{DATE_HELP}")


def normalize_date(value: object) -> tuple[tuple[dt.date, bool] | None, None]:
    """`parse_date` in the normaliser convention; the engine decides what approximate means."""
    if value.__class__ is str and not value.strip():
        return None, None
    return parse_date(value), None


def normalize_birth_date(value: object) -> tuple[tuple[dt.date, bool] | None, str | None]:
    """A birth date cell: the ID number decides, so an unreadable one is only a warning."""
    try:
        return normalize_date(value)
    except FieldError as error:
        return None, f"{error}；出生日期已按身份证号记录"
