"""registry.census.normalize: every spelling the spec accepts, and what it becomes."""

import datetime as dt
from decimal import Decimal

import pytest

from registry.census import normalize as nz
from registry.choices import (
    ElderDifficulty,
    ElderHealth,
    ElderIncomeSource,
    ElderLiving,
    ElderSelfCare,
    ElderSex,
    GuardianRelation,
)


def value(result):
    return result[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("独居", ElderLiving.ALONE),
        ("独居老人", ElderLiving.ALONE),
        ("与配偶同住", ElderLiving.WITH_SPOUSE),
        ("空巢", ElderLiving.WITH_SPOUSE),
        ("夫妻同住", ElderLiving.WITH_SPOUSE),
        ("与老伴同住", ElderLiving.WITH_SPOUSE),
        ("与未成年孙辈同住", ElderLiving.WITH_GRANDCHILDREN),
        ("隔代", ElderLiving.WITH_GRANDCHILDREN),
        ("与孙子女同住", ElderLiving.WITH_GRANDCHILDREN),
        ("与其他亲属同住", ElderLiving.WITH_RELATIVES),
        ("其他", ElderLiving.OTHER),
        (" 独 居\u3000", ElderLiving.ALONE),
    ],
)
def test_living_variants(text, expected):
    result = value(nz.LIVING.normalize(text))
    assert result == expected.value and type(result) is str


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("健康", ElderHealth.HEALTHY),
        ("良好", ElderHealth.HEALTHY),
        ("基本健康", ElderHealth.FAIR),
        ("一般", ElderHealth.FAIR),
        ("患病能自理", ElderHealth.ILL_SELF_CARING),
        ("较差", ElderHealth.ILL_SELF_CARING),
        ("患病不能自理", ElderHealth.ILL_DEPENDENT),
    ],
)
def test_health_variants(text, expected):
    assert value(nz.HEALTH.normalize(text)) == expected.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, ElderSelfCare.INDEPENDENT) for t in ("自理", "完全自理", "能自理", "能力完好")],
        *[(t, ElderSelfCare.PARTIAL) for t in ("半失能", "部分自理", "半自理", "轻度失能", "中度失能")],
        *[(t, ElderSelfCare.DISABLED) for t in ("失能", "不能自理", "完全不能自理", "重度失能", "完全失能")],
    ],
)
def test_self_care_variants(text, expected):
    assert value(nz.SELF_CARE.normalize(text)) == expected.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, GuardianRelation.SON) for t in ("儿子", "子", "长子")],
        *[(t, GuardianRelation.DAUGHTER) for t in ("女儿", "女")],
        *[(t, GuardianRelation.SPOUSE) for t in ("配偶", "老伴", "妻", "夫")],
        ("儿媳", GuardianRelation.DAUGHTER_IN_LAW),
        ("女婿", GuardianRelation.SON_IN_LAW),
        *[(t, GuardianRelation.GRANDCHILD) for t in ("孙子女", "孙子", "孙女")],
        ("其他亲属", GuardianRelation.OTHER_KIN),
    ],
)
def test_relation_variants(text, expected):
    assert value(nz.RELATIONS.normalize(text)) == expected.value


def test_unknown_vocabulary_value_is_an_error_listing_the_options():
    with pytest.raises(nz.FieldError) as error:
        nz.LIVING.normalize("住养老院")
    assert "住养老院" in str(error.value) and "独居、与配偶同住、与未成年孙辈同住、与其他亲属同住、其他" in str(
        error.value
    )


@pytest.mark.parametrize("separator", ["、", "，", ",", ";", "；", "／", "/", " ", "\u3000"])
def test_income_sources_split_on_every_separator(separator):
    assert value(nz.INCOME_SOURCES.normalize_many(f"养老金{separator}子女供养")) == ["pension", "children"]


