"""Pure listing rules: the lifecycle table (every state × every action), validation, money defaults."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from kernel.errors import InvalidCursor, InvalidState, OrgNotVerified, OrgSuspended
from kernel.keyring import KeyRing
from kernel.pagination import cursor_int, cursor_time, cursor_uuid, decode_cursor, encode_cursor
from listings import crypto
from listings.domain import (
    BP,
    MAX_FEN,
    PUBLIC_STATUSES,
    TRANSITIONS,
    YUAN_100,
    Action,
    Actor,
    ListingContent,
    ListingRules,
    ListingStatus,
    NoticeKind,
    add_months,
    default_deposit,
    default_increment,
    deposit_within_limit,
    next_status,
    notice_period,
    relist_floor,
    validate_listing,
)
from listings.errors import InvalidListing
from listings.search import fts5_query, index_words, query_words
from tests.calendar_helpers import PACKAGE
from tests.helpers import listing_body

S = ListingStatus
A = Action
TODAY = date(2026, 3, 2)
RULES = ListingRules()

# The lifecycle of SPEC §2.1, written out independently of the table under test.
EXPECTED = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.UNDER_REVIEW,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, A.APPROVE): S.ANNOUNCED,
    (S.UNDER_REVIEW, A.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.REJECTED, A.REVISE): S.DRAFT,
    (S.ANNOUNCED, A.AMEND): S.ANNOUNCED,
    (S.ANNOUNCED, A.SUSPEND): S.SUSPENDED,
    (S.ANNOUNCED, A.UPHOLD_OBJECTION): S.REJECTED,
    (S.ANNOUNCED, A.END_ANNOUNCEMENT): S.CLOSING,
    (S.ANNOUNCED, A.WITHDRAW): S.WITHDRAWN,
    (S.SUSPENDED, A.UPHOLD_OBJECTION): S.REJECTED,
    (S.SUSPENDED, A.END_ANNOUNCEMENT): S.CLOSING,
    (S.CLOSING, A.CLOSE_UNSOLD): S.UNSOLD,
    (S.CLOSING, A.START_NEGOTIATION): S.NEGOTIATING,
    (S.CLOSING, A.START_AUCTION): S.AUCTIONING,
    (S.UNSOLD, A.RELIST): S.ANNOUNCED,
    (S.UNSOLD, A.WITHDRAW): S.WITHDRAWN,
    (S.NEGOTIATING, A.FORM_DEAL): S.DEAL_FORMED,
    (S.NEGOTIATING, A.CLOSE_UNSOLD): S.UNSOLD,
    (S.AUCTIONING, A.FORM_DEAL): S.DEAL_FORMED,
    (S.AUCTIONING, A.CLOSE_UNSOLD): S.UNSOLD,
    (S.DEAL_FORMED, A.CANCEL_DEAL): S.UNSOLD,
    (S.DEAL_FORMED, A.COMPLETE_SALE): S.SOLD,
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(ListingStatus, Action)))
def test_every_state_and_action(state: ListingStatus, action: Action) -> None:
    if (state, action) in EXPECTED:
        assert next_status(state, action) is EXPECTED[(state, action)]
    else:
        with pytest.raises(InvalidState) as raised:
            next_status(state, action)
        assert raised.value.status == 409 and raised.value.problem_type == "invalid-state"
        assert raised.value.state == state.value and state.value in raised.value.detail


def test_the_table_is_exactly_the_lifecycle() -> None:
    assert dict(TRANSITIONS) == EXPECTED
    assert {S.SOLD, S.WITHDRAWN} == {s for s in ListingStatus if not any(k[0] is s for k in TRANSITIONS)}


def test_only_announced_listings_are_public() -> None:
    assert {S.DRAFT, S.UNDER_REVIEW, S.REJECTED, S.WITHDRAWN}.isdisjoint(PUBLIC_STATUSES)
    assert S.ANNOUNCED in PUBLIC_STATUSES and S.SOLD in PUBLIC_STATUSES


# ----------------------------------------------------------------------------------------------
# Validation


def content(deal_type: str = "transfer", mode: str = "listed", **changes) -> ListingContent:
    body = listing_body(deal_type, mode, **changes)
    body.pop("confidential_details")
    return msgspec.convert(body, ListingContent)


def errors_of(raised: pytest.ExceptionInfo[InvalidListing]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in raised.value.errors or []}


def check(item: ListingContent, public: bool = False, relisting: bool = False):
    return validate_listing(item, rules=RULES, today=TODAY, public_institution=public, relisting=relisting)


@pytest.mark.parametrize("deal", ["transfer", "license", "equity"])
@pytest.mark.parametrize("mode", ["negotiated", "listed", "auction"])
def test_every_deal_type_in_every_mode_is_valid(deal: str, mode: str) -> None:
    pricing = check(content(deal, mode), public=True)
    assert pricing.deposit == 5_000_000  # 10% of ¥500,000
    assert pricing.increment == (None if mode == "negotiated" else 500_000)  # 1% = ¥5,000


def test_patents_need_an_expiry_date() -> None:
    item = content(ip_assets=[{"kind": "utility_model", "number": "ZL1", "title": "结构"}])
    with pytest.raises(InvalidListing) as raised:
        check(item)
    assert "ip_assets.0.expires_on" in errors_of(raised)
    know_how = content(ip_assets=[{"kind": "know_how", "number": "KH-1", "title": "工艺诀窍"}])
    assert check(know_how).deposit > 0


def test_expired_rights_and_duplicates_are_refused() -> None:
    item = content(
        ip_assets=[
            {"kind": "invention_patent", "number": "ZL1", "title": "a", "expires_on": "2026-03-02"},
            {"kind": "invention_patent", "number": "zl1", "title": "b", "expires_on": "2040-01-01"},
        ]
    )
    with pytest.raises(InvalidListing) as raised:
        check(item)
    assert set(errors_of(raised)) == {"ip_assets.0.expires_on", "ip_assets.1.number"}


def test_a_licence_may_not_outlive_the_earliest_patent() -> None:
    assets = [
        {"kind": "invention_patent", "number": "ZL1", "title": "a", "expires_on": "2040-01-01"},
        {"kind": "utility_model", "number": "ZL2", "title": "b", "expires_on": "2029-03-02"},
    ]
    fits = content(deal={"type": "license", "term_months": 36}, ip_assets=assets)
    assert check(fits).deposit > 0  # 2026-03-02 + 36 months = 2029-03-02, the expiry day itself
    too_long = content(deal={"type": "license", "term_months": 37}, ip_assets=assets)
    with pytest.raises(InvalidListing) as raised:
        check(too_long)
    assert "2029-03-02" in errors_of(raised)["deal.term_months"]


def test_licence_defaults() -> None:
    item = content(deal={"type": "license", "term_months": 12})
    assert item.deal.scope.value == "non_exclusive" and item.deal.territory == "CN"


def test_equity_needs_an_appraisal() -> None:
    item = content("equity", pricing={"mode": "negotiated", "asking_price": 1_000_000})
    with pytest.raises(InvalidListing) as raised:
        check(item)
    assert "pricing.appraised_value" in errors_of(raised)


def test_deposit_at_most_thirty_percent() -> None:
    ok = content(pricing={"mode": "listed", "asking_price": 1_000_000, "deposit": 300_000})
    assert check(ok).deposit == 300_000
    too_much = content(pricing={"mode": "listed", "asking_price": 1_000_000, "deposit": 300_001})
    with pytest.raises(InvalidListing) as raised:
        check(too_much)
    assert "pricing.deposit" in errors_of(raised)


def test_negotiated_listings_have_no_increment_and_increments_fit_the_price() -> None:
    with pytest.raises(InvalidListing) as raised:
        check(content(pricing={"mode": "negotiated", "asking_price": 1_000_000, "increment": 10_000}))
    assert "pricing.increment" in errors_of(raised)
    with pytest.raises(InvalidListing) as raised:
        check(content(pricing={"mode": "auction", "asking_price": 1_000_000, "increment": 1_000_001}))
    assert "pricing.increment" in errors_of(raised)


@pytest.mark.parametrize("mode", ["listed", "auction"])
def test_public_institutions_list_at_or_above_the_appraisal(mode: str) -> None:
    below = content(mode=mode, pricing={"mode": mode, "asking_price": 899_999, "appraised_value": 1_000_000})
    assert check(below, public=False).asking_price == 899_999  # an enterprise may
    with pytest.raises(InvalidListing) as raised:
        check(below, public=True)
    assert "pricing.asking_price" in errors_of(raised)
    # A relisting may go down to 90% of the appraisal, not below.
    at_floor = content(mode=mode, pricing={"mode": mode, "asking_price": 900_000, "appraised_value": 1_000_000})
    assert check(at_floor, public=True, relisting=True).asking_price == 900_000
    with pytest.raises(InvalidListing):
        check(below, public=True, relisting=True)


def test_negotiated_mode_has_no_appraisal_floor() -> None:
    item = content(pricing={"mode": "negotiated", "asking_price": 100, "appraised_value": 1_000_000})
    assert check(item, public=True).asking_price == 100


def test_all_problems_are_reported_at_once() -> None:
    item = content(
        "equity",
        ip_assets=[{"kind": "design_patent", "number": "ZL3", "title": "外观"}],
        pricing={"mode": "listed", "asking_price": 1000, "deposit": 999},
    )
    with pytest.raises(InvalidListing) as raised:
        check(item)
    assert set(errors_of(raised)) == {"ip_assets.0.expires_on", "pricing.appraised_value", "pricing.deposit"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"title": ""}, "$.title"),
        ({"title": "x" * 201}, "$.title"),
        ({"summary": "x" * 5001}, "$.summary"),
        ({"field": "astrology"}, "$.field"),
        ({"maturity": 10}, "$.maturity"),
        ({"keywords": ["k"] * 21}, "$.keywords"),
        ({"ip_assets": []}, "$.ip_assets"),
        ({"deal": {"type": "license", "term_months": 241}}, "$.deal.term_months"),
        ({"deal": {"type": "lease"}}, "$.deal"),
        ({"pricing": {"mode": "listed", "asking_price": 0}}, "$.pricing.asking_price"),
        ({"pricing": {"mode": "listed", "asking_price": -5}}, "$.pricing.asking_price"),
        ({"pricing": {"mode": "barter", "asking_price": 5}}, "$.pricing.mode"),
    ],
)
def test_shapes_that_cannot_be_decoded(change, path) -> None:
    body = listing_body(**change)
    body.pop("confidential_details")
    with pytest.raises(msgspec.ValidationError, match=path.replace("$", r"\$").replace(".", r"\.")):
        msgspec.convert(body, ListingContent)


# ----------------------------------------------------------------------------------------------
# Money arithmetic

prices = st.integers(min_value=1, max_value=MAX_FEN)


@given(prices, st.integers(min_value=1, max_value=BP))
def test_default_deposit_is_the_share_rounded_down(asking: int, bp: int) -> None:
    deposit = default_deposit(asking, bp)
    assert deposit * BP <= asking * bp < (deposit + 1) * BP
    assert deposit_within_limit(deposit, asking, bp)


@given(prices, st.integers(min_value=1, max_value=BP))
def test_default_increment_is_the_share_rounded_up_to_100_yuan(asking: int, bp: int) -> None:
    increment = default_increment(asking, bp)
    assert increment % YUAN_100 == 0 and increment >= YUAN_100
    assert increment * BP >= asking * bp  # at least the share
    assert increment == YUAN_100 or (increment - YUAN_100) * BP < asking * bp  # and the least such multiple


def test_increment_examples() -> None:
    assert default_increment(50_000_000, 100) == 500_000  # ¥500,000 → ¥5,000
    assert default_increment(50_000_100, 100) == 510_000  # ¥5,000.01 rounds up to ¥5,100
    assert default_increment(100, 100) == 10_000  # never below ¥100


@given(st.integers(min_value=1, max_value=MAX_FEN), st.integers(min_value=1, max_value=MAX_FEN))
def test_relist_floor_is_ninety_percent_rounded_up(appraisal: int, asking: int) -> None:
    floor = relist_floor(appraisal)
    assert floor * 10 >= appraisal * 9 > (floor - 1) * 10
    item = content(pricing={"mode": "auction", "asking_price": asking, "appraised_value": appraisal})
    allowed = asking * 10 >= appraisal * 9
    try:
        check(item, public=True, relisting=True)
        accepted = True
    except InvalidListing:
        accepted = False
    assert accepted is allowed


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)), st.integers(min_value=0, max_value=240))
def test_add_months_lands_in_the_right_month(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year - day.year) * 12 + result.month - day.month == months
    assert result.day <= day.day


def test_notice_periods_follow_the_settings() -> None:
    opens = datetime(2026, 3, 2, 1, tzinfo=UTC)  # Monday 09:00 in Beijing
    rules = ListingRules(announcement_working_days=20, negotiated_price_notice_days=15)
    assert notice_period(NoticeKind.LISTING_ANNOUNCEMENT, rules).end(opens, PACKAGE) == datetime(
        2026, 3, 30, 16, tzinfo=UTC
    )
    assert notice_period(NoticeKind.NEGOTIATED_PRICE, rules).end(opens, PACKAGE) == datetime(
        2026, 3, 17, 16, tzinfo=UTC
    )
    assert notice_period(NoticeKind.DEAL_RESULT, rules).end(opens, PACKAGE) == datetime(2026, 3, 9, 16, tzinfo=UTC)


def test_actor_guards() -> None:
    actor = Actor(uuid.uuid4(), uuid.uuid4(), "x", "enterprise", False, True, False, False, True)
    with pytest.raises(OrgNotVerified):
        actor.require_trader()
    suspended = Actor(uuid.uuid4(), uuid.uuid4(), "x", "enterprise", True, False, False, False, True)
    with pytest.raises(OrgSuspended):
        suspended.require_trader()


# ----------------------------------------------------------------------------------------------
# Crypto, canonical JSON and segmentation


def test_sealed_details_open_only_with_the_key_and_the_listing_id() -> None:
    key, other_key = data_ring(b"k" * 32), data_ring(b"j" * 32)
    listing, other_listing = uuid.uuid4(), uuid.uuid4()
    sealed = crypto.seal(key, listing, "配方: 掺杂 0.25 mol Ta")
    assert crypto.unseal(key, listing, sealed) == "配方: 掺杂 0.25 mol Ta"
    assert crypto.seal(key, listing, "配方") != crypto.seal(key, listing, "配方")  # fresh nonce each time
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unseal(other_key, listing, sealed)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unseal(key, other_listing, sealed)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unseal(key, listing, sealed[:-1] + bytes([sealed[-1] ^ 1]))


def data_ring(key: bytes, key_id: str = "0" * 16) -> KeyRing[bytes]:
    return KeyRing(key_id, {key_id: key})


def test_sealed_details_name_their_data_key_and_open_after_a_rotation() -> None:
    listing = uuid.uuid4()
    old = data_ring(b"k" * 32, "a" * 16)
    sealed = crypto.seal(old, listing, "配方")
    assert sealed[:1] == b"\x02" and crypto.key_id_of(sealed) == "a" * 16
    rotated = KeyRing("b" * 16, {"a" * 16: b"k" * 32, "b" * 16: b"j" * 32})
    assert crypto.unseal(rotated, listing, sealed) == "配方"
    moved = crypto.reseal(rotated, listing, sealed)
    assert moved is not None and crypto.key_id_of(moved) == "b" * 16
    assert crypto.unseal(data_ring(b"j" * 32, "b" * 16), listing, moved) == "配方"
    assert crypto.reseal(rotated, listing, moved) is None  # on the current key already
    with pytest.raises(crypto.DecryptionFailed, match="not in the key ring"):
        crypto.unseal(data_ring(b"j" * 32, "b" * 16), listing, sealed)
    # The format without a key id (earlier versions): the legacy key opens it.
    nonce = bytes(12)
    legacy = b"\x01" + nonce + AESGCM(b"k" * 32).encrypt(nonce, "旧".encode(), listing.bytes)
    assert crypto.key_id_of(legacy) is None
    assert crypto.unseal(KeyRing("b" * 16, rotated.keys, legacy_id="a" * 16), listing, legacy) == "旧"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unseal(rotated, listing, legacy)


def test_chinese_segmentation_finds_words_inside_words() -> None:
    words = index_words("固态锂电池制备方法").split()
    assert {"电池", "锂电池", "固态", "制备"} <= set(words)
    assert query_words("固态 电池!") == ["固态", "电池"]
    assert query_words("Lithium-ION") == ["lithium", "ion"]
    assert fts5_query(["电池", 'a"b']) == '"电池" "a""b"'


def test_keywords_and_related_party_codes_are_checked() -> None:
    item = content(keywords=["储能", " ", "x" * 51], inventors=[{"name": "李明", "related_to_buyer": ["123"]}])
    with pytest.raises(InvalidListing) as raised:
        check(item)
    assert set(errors_of(raised)) == {"keywords.1", "keywords.2", "inventors.0.related_to_buyer.0"}


@pytest.mark.parametrize(
    "cursor",
    ["%%%", "bm90IGpzb24", encode_cursor({"other": 1}), encode_cursor({"offset": -1}), encode_cursor({"offset": "3"})],
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        position = decode_cursor(cursor, "offset")
        cursor_int(position or {}, "offset")


def test_cursors_round_trip() -> None:
    moment = datetime(2026, 3, 2, 1, tzinfo=UTC)
    listing = uuid.uuid4()
    position = decode_cursor(encode_cursor({"t": moment.isoformat(), "i": str(listing)}), "t", "i")
    assert position is not None
    assert cursor_time(position, "t") == moment and cursor_uuid(position, "i") == listing
    for bad in ({"t": "yesterday", "i": "x"}, {"t": "2026-03-02T01:00:00", "i": "x"}):
        with pytest.raises(InvalidCursor):
            cursor_time(bad, "t")
        with pytest.raises(InvalidCursor):
            cursor_uuid(bad, "i")


def test_the_sellers_answer_to_an_objection_is_its_sides_once_while_pending_and_as_long_as_a_reason():
    from kernel.errors import Forbidden
    from listings.domain import ObjectionStatus, checked_objection_answer, objection_answerable
    from listings.errors import InvalidRequest, ObjectionAnswered

    pending = ObjectionStatus.PENDING
    ok = {"status": pending, "answered": False, "answering_side": True, "objector": False}
    assert checked_objection_answer("  专利年费已按期缴纳，权利有效。 ", **ok) == "专利年费已按期缴纳，权利有效。"
    with pytest.raises(Forbidden):
        checked_objection_answer("专利年费已按期缴纳，权利有效。", **{**ok, "answering_side": False})
    with pytest.raises(Forbidden):  # the objector's own organisation answers no objection of its own
        checked_objection_answer("专利年费已按期缴纳，权利有效。", **{**ok, "objector": True})
    for status in (ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED, ObjectionStatus.LAPSED):
        with pytest.raises(InvalidState):
            checked_objection_answer("专利年费已按期缴纳，权利有效。", **{**ok, "status": status})
        assert not objection_answerable(status, False)
    with pytest.raises(ObjectionAnswered):
        checked_objection_answer("专利年费已按期缴纳，权利有效。", **{**ok, "answered": True})
    for text in ("太短了", " " * 20 + "九个字九个字九个字", "长" * 2001):
        with pytest.raises(InvalidRequest) as refused:
            checked_objection_answer(text, **ok)
        assert refused.value.errors == [{"field": "answer", "message": refused.value.detail}]
    assert checked_objection_answer("长" * 2000, **ok) == "长" * 2000
    assert objection_answerable(pending, False) and not objection_answerable(pending, True)
