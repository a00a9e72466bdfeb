"""Generate a realistic census survey workbook (农村留守老年人基本情况调查表) for benchmarks.

    python bench/make_census_workbook.py --rows 200000 --out var/bench/census-200k.xlsx \
        [--villages-csv villages.csv] [--seed 1] [--bad-ratio 0.02] [--today 2026-06-01]

The sheet looks like the hand-filled forms the importer meets: a title row and a 填报单位 row
above a two-row header (groups 主要赡养人 / 第二赡养人 / 委托照顾 merged over their sub-headers),
every spelling variant and alias the spec accepts, some deliberately bad rows (bad check
character, duplicate ID, under 60, ID typed into a number cell, sex contradicting the ID,
agreement without caregiver), rows with only 序号, empty rows, and a 合计 row and notes at the
bottom. `--villages-csv` takes `code,name` lines (12-digit code, village name); without it,
built-in villages of 锦屏镇 (codes under 511529100) are used.

`write_census_workbook()` is the same generator for tests and benchmarks that want a small file.

Reproducible: the same arguments (seed, villages in the same order, survey day — the command
line's is fixed, DEFAULT_TODAY) give the same rows, and with the fast writer and xlsxwriter the
same bytes (zip entries and document properties carry fixed dates; openpyxl stamps its save time
into docProps/core.xml, so only its rows repeat). tests/census/test_bench_workbook.py checks it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from stdnum.cn import ric

AREA_PREFIX = "511529"
TOWN_CODE = "511529100"
TOWN_NAME = "锦屏镇"

_VILLAGE_NAMES = (
    "李家湾 石龙 新华 团结 红岩 桂花 青山 龙井 白果 黄桷 金竹 中坝 河坝 大田 石桥 松林 柏杨 水井 "
    "高峰 长岭 新民 太平 永安 双河 凉水 茶园 杨柳 桃园 麻柳 沙坝"
).split()
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
_GIVEN = "秀英兰芳珍桂华玉梅淑琴明国建军德福文志永春成清荣贵生海金山水林云凤英兴发祥富昌平安顺正光才"
_MINORITY_NAMES = ("阿依古丽·买买提", "热合曼•吐尔逊", "尼玛．次仁", "沙马·拉且", "吉克·阿呷")
_WHEREABOUTS = ("浙江宁波", "广东东莞", "本县城区", "本村", "成都市", "福建泉州", "新疆乌鲁木齐", "江苏苏州")
_DISEASES = ("高血压", "糖尿病", "慢性支气管炎", "关节炎", "冠心病", "脑梗后遗症", "")
_NEEDS = ("上门探访", "代购代办", "助餐", "健康体检", "精神慰藉", "")


def make_id_number(area: str, birth: dt.date, sequence: int) -> str:
    """A valid 18-digit ID number: area (6 digits), birth date, 3-digit sequence, check char.

    The sequence's parity gives the sex: odd for men, even for women.
    """
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass(frozen=True)
class Village:
    """A village as the generator writes it."""

    code: str
    name: str  # full name, ending in 村
    town: str = ""  # its town's name (optional third CSV column): a county-wide sheet names the town


@dataclass(frozen=True)
class Style:
    """How a variant's cells are written (the defaults give the benchmark's original file):
    `phones` "mixed" (text, some number cells), "number" or "text"; `dates` "mixed" (birth
    dates in every spelling, survey dates mostly date cells), "date" (date cells) or "text"
    (Chinese text); `rich` the share of elder names written as rich text (two runs); `guardians`
    "default", "low" (a village's guardians each support about five elders) or "high" (every
    guardian a different person, 40 % of rows with a second one)."""

    phones: str = "mixed"
    dates: str = "mixed"
    rich: float = 0.0
    guardians: str = "default"


class Rich(str):
    """Text that a writer able to (openpyxl, xlsxwriter) writes as rich-text runs."""


def default_villages() -> list[Village]:
    """The built-in villages of 锦屏镇 with 12-digit codes under 511529100."""
    return [Village(f"{TOWN_CODE}{200 + index:03d}", f"{name}村") for index, name in enumerate(_VILLAGE_NAMES)]


def read_villages_csv(path: str) -> list[Village]:
    """`code,name` lines (a header line is skipped); names without 村 get it appended."""
    villages = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or not row[0].strip().isdigit():
                continue
            name = row[1].strip()
            town = row[2].strip() if len(row) > 2 else ""
            villages.append(Village(row[0].strip(), name if name.endswith(("村", "社区")) else name + "村", town))
    if not villages:
        raise SystemExit(f"{path}: no `code,name` lines found")
    return villages


# Headers: (upper, lower) — upper is a group label (merged over its sub-headers) or the
# header itself (merged down over both rows).
HEADERS: tuple[tuple[str, str | None], ...] = (
    ("序号", None),
    ("乡镇(街道)", None),
    ("村(社区)", None),
    ("村民小组", None),
    ("姓名", None),
    ("性别", None),
    ("身份证号码\n（必填）", None),
    ("出生年月", None),
    ("民族", None),
    ("联系电话", None),
    ("家庭住址", None),
    ("居住情况", None),
    ("健康状况", None),
    ("自理能力", None),
    ("慢性病", None),
    ("主要经济来源", None),
    ("月收入（元）", None),
    ("是否低保", None),
    ("是否特困", None),
    ("脱贫(监测)户", None),
    ("是否签约家庭医生", None),
    ("主要困难", None),
    ("服务需求", None),
    ("主要赡养人", "姓名"),
    ("主要赡养人", "关系"),
    ("主要赡养人", "联系电话"),
    ("主要赡养人", "务工地"),
    ("第二赡养人", "姓名"),
    ("第二赡养人", "关系"),
    ("第二赡养人", "联系电话"),
    ("第二赡养人", "居住地"),
    ("委托照顾", "是否签订协议"),
    ("委托照顾", "受托人"),
    ("委托照顾", "受托人电话"),
    ("帮扶责任人", None),
    ("调查人", None),
    ("调查日期", None),
    ("备注", None),
)
COLUMN_COUNT = len(HEADERS)
BAD_KINDS = ("check_char", "duplicate", "under_60", "numeric_id", "sex_mismatch", "agreement_without_caregiver")


@dataclass
class GeneratedStats:
    """What the generator wrote, for benchmarks and tests to check against."""

    data_rows: int = 0  # rows that the importer should read as data (good + bad)
    bad_rows: dict[str, int] = field(default_factory=dict)
    skipped_rows: int = 0  # empty rows and rows with only 序号
    first_data_row: int = 0  # Excel row number


class _Generator:
    def __init__(self, seed: int, villages: Sequence[Village], today: dt.date, style: Style = Style()):
        self.random = random.Random(seed)
        self.villages = list(villages)
        self.today = today
        self.style = style
        self.next_sequence: dict[dt.date, int] = {}
        self.issued: list[str] = []
        self.pools: dict[str, list[tuple[str, str]]] = {}  # village code → its guardians ("low")

    def pick(self, options: Sequence) -> object:
        return options[int(self.random.random() * len(options))]

    def person_name(self) -> str:
        if self.random.random() < 0.003:
            return self.pick(_MINORITY_NAMES)
        given = self.pick(_GIVEN) + (self.pick(_GIVEN) if self.random.random() < 0.7 else "")
        name = self.pick(_SURNAMES) + given
        if len(name) == 2 and self.random.random() < 0.2:
            name = f"{name[0]}  {name[1]}"  # forms pad two-character names
        return name

    def birth_date(self, min_age: int, max_age: int) -> dt.date:
        days = self.random.randint(min_age * 365 + 1, max_age * 365 - 1)
        return self.today - dt.timedelta(days=days)

    def id_number(self, birth: dt.date, male: bool) -> str:
        sequence = self.next_sequence.get(birth, self.random.randint(0, 400))
        if (sequence % 2 == 1) != male:
            sequence += 1
        self.next_sequence[birth] = sequence + 1
        return make_id_number(AREA_PREFIX, birth, sequence)

    def mobile(self) -> str:
        return f"1{self.pick('3456789')}{self.random.randint(0, 999_999_999):09d}"

    def phone_cell(self) -> object:
        """A single mobile, as the style writes phones."""
        return int(self.mobile()) if self.style.phones == "number" else self.mobile()

    def elder_name(self) -> str:
        name = self.person_name()
        return Rich(name) if self.style.rich and self.random.random() < self.style.rich else name

    def guardian(self) -> tuple[object, object]:
        """(name, phone) of the first guardian, as the style's cardinality has them (the phone
        None: drawn after the relation, as the original file has it)."""
        if self.style.guardians == "default":
            return self.person_name(), None
        if self.style.guardians == "high":
            return self.person_name(), self.phone_cell()
        pool = self.pools.setdefault(self.last_village.code, [])
        if len(pool) < 8 or self.random.random() < 0.2:  # about five elders per guardian
            pool.append((self.person_name(), self.phone_cell()))
            return pool[-1]
        return self.pick(pool)

    def phones(self) -> object:
        if self.style.phones == "number":
            return "" if self.random.random() < 0.15 else int(self.mobile())
        if self.style.phones == "text":
            return "" if self.random.random() < 0.15 else self.mobile()
        roll = self.random.random()
        if roll < 0.15:
            return ""
        if roll < 0.25:
            return int(self.mobile())  # typed into a number cell
        if roll < 0.32:
            return f"0831-{self.random.randint(2_000_000, 8_999_999)}"
        if roll < 0.40:
            return f"{self.mobile()}、{self.mobile()}"
        return self.mobile()

    def village(self) -> object:
        village = self.last_village = self.pick(self.villages)
        roll = self.random.random()
        stem = village.name[:-1] if village.name.endswith("村") else village.name
        if roll < 0.5:
            return village.name
        if roll < 0.65:
            return stem + "村委会"
        if roll < 0.75:
            return stem + "村民委员会"
        if roll < 0.9:
            return stem
        return village.code

    def group(self) -> object:
        number = self.random.randint(1, 12)
        chinese = "一二三四五六七八九十"[number - 1] if number <= 10 else f"十{'一二'[number - 11]}"
        return self.pick((number, str(number), f"{number}组", f"{chinese}组", f"第{chinese}组", f"第{number}组"))

    def birth_text(self, birth: dt.date) -> object:
        if self.style.dates != "mixed":
            return self.date_cell(birth)
        return self.pick(
            (
                "",
                birth,
                f"{birth:%Y-%m-%d}",
                f"{birth.year}/{birth.month}/{birth.day}",
                f"{birth.year}.{birth.month}.{birth.day}",
                f"{birth.year}年{birth.month}月{birth.day}日",
                f"{birth:%Y%m%d}",
                f"{birth.year}.{birth.month:02d}",
                f"{birth.year}年{birth.month}月",
            )
        )

    def date_cell(self, day: dt.date) -> object:
        return day if self.style.dates == "date" else f"{day.year}年{day.month}月{day.day}日"

    def yes_no(self, probability: float) -> object:
        yes = self.random.random() < probability
        return self.pick(("是", "√", "有", "1", 1, "Y")) if yes else self.pick(("否", "×", "无", "0", 0, "N", ""))

    def row(self, serial: int) -> list:
        pick, roll = self.pick, self.random.random
        male = roll() < 0.46
        # 61+: the survey date lies up to 300 days back, and age counts on that day.
        birth = self.birth_date(61, 100)
        number = self.id_number(birth, male)
        if number.endswith("X") and roll() < 0.3:
            number = number[:-1] + "x"
        agreement = roll() < 0.2
        second = roll() < (0.4 if self.style.guardians == "high" else 0.5)
        surveyed = self.today - dt.timedelta(days=self.random.randint(10, 300))
        town = pick((TOWN_NAME, "", ""))
        village = self.village()
        if self.last_village.town:  # county-wide: village names repeat across towns
            town = self.last_village.town
        return [
            serial,
            town,
            village,
            self.group(),
            self.elder_name(),
            pick(("男" if male else "女", "")),
            number,
            self.birth_text(birth),
            pick(("汉族", "汉族", "汉族", "汉", "彝族", "苗", "")),
            self.phones(),
            f"{pick(_VILLAGE_NAMES)}村{self.random.randint(1, 12)}组{self.random.randint(1, 99)}号",
            pick(
                (
                    "独居",
                    "独居老人",
                    "与配偶同住",
                    "空巢",
                    "夫妻同住",
                    "与老伴同住",
                    "与未成年孙辈同住",
                    "隔代",
                    "与孙子女同住",
                    "与其他亲属同住",
                    "其他",
                    "",
                )
            ),
            pick(("健康", "基本健康", "患病能自理", "患病不能自理", "良好", "一般", "较差", "")),
            pick(
                (
                    "自理",
                    "完全自理",
                    "能自理",
                    "能力完好",
                    "半失能",
                    "部分自理",
                    "半自理",
                    "轻度失能",
                    "中度失能",
                    "失能",
                    "不能自理",
                    "完全不能自理",
                    "重度失能",
                    "完全失能",
                    "",
                )
            ),
            "、".join(dict.fromkeys(d for d in (pick(_DISEASES), pick(_DISEASES)) if d)),  # not a set: its order
            # changes with the interpreter's string hashing (PYTHONHASHSEED), and the file with it
            pick(
                (
                    "养老金",
                    "养老金、子女供养",
                    "退休金",
                    "养老保险，劳动收入",
                    "子女供养",
                    "低保金、子女供养",
                    "特困供养金",
                    "其他",
                    "",
                )
            ),
            pick(("1200元", 1200, "1,200", "１２００", 860, "300", "0", "")),
            self.yes_no(0.12),
            self.yes_no(0.03),
            self.yes_no(0.2),
            self.yes_no(0.6),
            pick(("生活照料", "经济困难、看病就医", "精神孤独", "安全隐患", "其他", "")),
            pick(_NEEDS),
            (first := self.guardian())[0],
            pick(("儿子", "子", "女儿", "女", "儿媳", "女婿", "孙子", "孙女", "配偶", "老伴", "其他亲属")),
            self.mobile() if first[1] is None else first[1],
            pick(_WHEREABOUTS),
            self.person_name() if second else "",
            pick(("儿子", "女儿", "孙子女")) if second else "",
            self.phone_cell() if second and roll() < 0.8 else "",
            pick(_WHEREABOUTS) if second else "",
            pick(("是", "已签")) if agreement else pick(("否", "未签", "")),
            self.person_name() if agreement else "",
            self.mobile() if agreement else "",
            self.person_name(),
            self.person_name(),
            (surveyed if roll() < 0.7 else f"{surveyed.year}年{surveyed.month}月{surveyed.day}日")
            if self.style.dates == "mixed" else self.date_cell(surveyed),
            pick(("", "", "", "", "长期卧床", '=HYPERLINK("http://x")')),
        ]

    def spoil(self, row: list, kind: str) -> None:
        """Make a generated row bad in one specific way."""
        if kind == "check_char":
            number = str(row[6]).upper()
            good = number[-1]
            row[6] = number[:-1] + ("0" if good != "0" else "1")
        elif kind == "duplicate":
            row[6] = self.issued[int(self.random.random() * len(self.issued))]
            row[5] = row[7] = ""  # only the ID repeats; sex and birth date come from it
        elif kind == "under_60":
            birth = self.birth_date(30, 58)
            row[6] = self.id_number(birth, True)
            row[5] = "男"
            row[7] = ""
        elif kind == "numeric_id":
            row[6] = float(str(row[6]).upper().replace("X", "1"))
        elif kind == "sex_mismatch":
            sex = int(str(row[6])[16]) % 2
            row[5] = "女" if sex else "男"
        elif kind == "agreement_without_caregiver":
            row[31], row[32], row[33] = "是", "", ""


def census_rows(
    count: int,
    *,
    seed: int = 1,
    villages: Sequence[Village] | None = None,
    bad_ratio: float = 0.02,
    today: dt.date | None = None,
    stats: GeneratedStats | None = None,
    style: Style = Style(),
) -> Iterator[list]:
    """The data rows (and the occasional empty / 序号-only row) of a generated census."""
    generator = _Generator(seed, villages or default_villages(), today or dt.date.today(), style)
    stats = stats if stats is not None else GeneratedStats()
    for kind in BAD_KINDS:
        stats.bad_rows.setdefault(kind, 0)
    serial = 0
    for _ in range(count):
        roll = generator.random.random()
        if roll < 0.002:
            stats.skipped_rows += 1
            yield []
            continue
        if roll < 0.004:
            stats.skipped_rows += 1
            serial += 1
            yield [serial]
            continue
        serial += 1
        row = generator.row(serial)
        if (
            generator.random.random() < bad_ratio
            and (kind := generator.pick(BAD_KINDS))
            and (kind != "duplicate" or generator.issued)
        ):
            generator.spoil(row, kind)
            stats.bad_rows[kind] += 1
        else:
            # Only good rows are copied by "duplicate", so each bad row is bad for one reason.
            generator.issued.append(str(row[6]).upper())
        stats.data_rows += 1
        yield row


def _layout(today: dt.date) -> tuple[list[list], list[str]]:
    """The rows above the data (title, 填报单位, two-row header) and the merged ranges."""
    last = _column_letter(COLUMN_COUNT)
    merges = [f"A1:{last}1"]
    upper: list[object] = []
    lower: list[object] = []
    for index, (top, sub) in enumerate(HEADERS):
        letter = _column_letter(index + 1)
        if sub is None:
            upper.append(top)
            lower.append(None)
            merges.append(f"{letter}3:{letter}4")
        elif index == 0 or HEADERS[index - 1][0] != top:
            span = sum(1 for other, other_sub in HEADERS if other == top and other_sub is not None)
            upper.append(top)
            lower.append(sub)
            merges.append(f"{letter}3:{_column_letter(index + span)}3")
        else:
            upper.append(None)
            lower.append(sub)
    rows = [
        [f"{TOWN_NAME}农村留守老年人基本情况调查表"],
        [
            f"填报单位：{TOWN_NAME}人民政府（盖章）",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "填报日期：",
            today.isoformat(),
        ],
        upper,
        lower,
    ]
    return rows, merges


def _footer(stats: GeneratedStats) -> list[list]:
    return [
        ["合计", None, None, None, f"{stats.data_rows} 人"],
        [],
        ["填表说明：1. 身份证号码请按文本格式填写；2. 年龄以调查日期计算。"],
        ["备注：本表由村委会填报，乡镇民政办汇总。"],
    ]


def write_census_workbook(
    out: str | os.PathLike,
    rows: int,
    *,
    seed: int = 1,
    villages: Sequence[Village] | None = None,
    bad_ratio: float = 0.02,
    today: dt.date | None = None,
    writer: str = "fast",
    style: Style = Style(),
) -> GeneratedStats:
    """Write a census workbook with `rows` generated rows to `out`; returns what was written.

    `writer="fast"` streams the sheet XML directly (shared strings, like Excel writes them) and
    manages 200,000 rows in well under a minute; `writer="openpyxl"` uses openpyxl's write-only
    mode, which without lxml takes about 1 ms per row, and `writer="xlsxwriter"` writes as Excel
    does (shared strings, rich-text runs, date formats): independent producers of .xlsx for the
    reader and the benchmark's variants. `style` says how the cells are written (Style).
    """
    today = today or dt.date.today()
    top, merges = _layout(today)
    stats = GeneratedStats(first_data_row=len(top) + 1)
    body = census_rows(rows, seed=seed, villages=villages, bad_ratio=bad_ratio, today=today, stats=stats,
                       style=style)
    if writer == "openpyxl":
        workbook = Workbook(write_only=True)
        workbook.properties.created = _FIXED_TIME  # (openpyxl stamps the save time as modified anyway)
        sheet = workbook.create_sheet(SHEET_NAME)
        for merge in merges:
            sheet.merged_cells.add(merge)
        for row in chain(top, body):
            sheet.append([_text_cell(sheet, value) for value in row])
        for row in _footer(stats):
            sheet.append(row)
        workbook.save(out)
    elif writer == "xlsxwriter":
        _write_with_xlsxwriter(out, top, chain(body, _LazyRows(lambda: _footer(stats))), merges)
    elif writer == "fast":
        write_xlsx(out, SHEET_NAME, chain(top, body, _LazyRows(lambda: _footer(stats))), merges)
    else:
        raise ValueError(f"unknown writer {writer!r}")
    return stats


def _text_cell(sheet, value: object) -> object:
    """openpyxl turns any '=…' string into a formula; the forms have it as typed text. Rich text
    goes in as two runs, dates with a date format."""
    if isinstance(value, Rich):
        return CellRichText(TextBlock(InlineFont(b=True), value[:1]), value[1:])
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def _write_with_xlsxwriter(out, top: list[list], rows: Iterable[Sequence], merges: Sequence[str]) -> None:
    """As Excel writes a workbook: shared strings (rich text as runs), dates as date-formatted
    numbers, the header's merged cells."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
    workbook.set_properties({"created": _FIXED_TIME})  # not now: the same rows give the same bytes
    sheet = workbook.add_worksheet(SHEET_NAME)
    date = workbook.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(chain(top, rows)):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, Rich):
                sheet.write_rich_string(r, c, bold, value[:1], value[1:])
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            else:
                sheet.write_number(r, c, value)
    for merge in merges:  # the label again in the first cell, the others blank
        first = merge.partition(":")[0]
        row, column = int(first.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) - 1, _column_number(first.rstrip("0123456789"))
        sheet.merge_range(merge, top[row][column] if column < len(top[row]) else None)
    workbook.close()