def test_income_source_aliases_and_duplicates():
    assert value(nz.INCOME_SOURCES.normalize_many("退休金、养老保险、劳动收入、低保金、特困供养金、其他")) == [
        ElderIncomeSource.PENSION.value,
        ElderIncomeSource.LABOUR.value,
        ElderIncomeSource.DIBAO.value,
        ElderIncomeSource.TEKUN.value,
        ElderIncomeSource.OTHER.value,
    ]


def test_difficulties_are_a_list_and_unknown_items_are_named():
    assert value(nz.DIFFICULTIES.normalize_many("生活照料、经济困难、看病就医、精神孤独、安全隐患、其他")) == [
        d.value for d in ElderDifficulty
    ]
    with pytest.raises(nz.FieldError, match="“没钱”"):
        nz.DIFFICULTIES.normalize_many("生活照料、没钱")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ("是", "有", "√", "Y", "y", "1", 1, 1.0, "已签", True, "Ｙ")],
        *[(t, False) for t in ("否", "无", "×", "N", "n", "0", 0, 0.0, "未签", False)],
    ],
)
def test_booleans(text, expected):
    assert value(nz.normalize_bool(text)) is expected


def test_unreadable_boolean_is_an_error():
    with pytest.raises(nz.FieldError, match="是/否"):
        nz.normalize_bool("不清楚")


@pytest.mark.parametrize(
    ("raw", "expected", "approximate"),
    [
        (dt.date(1946, 3, 12), dt.date(1946, 3, 12), False),
        (dt.datetime(1946, 3, 12, 0, 0), dt.date(1946, 3, 12), False),
        ("1946-03-12", dt.date(1946, 3, 12), False),
        ("1946/3/12", dt.date(1946, 3, 12), False),
        ("1946.3.12", dt.date(1946, 3, 12), False),
        ("1946年3月12日", dt.date(1946, 3, 12), False),
        ("19460312", dt.date(1946, 3, 12), False),
        (19460312, dt.date(1946, 3, 12), False),
        (19460312.0, dt.date(1946, 3, 12), False),
        ("1946-03-12 00:00:00", dt.date(1946, 3, 12), False),
        ("１９４６年３月１２日", dt.date(1946, 3, 12), False),
        (16873, dt.date(1946, 3, 12), False),  # a date cell formatted as a number
        ("1946.03", dt.date(1946, 3, 1), True),
        ("1946年3月", dt.date(1946, 3, 1), True),
        (1946.03, dt.date(1946, 3, 1), True),
        (1946.1, dt.date(1946, 10, 1), True),  # typed 1946.10 into a number cell
    ],
)
def test_every_date_form(raw, expected, approximate):
    assert nz.parse_date(raw) == (expected, approximate)


@pytest.mark.parametrize("raw", ["1946-02-30", "1946年13月", "去年", "1946", dt.time(8, 0)])
def test_unreadable_or_impossible_dates_are_errors(raw):
    with pytest.raises(nz.FieldError):
        nz.parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", ["13812345678"]),
        (13812345678, ["13812345678"]),
        (13812345678.0, ["13812345678"]),
        ("138 1234 5678", None),  # spaces separate numbers: these are three bad tokens
        ("138-1234-5678", ["13812345678"]),
        ("+86 13812345678", None),
        ("+8613812345678", ["13812345678"]),
        ("0831-7654321", ["0831-7654321"]),
        ("0831 7654321", ["0831-7654321"]),
        ("(0831)7654321", ["0831-7654321"]),
        ("08317654321", ["0831-7654321"]),
        ("010-12345678", ["010-12345678"]),
        ("13812345678、13987654321", ["13812345678", "13987654321"]),
        ("13812345678，0831-7654321", ["13812345678", "0831-7654321"]),
        (
            "13812345678,13987654321;13712345678／13612345678/13512345678 13412345678",
            ["13812345678", "13987654321", "13712345678", "13612345678", "13512345678", "13412345678"],
        ),
        ("１３８１２３４５６７８", ["13812345678"]),
        ("13812345678、13812345678", ["13812345678"]),
    ],
)
def test_phones(raw, expected):
    if expected is None:
        with pytest.raises(nz.FieldError):
            nz.normalize_phones(raw)
    else:
        assert nz.normalize_phones(raw) == (expected, None)


