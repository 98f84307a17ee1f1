"""The ledger's pure rules: entry shape, balances, holds, no_overdraft, and the in-memory book."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import (
    MAX_AMOUNT,
    AccountState,
    AccountType,
    Book,
    EntrySpec,
    Leg,
    Phase,
    PostingSpec,
    Side,
    Status,
    check_entry,
    entry_legs,
    entry_status,
    is_expired,
    phase_deltas_are_consistent,
    post_legs,
    release_legs,
    reversal_legs,
)
from ledger.errors import (
    AccountClosed,
    BalanceOverflow,
    DomainError,
    InsufficientFunds,
    InvalidEntry,
    UnbalancedEntry,
    UnitMismatch,
    UnknownAccount,
    UnknownUnit,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def account(
    type_: str = "liability", *, no_overdraft: bool = False, unit: str = "CNY", **balances: int
) -> AccountState:
    return AccountState(
        id=uuid.uuid4(),
        code=f"t:{uuid.uuid4().hex[:6]}",
        unit=unit,
        type=AccountType(type_),
        no_overdraft=no_overdraft,
        **balances,
    )


def transfer(debit: AccountState, credit: AccountState, amount: int, **kw: object) -> EntrySpec:
    return EntrySpec.transfer(debit.id, credit.id, amount, unit="CNY", kind="transfer", **kw)  # type: ignore[arg-type]


# -- accounts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "side"),
    [("asset", "debit"), ("expense", "debit"), ("liability", "credit"), ("equity", "credit"), ("revenue", "credit")],
)
def test_each_account_type_has_its_normal_side(type_, side):
    assert AccountType(type_).normal_side is Side(side)


def test_available_is_the_normal_balance_less_pending_outflows():
    wallet = account("liability", credits_posted=1000, debits_posted=200, debits_pending=300, credits_pending=50)
    assert wallet.balance == 800
    assert wallet.pending_outflow == 300  # pending inflows (credits) do not count
    assert wallet.available == 500
    bank = account("asset", debits_posted=1000, credits_posted=100, credits_pending=400, debits_pending=70)
    assert (bank.balance, bank.pending_outflow, bank.available) == (900, 400, 500)


# -- entry shape ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postings", "error"),
    [
        ([("debit", 100), ("credit", 90)], UnbalancedEntry),
        ([("debit", 100)], InvalidEntry),
        ([("debit", 0), ("credit", 0)], InvalidEntry),
        ([("debit", -5), ("credit", -5)], InvalidEntry),
        ([("debit", MAX_AMOUNT + 1), ("credit", MAX_AMOUNT + 1)], InvalidEntry),
        ([("credit", 50), ("credit", 50)], InvalidEntry),
    ],
)
def test_malformed_entries_are_refused(postings, error):
    spec = EntrySpec("CNY", "transfer", tuple(PostingSpec(uuid.uuid4(), Side(s), a) for s, a in postings))
    with pytest.raises(error):
        check_entry(spec)


def test_a_balanced_entry_with_several_postings_is_accepted():
    a, b, c = (uuid.uuid4() for _ in range(3))
    spec = EntrySpec(
        "CNY",
        "settlement",
        (PostingSpec(a, Side.DEBIT, 100), PostingSpec(b, Side.CREDIT, 95), PostingSpec(c, Side.CREDIT, 5)),
    )
    check_entry(spec)  # does not raise


def test_an_entry_is_in_a_known_unit_with_a_lower_case_kind():
    a, b = account(), account()
    with pytest.raises(UnknownUnit):
        check_entry(EntrySpec.transfer(a.id, b.id, 1, unit="USD", kind="transfer"))
    with pytest.raises(InvalidEntry):
        check_entry(EntrySpec.transfer(a.id, b.id, 1, unit="CNY", kind="Not A Kind"))


def test_a_hold_has_exactly_two_postings_between_two_accounts():
    a, b, c = account(), account(), account()
    three = EntrySpec(
        "CNY",
        "deposit_hold",
        (PostingSpec(a.id, Side.DEBIT, 10), PostingSpec(b.id, Side.CREDIT, 5), PostingSpec(c.id, Side.CREDIT, 5)),
        pending=True,
    )
    with pytest.raises(InvalidEntry, match="exactly two postings"):
        check_entry(three)
    with pytest.raises(InvalidEntry, match="two different accounts"):
        check_entry(transfer(a, a, 10, pending=True))
    with pytest.raises(InvalidEntry, match="only a pending entry"):
        check_entry(transfer(a, b, 10, timeout_seconds=60))
    check_entry(transfer(a, b, 10, pending=True, timeout_seconds=60))


# -- legs and phases ----------------------------------------------------------------------------------


def test_posting_part_of_a_hold_posts_that_part_and_releases_all_of_it():
    a, b = account(), account()
    hold = entry_legs(transfer(a, b, 123, pending=True))
    assert [(leg.posted_delta, leg.pending_delta) for leg in hold] == [(0, 123), (0, 123)]
    assert [(leg.posted_delta, leg.pending_delta) for leg in post_legs(hold, 100)] == [(100, -123), (100, -123)]
    assert [(leg.posted_delta, leg.pending_delta) for leg in release_legs(hold)] == [(0, -123), (0, -123)]
    assert phase_deltas_are_consistent(Phase.POST_PENDING, post_legs(hold, 100), held=123)
    assert not phase_deltas_are_consistent(Phase.VOID_PENDING, post_legs(hold, 100), held=123)


def test_a_reversal_mirrors_what_was_posted():
    a, b = account(), account()
    original = entry_legs(transfer(a, b, 70))
    mirrored = reversal_legs(original)
    assert [(leg.account_id, leg.side, leg.amount) for leg in mirrored] == [
        (a.id, Side.CREDIT, 70),
        (b.id, Side.DEBIT, 70),
    ]


@pytest.mark.parametrize(
    ("phase", "resolution", "reversed_", "status"),
    [
        (Phase.PENDING, None, False, Status.PENDING),
        (Phase.PENDING, Phase.POST_PENDING, False, Status.POSTED),
        (Phase.PENDING, Phase.VOID_PENDING, False, Status.VOIDED),
        (Phase.PENDING, Phase.EXPIRE_PENDING, False, Status.EXPIRED),
        (Phase.POSTED, None, False, Status.POSTED),
        (Phase.POSTED, None, True, Status.REVERSED),
        (Phase.POST_PENDING, None, True, Status.REVERSED),
        (Phase.VOID_PENDING, None, False, Status.VOIDED),
    ],
)
def test_an_entry_reads_as_its_resolution_or_reversal_says(phase, resolution, reversed_, status):
    assert entry_status(phase, resolution=resolution, reversed_=reversed_) is status


def test_a_hold_expires_at_its_timeout_and_never_before():
    expires = NOW + timedelta(hours=1)
    assert not is_expired(expires, expires - timedelta(microseconds=1))
    assert is_expired(expires, expires)
    assert not is_expired(None, NOW + timedelta(days=3650))


# -- the book -----------------------------------------------------------------------------------------


def test_no_overdraft_counts_pending_outflows_when_a_hold_is_made():
    wallet = account("liability", no_overdraft=True, credits_posted=100)
    escrow = account("liability")
    book = Book([wallet, escrow])
    book.apply("CNY", entry_legs(transfer(wallet, escrow, 70, pending=True)))
    assert wallet.available == 30
    with pytest.raises(InsufficientFunds):
        book.apply("CNY", entry_legs(transfer(wallet, escrow, 31, pending=True)))
    with pytest.raises(InsufficientFunds):
        book.apply("CNY", entry_legs(transfer(wallet, escrow, 31)))
    book.apply("CNY", entry_legs(transfer(wallet, escrow, 30)))
    assert wallet.available == 0


def test_a_failed_entry_changes_nothing_in_the_book():
    wallet = account("liability", no_overdraft=True, credits_posted=50)
    other = account("liability")
    book = Book([wallet, other])
    before = (wallet.balances(), wallet.version, other.balances(), other.version)
    with pytest.raises(InsufficientFunds):
        book.apply("CNY", entry_legs(transfer(wallet, other, 51)))
    assert (wallet.balances(), wallet.version, other.balances(), other.version) == before
    assert book.changed() == []


def test_the_book_refuses_unknown_closed_and_foreign_unit_accounts():
    cash, vouchers = account(), account(unit="VCH")
    closed = account()
    closed.closed = True
    book = Book([cash, vouchers, closed])
    with pytest.raises(UnknownAccount):
        book.apply("CNY", [Leg(uuid.uuid4(), Side.DEBIT, 1, 1, 0), Leg(cash.id, Side.CREDIT, 1, 1, 0)])
    with pytest.raises(UnitMismatch):
        book.apply("CNY", entry_legs(transfer(vouchers, cash, 1)))
    with pytest.raises(AccountClosed):
        book.apply("CNY", entry_legs(transfer(closed, cash, 1)))
    # Releasing a hold on a closed account is allowed: it only gives money back.
    book.apply("CNY", [Leg(closed.id, Side.DEBIT, 1, 1, 0), Leg(cash.id, Side.CREDIT, 1, 1, 0)], allow_closed=True)


def test_a_balance_cannot_overflow_a_bigint():
    full = account("asset", debits_posted=MAX_AMOUNT)
    other = account("liability")
    with pytest.raises(BalanceOverflow):
        Book([full, other]).apply("CNY", entry_legs(transfer(full, other, 1)))


def test_an_account_below_zero_may_still_receive():
    # Only outflows are checked: money coming in is never refused for lack of funds.
    wallet = account("liability", no_overdraft=True, debits_posted=10)
    source = account("asset")
    Book([wallet, source]).apply("CNY", entry_legs(transfer(source, wallet, 5)))
    assert wallet.balance == -5


def test_each_posting_gets_the_next_sequence_number_of_its_account():
    a, b = account(), account()
    book = Book([a, b])
    assert book.apply("CNY", entry_legs(transfer(a, b, 5))).sequences == [1, 1]
    assert book.apply("CNY", entry_legs(transfer(a, b, 5))).sequences == [2, 2]
    assert [(acc.id, before) for acc, before in book.changed()] == sorted([(a.id, 0), (b.id, 0)])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 500), st.booleans()),
        min_size=1,
        max_size=60,
    )
)
def test_any_sequence_of_entries_conserves_money_and_never_overdraws(moves):
    """Σ debits = Σ credits at every step, no no_overdraft account ever has less than zero available,
    and a refused entry leaves every balance as it was."""
    accounts = [account("liability", no_overdraft=True) for _ in range(4)] + [account("asset")]
    book = Book(accounts)
    for source, target, amount, pending in moves:
        if source == target:
            continue
        spec = transfer(accounts[source], accounts[target], amount, pending=pending)
        before = [a.balances() for a in accounts]
        try:
            book.apply("CNY", entry_legs(spec))
        except DomainError:
            assert [a.balances() for a in accounts] == before
        assert sum(a.debits_posted for a in accounts) == sum(a.credits_posted for a in accounts)
        assert sum(a.debits_pending for a in accounts) == sum(a.credits_pending for a in accounts)
        assert all(a.available >= 0 for a in accounts if a.no_overdraft)
