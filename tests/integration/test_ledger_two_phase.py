"""TigerBeetle's two-phase transfer cases (docs/coding/two-phase-transfers.md), one by one.

Accounts A and B start as in TigerBeetle's tables, with w pending and x posted on A's debit side
and y pending and z posted on B's credit side; each case reads (debits_pending, debits_posted) of
A and (credits_pending, credits_posted) of B after each step.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger import service as ledger
from ledger.errors import AlreadyPosted, AlreadyVoided, ExceedsPendingAmount, Expired, InsufficientFunds, NotPending
from tests.ledger_helpers import balances, open_accounts

W, X, Y, Z = 7, 11, 5, 13


@pytest.fixture
async def ab(db, clock):
    a, b, other = await open_accounts(
        db, clock.now(), ("a", "asset", False), ("b", "liability", False), ("c", "equity", False)
    )

    async def setup(s):
        now = clock.now()
        await ledger.hold(s, a.id, other.id, W, unit="CNY", kind="setup", now=now)
        await ledger.transfer(s, a.id, other.id, X, unit="CNY", kind="setup", now=now)
        await ledger.hold(s, other.id, b.id, Y, unit="CNY", kind="setup", now=now)
        await ledger.transfer(s, other.id, b.id, Z, unit="CNY", kind="setup", now=now)

    await db.transaction(setup)
    return a, b


async def state(db, a, b):
    (a_dp, _, a_dq, _), (_, b_cp, _, b_cq) = await balances(db, a, b)
    return (a_dq, a_dp), (b_cq, b_cp)


def pending(db, clock, a, b, amount=123, timeout=None):
    return db.transaction(
        lambda s: ledger.hold(
            s, a.id, b.id, amount, unit="CNY", kind="transfer", now=clock.now(), timeout_seconds=timeout
        )
    )


def post(db, clock, hold, amount=None):
    return db.transaction(lambda s: ledger.post_hold(s, hold.id, amount=amount, now=clock.now()))


def void(db, clock, hold):
    return db.transaction(lambda s: ledger.void_hold(s, hold.id, now=clock.now()))


def expire(db, clock):
    return db.transaction(lambda s: ledger.expire_due_holds(s, now=clock.now()))


async def test_post_full_pending_amount(db, clock, ab):
    a, b = ab
    assert await state(db, a, b) == ((W, X), (Y, Z))
    hold = await pending(db, clock, a, b)
    assert await state(db, a, b) == ((123 + W, X), (123 + Y, Z))
    posted = await post(db, clock, hold)
    assert await state(db, a, b) == ((W, 123 + X), (Y, 123 + Z))
    # The pending entry is not modified: the post is a new entry that names it.
    assert posted.id != hold.id and posted.pending_id == hold.id and posted.status == "posted"
    assert [p.amount for p in posted.postings] == [123, 123]


async def test_post_partial_pending_amount(db, clock, ab):
    a, b = ab
    hold = await pending(db, clock, a, b)
    await post(db, clock, hold, amount=100)
    assert await state(db, a, b) == ((W, 100 + X), (Y, 100 + Z))  # the other 23 went back


async def test_void_pending_transfer(db, clock, ab):
    a, b = ab
    hold = await pending(db, clock, a, b)
    voided = await void(db, clock, hold)
    assert await state(db, a, b) == ((W, X), (Y, Z))
    assert voided.pending_id == hold.id and voided.status == "voided"


async def test_posting_more_than_pending_is_refused(db, clock, ab):
    a, b = ab
    hold = await pending(db, clock, a, b)
    with pytest.raises(ExceedsPendingAmount):
        await post(db, clock, hold, amount=124)
    assert await state(db, a, b) == ((123 + W, X), (123 + Y, Z))
    await post(db, clock, hold, amount=123)  # still pending, still postable
    assert await state(db, a, b) == ((W, 123 + X), (Y, 123 + Z))


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        ("post", "post", AlreadyPosted),
        ("post", "void", AlreadyPosted),
        ("void", "post", AlreadyVoided),
        ("void", "void", AlreadyVoided),
        ("expire", "post", Expired),
        ("expire", "void", Expired),
    ],
)
async def test_a_pending_transfer_resolves_only_once(db, clock, ab, first, second, error):
    a, b = ab
    hold = await pending(db, clock, a, b, timeout=60)
    if first == "post":
        await post(db, clock, hold, amount=50)
    elif first == "void":
        await void(db, clock, hold)
    else:
        clock.advance(timedelta(seconds=60))
        assert await expire(db, clock) == 1
    settled = await state(db, a, b)
    with pytest.raises(error):
        await (post(db, clock, hold) if second == "post" else void(db, clock, hold))
    assert await state(db, a, b) == settled
    async with db.read() as session:
        assert (await ledger.get_entry(session, hold.id)).status == {"post": "posted", "void": "voided"}.get(
            first, "expired"
        )


async def test_expiry_comes_at_the_timeout_and_never_before(db, clock, ab):
    a, b = ab
    hold = await pending(db, clock, a, b, timeout=3600)
    clock.advance(timedelta(seconds=3600) - timedelta(microseconds=1))
    assert await expire(db, clock) == 0
    assert await state(db, a, b) == ((123 + W, X), (123 + Y, Z))
    clock.advance(timedelta(microseconds=1))
    with pytest.raises(Expired):  # at the timeout exactly it has expired, even before the sweep runs
        await post(db, clock, hold)
    assert await expire(db, clock) == 1
    assert await state(db, a, b) == ((W, X), (Y, Z))
    assert await expire(db, clock) == 0


async def test_a_hold_can_be_posted_until_the_last_moment(db, clock, ab):
    a, b = ab
    hold = await pending(db, clock, a, b, timeout=60)
    clock.advance(timedelta(seconds=60) - timedelta(microseconds=1))
    await post(db, clock, hold)
    clock.advance(timedelta(days=1))
    assert await expire(db, clock) == 0
    assert await state(db, a, b) == ((W, 123 + X), (Y, 123 + Z))


async def test_pessimistic_pending_transfers(db, clock):
    """credits_posted 100 and debits_posted 70 leave 30: a pending 50 fails when it is created."""
    source, wallet, sink = await open_accounts(
        db, clock.now(), ("src", "asset", False), ("org", "liability", True), ("sink", "liability", False)
    )

    async def setup(s):
        await ledger.transfer(s, source.id, wallet.id, 100, unit="CNY", kind="in", now=clock.now())
        await ledger.transfer(s, wallet.id, sink.id, 70, unit="CNY", kind="out", now=clock.now())

    await db.transaction(setup)
    with pytest.raises(InsufficientFunds):
        await pending(db, clock, wallet, sink, amount=50)
    hold = await pending(db, clock, wallet, sink, amount=30)
    assert await balances(db, wallet) == [(70, 100, 30, 0)]
    # Neither phase two can now break the invariant: posting moves 30 already reserved.
    await post(db, clock, hold)
    assert await balances(db, wallet) == [(100, 100, 0, 0)]


async def test_only_a_pending_entry_can_be_posted_or_voided(db, clock, ab):
    a, b = ab
    plain = await db.transaction(lambda s: ledger.transfer(s, a.id, b.id, 5, unit="CNY", kind="t", now=clock.now()))
    with pytest.raises(NotPending):
        await post(db, clock, plain)
    with pytest.raises(NotPending):
        await void(db, clock, plain)
