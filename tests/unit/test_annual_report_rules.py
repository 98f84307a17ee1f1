"""The annual report's pure rules (exchange/institutions/annual.py): the year on a Beijing clock, the
counting of disclosures, deals and paid plans, the office's inputs, the summary's totals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from exchange.institutions.annual import (
    AnnualInputs,
    DealFacts,
    InvalidAnnualReport,
    JointBody,
    SummaryRow,
    Tally,
    achievements,
    beijing_year,
    check_inputs,
    deal_section,
    disclosure_facts,
    income,
    totals,
    year_bounds,
)


def test_the_year_runs_from_midnight_to_midnight_in_beijing():
    start, end = year_bounds(2026)
    assert start.astimezone(UTC) == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert beijing_year(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) == 2026  # 23:30 on New Year's Eve
    assert beijing_year(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027  # midnight: the new year
    with pytest.raises(InvalidAnnualReport) as refused:
        year_bounds(1999)
    assert refused.value.errors == [{"field": "year", "message": refused.value.detail}]


def test_disclosures_are_counted_by_asset_kind_funding_and_form():
    government = [{"kind": "other", "funder": "学校"}, {"kind": "government", "funder": "科技部"}]
    rows = [
        disclosure_facts([{"kind": "invention_patent"}, {"kind": "invention_patent"}], government, "transfer"),
        disclosure_facts([{"kind": "software_copyright"}], [], "keep"),
        disclosure_facts([{"kind": "utility_model"}], [{"kind": "other", "funder": "企业"}], "transfer"),
    ]
    found = achievements(rows)
    assert (found.disclosures, found.ip_assets) == (3, 4)
    assert found.by_ip_kind == {"invention_patent": 2, "software_copyright": 1, "utility_model": 1}
    assert found.by_funding == {"government": 1, "other": 2}
    assert found.by_form == {"transfer": 2, "license": 0, "equity": 0, "keep": 1}
    empty = achievements([])
    assert empty.disclosures == 0 and empty.by_form["transfer"] == 0 and empty.by_funding["government"] == 0


def test_deals_are_summed_by_type_in_the_order_they_were_formed():
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    later = datetime(2026, 6, 1, tzinfo=UTC)
    deals = [
        DealFacts("2", "l2", "乙", "license", 30_000_000, "settled", later),
        DealFacts("1", "l1", "甲", "transfer", 50_000_001, "awaiting_payment", moment),
        DealFacts("3", "l3", "丙", "license", 20_000_000, "defaulted", later),
    ]
    section = deal_section(deals)
    assert section.by_type == {
        "transfer": Tally(1, 50_000_001),
        "license": Tally(2, 50_000_000),
        "equity": Tally(0, 0),
    }
    assert section.total == Tally(3, 100_000_001)
    assert [d.deal_id for d in section.deals] == ["1", "2", "3"]


def test_income_splits_paid_plans_into_the_inventors_and_the_retained_part():
    paid = [
        [
            {"kind": "inventor", "name": "张三", "amount": 700},
            {"kind": "institution", "name": "学校", "amount": 200},
            {"kind": "institution", "name": "学院", "amount": 100},
        ],
        [{"kind": "inventor", "name": "李四", "amount": 7}, {"kind": "institution", "name": "学校", "amount": 3}],
    ]
    money = income([1_000, 10, 5], paid)
    assert money.received == Tally(3, 1_015)
    assert (money.plans_paid, money.to_inventors, money.retained) == (2, 707, 303)
    assert money.retained_by_part == {"学校": 203, "学院": 100}


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (AnnualInputs(contracts={"development": Tally(-1, 0)}), "contracts.development.count"),
        (AnnualInputs(contracts={"service": Tally(1, -1)}), "contracts.service.amount"),
        (AnnualInputs(contracts={"consulting": Tally(0, 1)}), "contracts.consulting.amount"),
        (AnnualInputs(joint_bodies=(JointBody("实验室", "", date(2027, 1, 1)),)), "joint_bodies.0.founded_on"),
        (
            AnnualInputs(joint_bodies=(JointBody("实验室", "", None), JointBody("实验室 ", "", None))),
            "joint_bodies.1.name",
        ),
        (AnnualInputs(joint_bodies=(JointBody("", "", None),)), "joint_bodies.0.name"),
        (AnnualInputs(plans="计" * 5001), "plans"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(inputs, field):
    with pytest.raises(InvalidAnnualReport) as refused:
        check_inputs(inputs, 2026)
    assert refused.value.errors[0]["field"] == field


def test_good_inputs_pass():
    check_inputs(
        AnnualInputs(
            contracts={"development": Tally(3, 100)}, joint_bodies=(JointBody("实验室", "企业", date(2026, 12, 31)),)
        ),
        2026,
    )


def test_the_totals_add_every_row():
    rows = [
        SummaryRow("a", "甲大学", disclosures=2, process_deals=Tally(1, 5), received=10, contracts=Tally(2, 3)),
        SummaryRow("b", "乙研究所", disclosures=1, seller_deals=Tally(2, 7), retained=4, joint_bodies=1),
    ]
    total = totals(rows)
    assert total.org_id is None and total.name == "合计"
    assert (total.disclosures, total.process_deals, total.seller_deals) == (3, Tally(1, 5), Tally(2, 7))
    assert (total.received, total.retained, total.contracts, total.joint_bodies) == (10, 4, Tally(2, 3), 1)
