"""The registry's pure rules: the registration number's format round-trips and refuses what is not
one; the import reads Chinese or English headers and names the fault of a bad row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.registry.domain import (
    NUMBER,
    BadRow,
    Category,
    ImportRow,
    RegistrationNumber,
    RegistryRuleBroken,
    check_rows,
    header_fields,
    number_of,
    parse_number,
    read_row,
    stage_of_maturity,
)

numbers = st.builds(
    RegistrationNumber,
    code=st.from_regex(r"\A[0-9]{3}\Z"),
    year=st.integers(1000, 9999),
    flag=st.sampled_from(Category),
    serial=st.integers(1, 9999),
)


@given(numbers)
def test_a_number_is_twelve_characters_and_parses_back_written_either_way(number):
    text = str(number)
    assert len(text) == 12 and NUMBER.match(text)
    assert parse_number(text) == number
    assert parse_number(number.spaced) == number
    assert parse_number(text.lower()) == number


@given(st.text(max_size=16))
def test_anything_else_is_refused_naming_the_number(text):
    try:
        number = parse_number(text)
    except RegistryRuleBroken as refusal:
        assert refusal.errors == [{"field": "number", "message": refusal.detail}]
    else:
        assert str(number) == text.strip().upper().replace(" ", "").replace("-", "")


def test_the_year_is_beijings_and_serial_zero_or_past_9999_is_refused():
    # 2026-12-31 17:00 UTC is already 2027 in Beijing.
    assert number_of("310", datetime(2026, 12, 31, 17, tzinfo=UTC), Category.APPLIED, 42).year == 2027
    assert str(number_of("310", datetime(2026, 3, 2, tzinfo=UTC), Category.APPLIED, 42)) == "3102026Y0042"
    with pytest.raises(RegistryRuleBroken):
        parse_number("3102026Y0000")
    with pytest.raises(RegistryRuleBroken):
        number_of("310", datetime(2026, 3, 2, tzinfo=UTC), Category.SOFT, 10_000)


@given(st.integers(1, 9))
def test_readiness_maps_onto_the_three_stages_in_order(maturity):
    order = ["early", "middle", "mature"]
    assert order.index(stage_of_maturity(maturity)) == (maturity - 1) // 3


def test_rows_read_in_chinese_with_words_for_choices_and_faults_named_by_line():
    header = (
        "来源编号 成果名称 成果简介 成果类别 关键词 成果水平 成果阶段 所属领域 "
        "经费来源 项目编号 联系人 联系电话 电子邮箱 完成单位"
    )
    fields = header_fields(header.split())
    cells = (
        "A-1 储氢合金 一种储氢合金。 应用技术 储氢；合金 国内领先 中期 新材料 "
        "国家自然科学基金 52071001 张三 021-65980000"
    )
    good = read_row(2, fields, [*cells.split(), "z@tongji.cn", "同济大学"])
    assert isinstance(good, ImportRow)
    assert good.form["category"] == "Y" and good.form["keywords"] == ["储氢", "合金"]
    assert good.form["level"] == "domestic_leading" and good.form["field"] == "new_materials"
    bad = read_row(
        3, fields, ["A-2", "x", "y", "Y", "a,b,c,d", "other", "early", "other", "", "", "李四", "1", "", "某单位"]
    )
    assert bad == BadRow(3, "keywords", "the registry takes at most 3 keywords")
    again = read_row(4, fields, ["A-1", *good_cells()])
    assert [b.line for b in check_rows([good, bad, again])] == [3, 4]


def good_cells() -> list[str]:
    return ["名称", "简介", "Y", "词", "other", "early", "other", "", "", "王五", "13800000000", "", "某单位"]


def test_a_header_without_a_required_column_is_refused():
    with pytest.raises(RegistryRuleBroken) as refused:
        header_fields(["source_id", "title"])
    assert "summary" in refused.value.detail