def test_landline_without_area_code_is_an_error_that_says_so():
    with pytest.raises(nz.FieldError, match="缺少区号"):
        nz.normalize_phones("7654321")


def test_landline_that_lost_its_leading_zero_in_a_number_cell_is_restored_with_a_warning():
    phones, warning = nz.normalize_phones(8317654321)
    assert phones == ["0831-7654321"] and "前面的 0" in warning


@pytest.mark.parametrize("bad", ["12345678901", "1381234567", "电话无", "23812345678"])
def test_invalid_phone_is_an_error(bad):
    with pytest.raises(nz.FieldError, match="手机号应为 11 位"):
        nz.normalize_phones(bad)


def test_single_phone_keeps_the_first_and_warns_about_the_rest():
    phone, warning = nz.normalize_phone("13812345678、13987654321")
    assert phone == "13812345678" and "13987654321" in warning


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("李家湾村委会", "李家湾村"),
        ("李家湾村民委员会", "李家湾村"),
        ("李家湾", "李家湾村"),
        ("李家湾村", "李家湾村"),
        ("李家湾村委", "李家湾村"),
        (" 李家湾 村 ", "李家湾村"),
        ("东街社区", "东街社区"),
        ("东街社区居民委员会", "东街社区"),
        ("东街居委会", "东街居委会"),
        ("511529100201", "511529100201"),
        (511529100201, "511529100201"),
        (511529100201.0, "511529100201"),
        ("５１１５２９１００２０１", "511529100201"),
    ],
)
def test_village_names_and_codes(raw, expected):
    assert value(nz.normalize_village(raw)) == expected


