"""Census columns: the canonical layout, header aliases, and finding the header in a sheet.

`CENSUS_COLUMNS` is the one ordered list of columns the system writes (template, ledger
export) and reads back unchanged. Real forms drift, so reading also accepts every alias in the
spec, two-row headers (a merged group cell such as `主要赡养人` over `姓名`/`关系`/…), group and
sub-header joined in one cell (`主要赡养人/姓名`, as our own exports write them), numbered
guardian headers (`赡养人2姓名`), and notes in parentheses (`身份证号码（必填）`).

Column targets are field keys of the Elder model (`name`, `phones`, …), `guardians.<slot>.<part>`
for the two guardians, and `serial` for the 序号 column (read but never stored).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "CensusColumn",
    "CENSUS_COLUMNS",
    "header_key",
    "written_header",
    "ColumnPlan",
    "plan_columns",
    "HEADER_SEARCH_ROWS",
    "SERIAL",
    "IGNORED",
]

SERIAL = "serial"
IGNORED = "ignored"  # a known column deliberately not read (a third guardian, a duplicate)
GUARDIAN_PARTS = ("name", "relation", "phone", "whereabouts")
MAX_GUARDIANS = 2
# Up to 10 title / note rows may sit above the header row.
HEADER_SEARCH_ROWS = 11


@dataclass(frozen=True, slots=True)
class CensusColumn:
    """A column of the canonical census layout."""

    key: str  # field key, e.g. 'name' or 'guardians.0.phone'
    header: str  # canonical (sub-)header text
    group: str = ""  # canonical group ('主要赡养人', '委托照顾'), '' for none
    required: bool = False
    text_format: bool = False  # written as text ('@') in the template: IDs and phones

    @property
    def title(self) -> str:
        """The single-cell header our own workbooks use: 'group/header' or 'header'."""
        return f"{self.group}/{self.header}" if self.group else self.header


def _guardian_columns(slot: int, group: str) -> tuple[CensusColumn, ...]:
    return (
        CensusColumn(f"guardians.{slot}.name", "姓名", group),
        CensusColumn(f"guardians.{slot}.relation", "关系", group),
        CensusColumn(f"guardians.{slot}.phone", "联系电话", group, text_format=True),
        CensusColumn(f"guardians.{slot}.whereabouts", "居住地", group),
    )


CENSUS_COLUMNS: tuple[CensusColumn, ...] = (
    CensusColumn("town", "乡镇"),
    CensusColumn("village", "村（社区）", required=True),
    CensusColumn("village_group", "村民小组"),
    CensusColumn("name", "姓名", required=True),
    CensusColumn("sex", "性别"),
    CensusColumn("id_number", "身份证号码", required=True, text_format=True),
    CensusColumn("birth_date", "出生日期"),
    CensusColumn("ethnicity", "民族"),
    CensusColumn("phones", "联系电话", text_format=True),
    CensusColumn("address", "现居住地址"),
    CensusColumn("living", "居住情况"),
    CensusColumn("health", "健康状况"),
    CensusColumn("self_care", "自理能力"),
    CensusColumn("diseases", "慢性病"),
    CensusColumn("income_sources", "主要经济来源"),
    CensusColumn("monthly_income", "月收入（元）"),
    CensusColumn("dibao", "是否低保"),
    CensusColumn("tekun", "是否特困"),
    CensusColumn("poverty_monitored", "脱贫（监测）户"),
    CensusColumn("family_doctor", "是否签约家庭医生"),
    CensusColumn("difficulties", "主要困难"),
    CensusColumn("needs", "服务需求"),
    *_guardian_columns(0, "主要赡养人"),
    *_guardian_columns(1, "第二赡养人"),
    CensusColumn("agreement", "是否签订协议", "委托照顾"),
    CensusColumn("agreement_caregiver", "受托人姓名", "委托照顾"),
    CensusColumn("agreement_phone", "受托人电话", "委托照顾", text_format=True),
    CensusColumn("cadre", "帮扶责任人"),
    CensusColumn("surveyed_by", "调查人"),
    CensusColumn("surveyed_on", "调查日期"),
    CensusColumn("notes", "备注"),
)

# --- header text -------------------------------------------------------------------------------

_NOTE_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_HEADER_NOISE_RE = re.compile(r"[\s*:]+")


def header_key(text: object) -> str:
    """Header text as matched: NFKC-folded, without spaces, line breaks, '*', ':' or (notes)."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    folded = _NOTE_RE.sub("", folded)
    return _HEADER_NOISE_RE.sub("", folded)