def _column_number(letters: str) -> int:
    """'A' → 0."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


class _LazyRows:
    """Rows produced only when reached (the footer needs the final counts)."""

    def __init__(self, make: Callable[[], list[list]]):
        self.make = make

    def __iter__(self) -> Iterator[list]:
        return iter(self.make())


SHEET_NAME = "留守老年人调查表"
_FIXED_TIME = dt.datetime(2026, 1, 1)
DEFAULT_TODAY = dt.date(2026, 6, 1)  # the command line's survey day (write_census_workbook's is the real one)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{_REL_NS}/worksheet"/>'
        f'<Relationship Id="rId2" Target="styles.xml" Type="{_REL_NS}/styles"/>'
        f'<Relationship Id="rId3" Target="sharedStrings.xml" Type="{_REL_NS}/sharedStrings"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<styleSheet xmlns="{_NS}">'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"
    ),
}


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def write_xlsx(out: str | os.PathLike, sheet_name: str, rows: Iterable[Sequence], merges: Sequence[str] = ()) -> None:
    """Stream rows into a one-sheet .xlsx with shared strings, the way Excel stores text.

    Cell values: str (shared string), int/float (number), date/datetime (date-formatted
    serial), None or '' (no cell).
    """
    letters = [_column_letter(number) for number in range(1, 16385)]
    strings: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in _PARTS.items():
            archive.writestr(_entry(name), text)
        archive.writestr(
            _entry("xl/workbook.xml"),
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}"><sheets>'
            f'<sheet name="{_escape(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with archive.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as stream:
            stream.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}"><sheetData>'.encode()
            )
            buffer: list[str] = []
            for row_number, row in enumerate(rows, start=1):
                parts = [f'<row r="{row_number}">']
                for column, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    ref = f"{letters[column]}{row_number}"
                    if value.__class__ is str:
                        index = strings.setdefault(value, len(strings))
                        parts.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                    elif isinstance(value, bool):
                        parts.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
                    elif isinstance(value, int | float):
                        parts.append(f'<c r="{ref}"><v>{value!r}</v></c>')
                    elif isinstance(value, dt.date):
                        day = value.date() if isinstance(value, dt.datetime) else value
                        parts.append(f'<c r="{ref}" s="1"><v>{(day - _EXCEL_EPOCH).days}</v></c>')
                    else:
                        raise TypeError(f"cannot write {type(value).__name__} to a cell")
                parts.append("</row>")
                buffer.append("".join(parts))
                if len(buffer) >= 2000:
                    stream.write("".join(buffer).encode())
                    buffer.clear()
            stream.write("".join(buffer).encode())
            stream.write(b"</sheetData>")
            if merges:
                cells = "".join(f'<mergeCell ref="{merge}"/>' for merge in merges)
                stream.write(f'<mergeCells count="{len(merges)}">{cells}</mergeCells>'.encode())
            stream.write(b"</worksheet>")
        with archive.open(_entry("xl/sharedStrings.xml"), "w", force_zip64=True) as stream:
            stream.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{_NS}" count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
            )
            chunk: list[str] = []
            for text in strings:
                space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
                chunk.append(f"<si><t{space}>{_escape(text)}</t></si>")
                if len(chunk) >= 5000:
                    stream.write("".join(chunk).encode())
                    chunk.clear()
            stream.write("".join(chunk).encode())
            stream.write(b"</sst>")


def _entry(name: str) -> zipfile.ZipInfo:
    """A deflated zip entry (zlib's default level, 6) dated as Excel dates them (1980-01-01),
    not now: the same rows give the same bytes."""
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a census survey workbook for benchmarks.")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--villages-csv", help="CSV of `code,name` lines (12-digit village code, name)")
    parser.add_argument("--out", default="var/bench/census-200k.xlsx")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-ratio", type=float, default=0.02)
    parser.add_argument("--writer", choices=("fast", "openpyxl", "xlsxwriter"), default="fast")
    parser.add_argument("--phones", choices=("mixed", "number", "text"), default="mixed")
    parser.add_argument("--dates", choices=("mixed", "date", "text"), default="mixed")
    parser.add_argument("--rich", type=float, default=0.0, help="share of names written as rich text")
    parser.add_argument("--guardians", choices=("default", "low", "high"), default="default")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=DEFAULT_TODAY,
                        help="the survey's day (birth and survey dates are drawn back from it); fixed, so that "
                             "the same arguments write the same file on any day")
    args = parser.parse_args(argv)
    villages = read_villages_csv(args.villages_csv) if args.villages_csv else None
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    started = time.perf_counter()
    stats = write_census_workbook(
        args.out, args.rows, seed=args.seed, villages=villages, bad_ratio=args.bad_ratio, today=args.today,
        writer=args.writer,
        style=Style(args.phones, args.dates, args.rich, args.guardians),
    )
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.out}: {stats.data_rows} data rows, {sum(stats.bad_rows.values())} bad "
        f"({', '.join(f'{k}={v}' for k, v in stats.bad_rows.items())}), {stats.skipped_rows} skippable, "
        f"{os.path.getsize(args.out) / 1e6:.1f} MB in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