@pytest.mark.parametrize("raw", ["511529100", "村委会", "村"])
def test_village_that_is_not_a_village_is_an_error(raw):
    with pytest.raises(nz.FieldError):
        nz.normalize_village(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", "第3组"),
        (3, "第3组"),
        (3.0, "第3组"),
        ("3组", "第3组"),
        ("三组", "第3组"),
        ("第三组", "第3组"),
        ("第3组", "第3组"),
        ("十二组", "第12组"),
        ("二十三组", "第23组"),
        ("３组", "第3组"),
        ("上坝组", "上坝组"),
    ],
)
def test_village_group_forms(raw, expected):
    assert value(nz.normalize_group(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("张  三", "张三"),
        ("\u3000张三 ", "张三"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("Ｌｉ", "Li"),
    ],
)
def test_names(raw, expected):
    assert value(nz.normalize_name(raw)) == expected


def test_name_longer_than_30_characters_is_an_error():
    assert value(nz.normalize_name("张" * 30)) == "张" * 30
    with pytest.raises(nz.FieldError, match="最多 30 个字"):
        nz.normalize_name("张" * 31)


def test_ethnicity_han_and_unknown():
    assert nz.normalize_ethnicity("汉") == ("汉族", None)
    assert nz.normalize_ethnicity("彝") == ("彝族", None)
    assert nz.normalize_ethnicity("土家族") == ("土家族", None)
    text, warning = nz.normalize_ethnicity("穿青人")
    assert text == "穿青人" and "56 个民族" in warning


def test_sex_values_and_unreadable_sex_is_only_a_warning():
    assert nz.normalize_sex("男") == (ElderSex.MALE.value, None)
    assert nz.normalize_sex("女") == (ElderSex.FEMALE.value, None)
    result, warning = nz.normalize_sex("不详")
    assert result is None and "按身份证号" in warning


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1200元", Decimal("1200")),
        ("1,200", Decimal("1200")),
        ("１２００", Decimal("1200")),
        (1200, Decimal("1200")),
        (1200.0, Decimal("1200")),
        ("860.5", Decimal("860.50")),
        ("0", Decimal("0")),
        ("¥300", Decimal("300")),
        ("1,200元/月", Decimal("1200")),
    ],
)
def test_monthly_income_forms(raw, expected):
    assert value(nz.normalize_income(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"), [("-100", "负数"), (-5, "负数"), ("约一千", "不是金额"), ("1000左右", "不是金额")]
)
def test_bad_monthly_income(raw, fragment):
    with pytest.raises(nz.FieldError, match=fragment):
        nz.normalize_income(raw)


def test_text_is_nfkc_folded_and_trimmed_and_undoes_the_export_apostrophe():
    assert nz.to_text("\u3000ＡＢＣ１２３ ") == "ABC123"
    assert nz.to_text("'=SUM(A1)") == "=SUM(A1)"
    assert nz.to_text("'普通") == "'普通"
    assert nz.to_text("a\u200bb") == "ab"
    assert nz.to_text(12.0) == "12"


def test_vocabulary_canonical_texts_are_the_choice_labels():
    """The first text of each vocabulary entry is what registry.choices shows (zh-hans)."""
    import django
    from django.conf import settings
    from django.utils import translation

    if not settings.configured:  # running without pytest-django: a minimal, database-free setup
        settings.configure(USE_I18N=True, INSTALLED_APPS=[])
        django.setup()

    from registry import choices

    pairs = [
        (nz.SEXES, choices.ElderSex),
        (nz.LIVING, choices.ElderLiving),
        (nz.HEALTH, choices.ElderHealth),
        (nz.SELF_CARE, choices.ElderSelfCare),
        (nz.INCOME_SOURCES, choices.ElderIncomeSource),
        (nz.DIFFICULTIES, choices.ElderDifficulty),
        (nz.RELATIONS, choices.GuardianRelation),
    ]
    with translation.override("zh-hans"):
        for vocabulary, enum in pairs:
            assert vocabulary.labels == {member.value: str(member.label) for member in enum}


_CJK = "".join(map(chr, range(0x4E00, 0xA000)))


@pytest.mark.parametrize("normalizer", list(nz.PLAIN_CELLS))
def test_plain_cells_are_their_own_value(normalizer):
    """The engine takes a cell that matches normalize.PLAIN_CELLS[normalizer] as its value without
    calling the normaliser: that must be exactly what the normaliser would give."""
    plain = nz.PLAIN_CELLS[normalizer]
    if normalizer in (nz.normalize_phones, nz.normalize_phone):
        samples = ["13800000000", "19912345678", "15011112222"]
    else:
        # Every ideograph of the range, alone and thirty at a time, and ASCII letters and digits.
        samples = [*_CJK, *(_CJK[i:i + 30] for i in range(0, len(_CJK), 30)), "张三", "李家湾村3组15号", "Li", "A1"]
    for text in samples:
        assert plain(text), text
        expected = [text] if normalizer is nz.normalize_phones else text
        assert normalizer(text) == (expected, None), text


@pytest.mark.parametrize(
    ("text", "phone"),
    [("", ""), (" 张三", " 13800000000"), ("张三 ", "13800000000 "), ("张 三", "138 0000 0000"), ("张\u200b三", "1380000000"),
     ("'=1", "12800000000"), ("阿依古丽·买买提", "+8613800000000"), ("Ｌｉ", "１３８００００００００"), ("张" * 31, "138-0000-0000"),
     ("﨑", "0831-7654321"), ("⺠", "13800000000、13900000000")],
)
def test_cells_that_need_their_normaliser_are_not_plain(text, phone):
    """Spaces, invisible characters, a leading apostrophe, dots, full-width or compatibility
    characters, names over 30 characters, anything but one plain mobile number: the normaliser's."""
    assert not nz.PLAIN_CELLS[nz.normalize_name](text)
    assert not nz.PLAIN_CELLS[nz.normalize_text](text) or len(text) > 30  # free text has no length limit
    assert not nz.PLAIN_CELLS[nz.normalize_phones](phone)