def written_header(text: object) -> str:
    """Header text as written, for messages: trimmed, line breaks removed."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return re.sub(r"[\r\n]+", "", str(text)).strip()


# --- aliases -----------------------------------------------------------------------------------

_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    SERIAL: ("序号", "编号"),
    "town": ("乡镇", "所属乡镇", "乡镇街道"),
    "village": ("村", "所属村", "村委会", "行政村", "村居", "村社区"),
    "village_group": ("组", "村民小组", "小组"),
    "name": ("姓名", "老人姓名"),
    "sex": ("性别",),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证"),
    "birth_date": ("出生日期", "出生年月"),
    "ethnicity": ("民族",),
    "phones": ("联系电话", "本人电话", "电话"),
    "address": ("现居住地址", "住址", "家庭住址"),
    "living": ("居住情况", "居住状况"),
    "health": ("健康状况",),
    "self_care": ("自理能力", "失能情况", "能力等级"),
    "diseases": ("慢性病", "患病情况", "主要疾病"),
    "income_sources": ("经济来源", "主要经济来源"),
    "monthly_income": ("月收入", "人均月收入"),
    "dibao": ("低保", "是否低保", "低保对象"),
    "tekun": ("特困", "是否特困", "特困人员", "特困供养"),
    "poverty_monitored": ("脱贫户", "监测户", "建档立卡", "脱贫户/监测户"),
    "difficulties": ("主要困难", "存在困难"),
    "needs": ("服务需求", "需求"),
    "family_doctor": ("家庭医生签约", "是否签约家庭医生"),
    "agreement": ("是否签订委托照顾协议", "委托照顾协议"),
    "agreement_caregiver": ("受托人", "受托人姓名"),
    "agreement_phone": ("受托人电话",),
    "cadre": ("帮扶责任人", "联系责任人", "包保干部"),
    "surveyed_by": ("调查人", "填报人"),
    "surveyed_on": ("调查日期", "填报日期"),
    "notes": ("备注",),
}
FIELD_BY_ALIAS = {alias: key for key, aliases in _FIELD_ALIASES.items() for alias in aliases}

# Guardian parts when the header stands alone (no group): the slot follows from order.
_GUARDIAN_ALIASES: dict[str, str] = {
    "赡养人姓名": "name",
    "赡养人": "name",
    "子女姓名": "name",
    "关系": "relation",
    "与老人关系": "relation",
    "赡养人电话": "phone",
    "务工地": "whereabouts",
    "居住地": "whereabouts",
    "外出地点": "whereabouts",
    "现居地": "whereabouts",
}
# Guardian parts under a guardian group (`主要赡养人` over `姓名`).
_GUARDIAN_SUB_ALIASES: dict[str, str] = {
    **_GUARDIAN_ALIASES,
    "姓名": "name",
    "联系电话": "phone",
    "电话": "phone",
    "手机": "phone",
    "手机号码": "phone",
    "务工地点": "whereabouts",
    "现居住地": "whereabouts",
    "所在地": "whereabouts",
}
_AGREEMENT_SUB_ALIASES: dict[str, str] = {
    "是否签订协议": "agreement",
    "是否签订": "agreement",
    "签订协议": "agreement",
    "协议": "agreement",
    "是否签订委托照顾协议": "agreement",
    "委托照顾协议": "agreement",
    "是否签订委托协议": "agreement",
    "受托人": "agreement_caregiver",
    "受托人姓名": "agreement_caregiver",
    "姓名": "agreement_caregiver",
    "受托人电话": "agreement_phone",
    "联系电话": "agreement_phone",
    "电话": "agreement_phone",
}
_AGREEMENT_GROUPS = frozenset({"委托照顾", "委托照顾协议", "委托照顾情况", "委托照料"})

_SLOT_WORDS = {"主要": 0, "第一": 0, "第1": 0, "1": 0, "一": 0, "第二": 1, "第2": 1, "2": 1, "二": 1}
_GUARDIAN_GROUP_RE = re.compile(r"^(主要|第一|第二|第1|第2)?(?:赡养人|赡养义务人|子女)([12一二])?(?:信息|情况)?$")
_NUMBERED_GUARDIAN_RE = re.compile(
    r"^(主要|第一|第二|第1|第2)?(赡养人|子女)([12一二])?"
    r"(姓名|关系|与老人关系|电话|联系电话|务工地|居住地|外出地点|现居地)?$"
)
_NUMBERED_PARTS = {
    "姓名": "name",
    "关系": "relation",
    "与老人关系": "relation",
    "电话": "phone",
    "联系电话": "phone",
    "务工地": "whereabouts",
    "居住地": "whereabouts",
    "外出地点": "whereabouts",
    "现居地": "whereabouts",
}
_GENERIC_PHONE_HEADERS = frozenset({"联系电话", "电话"})


def _guardian_group_slot(group: str) -> tuple[bool, int | None]:
    """(is a guardian group, explicit slot or None)."""
    match = _GUARDIAN_GROUP_RE.match(group)
    if not match:
        return False, None
    word = match.group(1) or match.group(2)
    return True, _SLOT_WORDS.get(word) if word else None


def _is_group_label(key: str) -> bool:
    return key in _AGREEMENT_GROUPS or _guardian_group_slot(key)[0]


# --- planning ----------------------------------------------------------------------------------


@dataclass
class ColumnPlan:
    """What each column of a sheet means, and where the data starts."""

    headers: list[str]  # per column, as written ('主要赡养人/姓名' for grouped columns)
    targets: list[str | None]  # per column: field key, 'guardians.<slot>.<part>', SERIAL or None
    data_start: int  # 0-based index of the first data row
    header_row: int  # 0-based index of the (lower) header row
    unknown_columns: list[str] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)

    def column_of(self, key: str) -> int | None:
        """The first column that holds `key`."""
        try:
            return self.targets.index(key)
        except ValueError:
            return None


class _Resolver:
    """Maps headers to targets left to right, keeping the state that order implies."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.guardian_counts: dict[tuple[str, str], int] = {}
        self.previous: str | None = None
        self.warnings: list[str] = []

    def _guardian(self, scope: str, part: str, slot: int | None) -> str | None:
        if slot is None:
            # No explicit number: the n-th '姓名' (or '关系' …) in this scope is guardian n.
            slot = self.guardian_counts.get((scope, part), 0)
            self.guardian_counts[(scope, part)] = slot + 1
        if slot >= MAX_GUARDIANS:
            return IGNORED
        return f"guardians.{slot}.{part}"

    def resolve(self, group_key: str, sub_key: str) -> str | None:
        target = self._resolve(group_key, sub_key)
        self.previous = target
        return target

    def _resolve(self, group_key: str, sub_key: str) -> str | None:
        if group_key and not sub_key:
            group_key, sub_key = "", group_key
        if not group_key and "/" in sub_key:
            head, _, tail = sub_key.partition("/")
            if _is_group_label(head):
                group_key, sub_key = head, tail
        if group_key:
            is_guardian, slot = _guardian_group_slot(group_key)
            if is_guardian:
                part = _GUARDIAN_SUB_ALIASES.get(sub_key)
                if part is None:
                    numbered = _NUMBERED_GUARDIAN_RE.match(sub_key)
                    part = _NUMBERED_PARTS.get(numbered.group(4) or "姓名") if numbered else None
                if part is not None:
                    return self._guardian(group_key, part, slot)
            elif group_key in _AGREEMENT_GROUPS:
                key = _AGREEMENT_SUB_ALIASES.get(sub_key)
                if key is not None:
                    return key
            # Any other group ('基本情况', '经济状况' …) only groups ordinary columns.
        return self._resolve_single(sub_key)

    def _resolve_single(self, key: str) -> str | None:
        target = FIELD_BY_ALIAS.get(key)
        if target == "phones" and key in _GENERIC_PHONE_HEADERS and "phones" in self.used:
            # A second '联系电话' right after a guardian's name or relation is that guardian's.
            if self.previous and self.previous.startswith("guardians."):
                slot = self.previous.split(".")[1]
                candidate = f"guardians.{slot}.phone"
                if candidate not in self.used:
                    return candidate
        if target is not None:
            return target
        part = _GUARDIAN_ALIASES.get(key)
        if part is not None:
            return self._guardian("", part, None)
        numbered = _NUMBERED_GUARDIAN_RE.match(key)
        if numbered and (numbered.group(3) or numbered.group(1) or numbered.group(4)):
            if numbered.group(2) == "子女" and not (numbered.group(3) or numbered.group(4)):
                return None  # '子女' alone is more likely a head-count than a name
            word = numbered.group(1) or numbered.group(3)
            part = _NUMBERED_PARTS[numbered.group(4) or "姓名"]
            return self._guardian("", part, _SLOT_WORDS.get(word) if word else None)
        return None


