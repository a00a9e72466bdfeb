"""Pinyin initials for search: the per-character shortcut gives what pypinyin gives in context."""

from pypinyin import Style, lazy_pinyin

from registry.models import _char_initial, name_initials


def pypinyin_initials(name):
    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


NAMES = ["王秀英", "张三丰", "李桂兰", "欧阳修", "单雄信", "曾国藩", "解缙", "仇英", "长孙无忌", "尉迟恭", "万俟卨",
         "乐嘉", "朴槿惠", "阿卜杜·热合曼", "A-li", "李2", "", "重阳", "朝阳", "翟平", "查理", "区小平", "覃桂芳"]


def test_initials_match_pypinyin_in_context():
    assert [name_initials(name) for name in NAMES] == [pypinyin_initials(name) for name in NAMES]


def test_characters_whose_initial_depends_on_the_reading_are_read_in_context():
    assert _char_initial("张") == "z"  # zhāng / zhàng: same initial either way
    assert _char_initial("单") is None and _char_initial("曾") is None  # dān / shàn, zēng / céng
    assert name_initials("单雄信") == pypinyin_initials("单雄信")
