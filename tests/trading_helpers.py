"""Helpers for trading tests: money in wallets, the clock past deadlines, ledger checks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from exchange.accounting import chart
from exchange.accounting.jobs import seal_pending, verify_ledger
from ledger import service as ledger
from ledger.models import Account, Posting
from tests.helpers import Party, announced_listing, operator, relogin, verified

API = "/api/v1"


async def fund(app: Any, party: Party, amount: int) -> None:
    """A bank transfer into the party's wallet (``bank:settlement → org:<id>:cash``)."""
    now = app.state.clock.now()

    async def work(session: Any) -> None:
        cash = await chart.open_account(session, chart.org_cash(party.org_id), now)
        bank = await chart.open_account(session, chart.BANK_SETTLEMENT, now)
        await ledger.transfer(session, bank.id, cash.id, amount, unit="CNY", kind="top_up", now=now)

    await app.state.db.transaction(work)


async def wallet(client: Any, party: Party) -> dict[str, int]:
    response = await client.get(f"{API}/wallet", headers=party.headers)
    assert response.status_code == 200, response.text
    cny = response.json()["balances"][0]
    return {"posted": cny["posted"], "held": cny["held"], "available": cny["available"]}


async def balance(app: Any, code: str) -> int:
    async with app.state.db.read() as session:
        account = await ledger.account_by_code(session, code)
        return 0 if account is None else account.balance


async def sweep(app: Any) -> dict[str, int]:
    return await app.state.sweeper.run_once(app.state.db, app.state.clock.now())


async def advance(app: Any, client: Any, delta: timedelta, *parties: Party) -> dict[str, int]:
    """Move the clock, sweep, and log the parties in again (tokens last an hour)."""
    app.state.clock.advance(delta)
    counts = await sweep(app)
    await relogin(client, *parties)
    return counts


async def to_end_of_announcement(app: Any, client: Any, listing: dict[str, Any], *parties: Party) -> None:
    closes_at = datetime.fromisoformat(listing["announcement"]["closes_at"].replace("Z", "+00:00"))
    app.state.clock.set(closes_at + timedelta(minutes=1))
    await sweep(app)
    await relogin(client, *parties)


async def to_auction_opening(app: Any, client: Any, listing: dict[str, Any], *parties: Party) -> datetime:
    """Move the clock to the opening of the listing's auction (the set time of the next working
    day after the announcement, as the listing shows it): bids are taken from then."""
    shown = (await client.get(f"{API}/listings/{listing['id']}")).json()
    opens = datetime.fromisoformat(shown["announcement"]["auction_opens_at"].replace("Z", "+00:00"))
    app.state.clock.set(opens)
    await relogin(client, *parties)
    return opens


async def announced(client: Any, seller: Party, ops: Party, **kw: Any) -> dict[str, Any]:
    return await announced_listing(client, seller, ops, **kw)


async def intent(client: Any, buyer: Party, listing_id: str) -> dict[str, Any]:
    response = await client.post(f"{API}/listings/{listing_id}/intents", headers=buyer.headers)
    assert response.status_code == 201, response.text
    return response.json()


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def assert_ledger_sound(app: Any) -> None:
    """Trial balance zero-sum per unit, every account equal to its postings, and a verified ledger."""
    db = app.state.db
    async with db.read() as session:
        trial = await ledger.trial_balance(session)
        assert trial.balanced, trial
        sums = {
            (row[0], row[1]): (int(row[2]), int(row[3]))
            for row in await session.execute(
                select(
                    Posting.account_id, Posting.side, func.sum(Posting.posted_delta), func.sum(Posting.pending_delta)
                ).group_by(Posting.account_id, Posting.side)
            )
        }
        for account in (await session.scalars(select(Account))).all():
            debits, debits_pending = sums.get((account.id, "debit"), (0, 0))
            credits, credits_pending = sums.get((account.id, "credit"), (0, 0))
            held = (account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending)
            assert held == (debits, credits, debits_pending, credits_pending), account.code
    await seal_pending(db, app.state.keyring, app.state.settings, app.state.clock)
    report = await verify_ledger(db, app.state.keyring)
    assert report.ok, report.summary()


async def past_notice(app: Any, client: Any, notice_id: str, *parties: Party) -> dict[str, int]:
    """Move the clock just past a notice's end and sweep."""
    shown = (await client.get(f"{API}/notices/{notice_id}")).json()
    app.state.clock.set(datetime.fromisoformat(shown["closes_at"].replace("Z", "+00:00")) + timedelta(minutes=1))
    counts = await sweep(app)
    await relogin(client, *parties)
    return counts


async def open_auction_with_two_bidders(
    client: Any, app: Any, funds: int = 100_000_000
) -> tuple[dict[str, Any], Party, Party, Party]:
    """An auction that has just opened, seen by bidder 1; returns it, the seller and bidders 1 and 2."""
    ops = await operator(client, app)
    seller = await verified(client, ops)
    a, b = await verified(client, ops), await verified(client, ops)
    for buyer in (a, b):
        await fund(app, buyer, funds)
    listing = await announced(client, seller, ops, mode="auction")
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, a, b)
    await to_auction_opening(app, client, listing, ops, seller, a, b)
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=a.headers)).json()
    return auction, seller, a, b


async def bid(client: Any, party: Party, auction_id: str, amount: int) -> dict[str, Any]:
    """A bid placed, with a fresh idempotency key."""
    placed = await client.post(
        f"/api/v1/auctions/{auction_id}/bids", json={"amount": amount}, headers={**party.headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    return placed.json()