def _cell(row: Sequence, index: int) -> object:
    if index < len(row):
        value = row[index]
        if value is not None and value != "":
            return value
    return None


def _has_name_and_id(row: Sequence) -> bool:
    targets = {FIELD_BY_ALIAS.get(header_key(value)) for value in row if isinstance(value, str)}
    return "name" in targets and "id_number" in targets


def _looks_like_sub_header_row(upper: Sequence, lower: Sequence) -> bool:
    """Is `lower` the second line of a two-row header whose first line is `upper`?"""
    keys = [header_key(value) if isinstance(value, str) else None for value in upper]
    name_col = next((i for i, key in enumerate(keys) if FIELD_BY_ALIAS.get(key) == "name"), None)
    id_col = next((i for i, key in enumerate(keys) if FIELD_BY_ALIAS.get(key) == "id_number"), None)
    # Under a two-row header the elder's own name and ID cells are merged down: empty below.
    if _cell(lower, name_col) is not None or _cell(lower, id_col) is not None:
        return False
    texts = [value for value in lower if value is not None and value != ""]
    if not texts or not all(isinstance(value, str) for value in texts):
        return False
    known = set(_GUARDIAN_SUB_ALIASES) | set(_AGREEMENT_SUB_ALIASES) | set(FIELD_BY_ALIAS)
    return any(header_key(value) in known for value in texts)


