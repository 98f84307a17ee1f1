"""Pure rules of the listing terms a seller answers for: the appraisal of record, the inventors'
declared reward share, and when the auction after an announcement opens."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.platform.settings import Settings, SettingsError
from exchange.server.modules import listing_rules
from exchange.trading.domain import AuctionClosed, AuctionNotOpen, check_auction_open, settlement
from listings.domain import (
    BP,
    MAX_FEN,
    AppraisalOfRecord,
    AppraisalReport,
    ListingContent,
    ListingRules,
    auction_opening,
    auction_opening_at_close,
    relist_floor,
    validate_listing,
)
from listings.errors import InvalidListing
from listings.workdays import BEIJING
from tests.calendar_helpers import PACKAGE
from tests.helpers import listing_body
from tests.unit.test_trading_rules import DEFAULT

TODAY = date(2026, 3, 2)
RULES = ListingRules()
REPORT = AppraisalReport(
    report_number="申城评报字(2026)第0101号", appraiser="申城资产评估事务所", report_date=date(2026, 2, 10)
)
NEW_REPORT = {
    "report_number": "申城评报字(2026)第0202号",
    "appraiser": "申城资产评估事务所",
    "report_date": "2026-03-01",
}
RECORD = AppraisalOfRecord(value=1_000_000, report=REPORT)


def content(pricing: dict, **changes) -> ListingContent:
    body = listing_body("transfer", pricing["mode"], pricing=pricing, **changes)
    body.pop("confidential_details")
    return msgspec.convert(body, ListingContent)


def check(item: ListingContent, *, public: bool = True, relisting: bool = False, record=RECORD, rules=RULES):
    return validate_listing(
        item, rules=rules, today=TODAY, public_institution=public, relisting=relisting, appraisal_of_record=record
    )


def fields_of(raised: pytest.ExceptionInfo[InvalidListing]) -> set[str]:
    return {e["field"] for e in raised.value.errors or []}


# ----------------------------------------------------------------------------------------------
# The appraisal of record


@pytest.mark.parametrize("relisting", [False, True])
def test_leaving_the_appraisal_out_keeps_the_appraisal_of_record(relisting: bool) -> None:
    floor = relist_floor(RECORD.value) if relisting else RECORD.value
    below = content({"mode": "auction", "asking_price": floor - 1})
    with pytest.raises(InvalidListing) as raised:
        check(below, relisting=relisting)
    assert fields_of(raised) == {"pricing.asking_price"}
    assert "of record" in raised.value.errors[0]["message"]
    at_floor = check(content({"mode": "auction", "asking_price": floor}), relisting=relisting)
    assert (at_floor.appraised_value, at_floor.appraisal_report, at_floor.appraisal_replaced) == (
        RECORD.value,
        REPORT,
        None,
    )
    assert at_floor.appraisal_change() == ""


def test_a_listing_never_announced_has_no_appraisal_of_record() -> None:
    drafted = check(content({"mode": "auction", "asking_price": 500_000}), record=None)
    assert drafted.appraised_value is None and drafted.appraisal_report is None


def test_replacing_the_appraisal_needs_a_new_report() -> None:
    lower = {"mode": "auction", "asking_price": 720_000, "appraised_value": 800_000}
    with pytest.raises(InvalidListing) as raised:
        check(content(lower), relisting=True)
    # Refused, the appraisal of record stands: so does its floor.
    assert fields_of(raised) == {"pricing.appraisal_report", "pricing.asking_price"}
    same_number = {**NEW_REPORT, "report_number": REPORT.report_number}
    older = {**NEW_REPORT, "report_date": "2026-01-31"}
    future = {**NEW_REPORT, "report_date": "2026-03-03"}
    for report, field in [
        (same_number, "pricing.appraisal_report.report_number"),
        (older, "pricing.appraisal_report.report_date"),
        (future, "pricing.appraisal_report.report_date"),
    ]:
        with pytest.raises(InvalidListing) as raised:
            check(content({**lower, "appraisal_report": report}), relisting=True)
        assert fields_of(raised) == {field}, report
    with pytest.raises(InvalidListing) as raised:  # a report states a value
        check(content({"mode": "auction", "asking_price": 1_000_000, "appraisal_report": NEW_REPORT}))
    assert fields_of(raised) == {"pricing.appraised_value"}

    replaced = check(content({**lower, "appraisal_report": NEW_REPORT}), relisting=True)
    assert (
        replaced.appraised_value == 800_000 and replaced.appraisal_report.report_number == NEW_REPORT["report_number"]
    )
    assert replaced.appraisal_replaced == RECORD
    change = replaced.appraisal_change()
    assert "replaced" in change and NEW_REPORT["report_number"] in change and REPORT.report_number in change
    # The relisting floor follows the new appraisal: 90% of it.
    with pytest.raises(InvalidListing) as raised:
        check(content({**lower, "asking_price": 719_999, "appraisal_report": NEW_REPORT}), relisting=True)
    assert fields_of(raised) == {"pricing.asking_price"}


def test_the_same_appraisal_restated_is_no_replacement() -> None:
    restated = {"mode": "listed", "asking_price": 1_200_000, "appraised_value": 1_000_000}
    assert check(content(restated)).appraisal_replaced is None
    cited = check(content({**restated, "appraisal_report": msgspec.to_builtins(REPORT)}))
    assert cited.appraisal_replaced is None and cited.appraisal_report == REPORT
    # An appraisal of record without a report (announced before reports were cited) is replaced with one.
    bare = AppraisalOfRecord(value=1_000_000, report=None)
    with pytest.raises(InvalidListing):
        check(content({**restated, "appraised_value": 900_000}), record=bare)
    assert check(content({**restated, "appraised_value": 900_000, "appraisal_report": NEW_REPORT}), record=bare)


def test_other_sellers_keep_their_appraisal_of_record_but_have_no_floor() -> None:
    below = check(content({"mode": "auction", "asking_price": 1}), public=False)
    assert below.asking_price == 1 and below.appraised_value == RECORD.value
    with pytest.raises(InvalidListing) as raised:
        check(content({"mode": "auction", "asking_price": 1, "appraised_value": 2}), public=False)
    assert fields_of(raised) == {"pricing.appraisal_report"}


@given(
    st.integers(min_value=1, max_value=MAX_FEN),
    st.integers(min_value=1, max_value=MAX_FEN),
    st.booleans(),
)
def test_without_an_appraisal_the_floor_is_the_record(appraisal: int, asking: int, relisting: bool) -> None:
    record = AppraisalOfRecord(value=appraisal, report=None)
    floor = relist_floor(appraisal) if relisting else appraisal
    try:
        resolved = check(content({"mode": "listed", "asking_price": asking}), relisting=relisting, record=record)
    except InvalidListing as refused:
        assert asking < floor and {e["field"] for e in refused.errors or []} == {"pricing.asking_price"}
    else:
        assert asking >= floor and resolved.appraised_value == appraisal


# ----------------------------------------------------------------------------------------------
# The inventors' declared reward share


def test_a_public_institution_declares_at_least_the_minimum_share() -> None:
    pricing = {"mode": "negotiated", "asking_price": 1_000_000}
    assert check(content(pricing)).inventor_reward_bp == 7000  # left out: the minimum is declared
    assert check(content(pricing, inventor_reward_bp=8500)).inventor_reward_bp == 8500
    assert check(content(pricing, inventor_reward_bp=BP)).inventor_reward_bp == BP
    with pytest.raises(InvalidListing) as raised:
        check(content(pricing, inventor_reward_bp=6999))
    assert fields_of(raised) == {"inventor_reward_bp"} and "70%" in raised.value.errors[0]["message"]
    # Other sellers declare none: the exchange pays no rewards for them.
    assert check(content(pricing), public=False).inventor_reward_bp is None
    with pytest.raises(InvalidListing) as raised:
        check(content(pricing, inventor_reward_bp=8000), public=False)
    assert fields_of(raised) == {"inventor_reward_bp"}
    with pytest.raises(msgspec.ValidationError):
        content(pricing, inventor_reward_bp=BP + 1)


@given(st.integers(0, BP), st.integers(0, BP))
def test_the_declared_share_is_bounded_below_by_the_setting(minimum: int, declared: int) -> None:
    rules = ListingRules(inventor_reward_min_bp=minimum)
    item = content({"mode": "negotiated", "asking_price": 1_000_000}, inventor_reward_bp=declared)
    try:
        resolved = check(item, rules=rules)
    except InvalidListing:
        assert declared < minimum
    else:
        assert declared >= minimum and resolved.inventor_reward_bp == declared


@given(st.integers(1, 10**13), st.integers(0, BP))
def test_settlement_pays_the_declared_share_of_the_net(price: int, share: int) -> None:
    split = settlement(price, DEFAULT, inventor_reward_bp=share)
    assert split.inventor_reward == (price - split.seller_fee) * share // BP
    assert split.seller_fee + split.inventor_reward + split.seller_proceeds == price


@pytest.mark.parametrize("share", [-1, BP + 1])
def test_settlement_refuses_a_share_outside_the_whole(share: int) -> None:
    with pytest.raises(ValueError, match="inventor reward share"):
        settlement(1_000_000, DEFAULT, inventor_reward_bp=share)


# ----------------------------------------------------------------------------------------------
# When the auction opens


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


TEN = time(10, 0)


@pytest.mark.parametrize(
    ("closes", "opens"),
    [
        (beijing(2026, 3, 31), beijing(2026, 3, 31, 10)),  # 24:00 Monday: Tuesday 10:00, not 00:00
        (beijing(2026, 3, 7), beijing(2026, 3, 9, 10)),  # 24:00 Friday: Monday
        (beijing(2026, 10, 1), beijing(2026, 10, 8, 10)),  # 24:00 on 30 September: after National Day
        (beijing(2026, 9, 30, 15, 30), beijing(2026, 10, 8, 10)),  # any time of a day: the next working day
        (beijing(2026, 9, 20), beijing(2026, 9, 20, 10)),  # 24:00 Saturday 19 September: Sunday 20th is worked
    ],
)
def test_the_auction_opens_at_the_set_time_of_the_next_working_day(closes: datetime, opens: datetime) -> None:
    assert auction_opening(PACKAGE, closes, TEN) == opens
    assert auction_opening(PACKAGE, closes, time(14, 30)) == opens + timedelta(hours=4, minutes=30)


@given(st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 12, 20)), st.times())
def test_the_opening_is_the_set_time_of_the_first_working_day_after(moment: datetime, at: time) -> None:
    closes = moment.replace(tzinfo=UTC)
    opening = PACKAGE.next_working_day_at(closes, at)
    local = opening.astimezone(BEIJING)
    assert PACKAGE.is_working_day(local.date()) and local.time() == at.replace(tzinfo=None)
    last_day = (closes.astimezone(BEIJING) - timedelta(microseconds=1)).date()
    assert local.date() > last_day
    between = [last_day + timedelta(days=n) for n in range(1, (local.date() - last_day).days)]
    assert not any(PACKAGE.is_working_day(day) for day in between)


def test_an_opening_that_passed_before_the_close_was_processed_moves_to_the_next_working_day() -> None:
    closes = beijing(2026, 3, 31)
    announced = beijing(2026, 3, 31, 10)
    assert auction_opening_at_close(PACKAGE, announced, closes, closes + timedelta(seconds=5), TEN) == announced
    assert auction_opening_at_close(PACKAGE, announced, closes, announced, TEN) == announced
    # An objection held the close until Thursday afternoon: Friday 10:00, never at once.
    dismissed = beijing(2026, 4, 2, 15)
    assert auction_opening_at_close(PACKAGE, announced, closes, dismissed, TEN) == beijing(2026, 4, 3, 10)
    # An announcement made before openings were shown: the rule, from its close.
    assert auction_opening_at_close(PACKAGE, None, closes, closes, TEN) == announced


def test_bids_are_taken_from_the_opening_to_the_end() -> None:
    starts, ends = beijing(2026, 3, 31, 10), beijing(2026, 3, 31, 10, 30)
    with pytest.raises(AuctionNotOpen) as early:
        check_auction_open(closed=False, starts_at=starts, ends_at=ends, now=starts - timedelta(seconds=1))
    assert early.value.status == 409 and early.value.problem_type == "auction-not-open"
    assert early.value.extra["opens_at"] == "2026-03-31T02:00:00Z" and "2026-03-31T02:00:00Z" in early.value.detail
    check_auction_open(closed=False, starts_at=starts, ends_at=ends, now=starts)
    for closed, now in [(False, ends), (True, starts)]:
        with pytest.raises(AuctionClosed):
            check_auction_open(closed=closed, starts_at=starts, ends_at=ends, now=now)


# ----------------------------------------------------------------------------------------------
# Settings


def test_the_settings_reach_the_listing_rules() -> None:
    default = listing_rules(Settings.from_env(env={}))
    assert (default.auction_opens_at, default.inventor_reward_min_bp) == (time(10, 0), 7000)
    chosen = listing_rules(
        Settings.from_env(env={"TECHX_AUCTION_OPENS_AT": "9:30", "TECHX_INVENTOR_REWARD_BP": "8000"})
    )
    assert (chosen.auction_opens_at, chosen.inventor_reward_min_bp) == (time(9, 30), 8000)


@pytest.mark.parametrize(
    "env",
    [
        {"TECHX_AUCTION_OPENS_AT": "24:00"},
        {"TECHX_AUCTION_OPENS_AT": "10"},
        {"TECHX_AUCTION_OPENS_AT": "10:5"},
        {"TECHX_AUCTION_OPENS_AT": "ten"},
        {"TECHX_INVENTOR_REWARD_BP": "10001"},
        {"TECHX_INVENTOR_REWARD_BP": "-1"},
    ],
)
def test_settings_the_exchange_cannot_run_with_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env=env)