def _spans(
    upper_index: int, width: int, upper: Sequence, lower: Sequence, merged: Sequence[tuple[int, int, int, int]]
) -> list[object]:
    """The group label over each column of a two-row header."""
    groups: list[object] = [None] * width
    covered: set[int] = set()
    for first_row, first_col, last_row, last_col in merged:
        if first_row <= upper_index <= last_row and last_col > first_col and first_row == upper_index:
            label = _cell(upper, first_col)
            if label is None:
                continue
            for column in range(max(first_col, 0), min(last_col + 1, width)):
                groups[column] = label
                covered.add(column)
    # Without merge information (CSV, or a label typed without merging), a label over a
    # sub-header carries on to the right across columns whose upper cell is empty.
    current: object = None
    for column in range(width):
        above, below = _cell(upper, column), _cell(lower, column)
        if column in covered:
            current = None
            continue
        if above is not None:
            current = above if below is not None else None
            groups[column] = above
        elif below is not None and current is not None:
            groups[column] = current
    return groups


def plan_columns(rows: Sequence[Sequence], merged: Sequence[tuple[int, int, int, int]] = ()) -> ColumnPlan | None:
    """Find the header among the first rows of a sheet and map every column to a target.

    `rows` are the first rows of the sheet (at least HEADER_SEARCH_ROWS + 1 when available).
    Returns None when no row within the first HEADER_SEARCH_ROWS has both a name and an ID
    column.
    """
    header_index = next((index for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if _has_name_and_id(row)), None)
    if header_index is None:
        return None
    header = rows[header_index]
    below = rows[header_index + 1] if header_index + 1 < len(rows) else []
    above = rows[header_index - 1] if header_index > 0 else []

    if below and _looks_like_sub_header_row(header, below):
        upper_index, upper, lower, data_start = header_index, header, below, header_index + 2
    elif above and any(isinstance(value, str) and _is_group_label(header_key(value)) for value in above):
        # Group labels on the line above the header; anything else there is a title.
        upper = [value if isinstance(value, str) and _is_group_label(header_key(value)) else None for value in above]
        upper_index, lower, data_start = header_index - 1, header, header_index + 1
    else:
        upper_index, upper, lower, data_start = None, [], header, header_index + 1

    width = max(len(upper), len(lower))
    groups = _spans(upper_index, width, upper, lower, merged) if upper_index is not None else [None] * width
    resolver = _Resolver()
    headers: list[str] = []
    targets: list[str | None] = []
    unknown: list[str] = []
    for column in range(width):
        group = groups[column]
        own = _cell(lower, column)
        if upper_index is not None and own is None and group is None:
            own = _cell(upper, column)  # a single header merged down over both rows
        if group is not None and own is not None and group is not own:
            shown = f"{written_header(group)}/{written_header(own)}"
            target = resolver.resolve(header_key(group), header_key(own))
        elif own is not None or group is not None:
            text = own if own is not None else group
            shown = written_header(text)
            target = resolver.resolve("", header_key(text))
        else:
            headers.append("")
            targets.append(None)
            continue
        if target == IGNORED:
            resolver.warnings.append(f"最多导入两名赡养人，“{shown}”列不会导入")
        elif target is not None and target != "phones" and target in resolver.used:
            resolver.warnings.append(f"“{shown}”列与前面的列重复，只读取第一列")
            target = IGNORED
        elif target is None:
            unknown.append(shown)
        else:
            resolver.used.add(target)
        headers.append(shown)
        targets.append(target)

    plan = ColumnPlan(
        headers=headers,
        targets=targets,
        data_start=data_start,
        header_row=data_start - 1,
        unknown_columns=unknown,
        file_warnings=list(resolver.warnings),
    )
    for shown in unknown:
        plan.file_warnings.append(f"不认识的列“{shown}”，这一列的内容不会导入")
    return plan
