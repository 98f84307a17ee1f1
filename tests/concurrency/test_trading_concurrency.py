"""PostgreSQL, real parallel connections: 100 bidders on one auction and two sweepers closing it."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind
from exchange.platform.db import Database, create_engine
from exchange.server.app import create_app
from exchange.trading.models import Bid, Deal
from ledger import service as ledger
from tests.conftest import make_settings, running
from tests.helpers import Party, credit_code, operator, verified
from tests.trading_helpers import (
    API,
    announced,
    assert_ledger_sound,
    fund,
    intent,
    to_auction_opening,
    to_end_of_announcement,
)

BIDDERS = 100
ASKING, STEP, DEPOSIT = 50_000_000, 500_000, 5_000_000


@pytest.fixture
async def pg_app(pg_backend, keys_dir, clock):
    return create_app(make_settings(pg_backend, keys_dir, db_pool_size=20), clock=clock, run_background_tasks=False)


@pytest.fixture
async def pg_client(pg_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=pg_app)
    async with running(pg_app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def bidder(app, n: int) -> Party:
    """A verified enterprise made directly in the database (registration over HTTP hashes a password)."""
    user, org = await app.state.db.transaction(
        lambda s: parties.register(
            s,
            email=f"bidder-{n}-{uuid.uuid4().hex[:6]}@example.cn",
            password_hash="not-used",
            display_name=f"竞买人{n}",
            org_name=f"竞买企业{n}",
            credit_code=credit_code(),
            kind=OrgKind.ENTERPRISE,
            now=app.state.clock.now(),
            verified=True,
        )
    )
    return Party(app.state.tokens.issue(user.id), str(user.id), str(org.id), user.email)


async def auction_with_bidders(client, app, count: int) -> tuple[dict, list[Party], str]:
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise")
    listing = await announced(client, seller, ops, mode="auction")
    buyers = [await bidder(app, n) for n in range(count)]
    for buyer in buyers:
        await fund(app, buyer, 200_000_000)
    await asyncio.gather(*(intent(client, b, listing["id"]) for b in buyers))
    await to_end_of_announcement(app, client, listing, ops, seller)
    await to_auction_opening(app, client, listing, ops, seller)
    for buyer in buyers:
        buyer.token = app.state.tokens.issue(uuid.UUID(buyer.user_id))
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=buyers[0].headers)).json()
    return listing, buyers, auction["id"]


async def test_a_hundred_concurrent_bidders_one_winner_no_lost_or_low_bid(pg_client, pg_app):
    client, app = pg_client, pg_app
    listing, buyers, auction_id = await auction_with_bidders(client, app, BIDDERS)
    rng = random.Random(20261127)
    accepted: list[tuple[str, int]] = []
    refused: list[str] = []

    async def bid_several(buyer: Party) -> None:
        for _ in range(3):
            amount = ASKING + rng.randrange(0, 60) * STEP
            response = await client.post(
                f"{API}/auctions/{auction_id}/bids",
                json={"amount": amount},
                headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
            )
            if response.status_code == 201:
                accepted.append((buyer.org_id, amount))
            else:
                assert response.status_code == 422, response.text  # below the rule, never a 500 or a lost bid
                refused.append(response.json()["type"])

    await asyncio.gather(*(bid_several(b) for b in buyers))
    assert accepted and set(refused) <= {"bid-below-minimum", "bid-below-asking-price"}

    async with app.state.db.read() as session:
        bids = list((await session.scalars(select(Bid).where(Bid.auction_id == uuid.UUID(auction_id)))).all())
    bids.sort(key=lambda b: b.seq)
    assert [b.seq for b in bids] == list(range(1, len(accepted) + 1))  # every accepted bid recorded, no gap
    assert all(later.amount > earlier.amount for earlier, later in itertools.pairwise(bids))
    assert bids[0].amount >= ASKING
    assert all((b.amount - ASKING) % STEP == 0 for b in bids)
    assert sorted(a for _, a in accepted) == [b.amount for b in bids]

    async with app.state.db.read() as session:
        # Bidding holds nothing more: each bidder still has exactly its one deposit held.
        for buyer in buyers:
            cash = await ledger.account_by_code(session, f"org:{buyer.org_id}:cash")
            assert cash.pending_outflow == DEPOSIT
    app.state.clock.advance(timedelta(hours=2))
    counts = await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    assert counts["auction-close"] == 1
    async with app.state.db.read() as session:
        deals = list((await session.scalars(select(Deal).where(Deal.listing_id == uuid.UUID(listing["id"])))).all())
        assert len(deals) == 1 and deals[0].price == bids[-1].amount
        assert str(deals[0].buyer_org_id) == bids[-1].org_id.__str__()
        # No deposit double-held: the listing's pool holds exactly the winner's one deposit.
        pool = await ledger.account_by_code(session, f"listing:{listing['id']}:deposits")
        assert pool.credits_pending == DEPOSIT and pool.credits_posted == pool.debits_posted
        for buyer in buyers:
            cash = await ledger.account_by_code(session, f"org:{buyer.org_id}:cash")
            held = DEPOSIT if buyer.org_id == str(deals[0].buyer_org_id) else 0
            assert cash.pending_outflow == held
    await assert_ledger_sound(app)


async def test_two_sweepers_closing_the_same_auction_form_one_deal(pg_client, pg_app):
    client, app = pg_client, pg_app
    listing, buyers, auction_id = await auction_with_bidders(client, app, 3)
    for step, buyer in enumerate(buyers):
        placed = await client.post(
            f"{API}/auctions/{auction_id}/bids",
            json={"amount": ASKING + step * STEP},
            headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert placed.status_code == 201, placed.text
    app.state.clock.advance(timedelta(hours=1))
    now = app.state.clock.now()
    other = Database(create_engine(app.state.settings.database_url, pool_size=4))
    try:
        first, second = await asyncio.gather(
            app.state.sweeper.run_once(app.state.db, now), app.state.sweeper.run_once(other, now)
        )
    finally:
        await other.dispose()
    assert first["auction-close"] + second["auction-close"] == 1
    async with app.state.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(Deal).where(Deal.listing_id == uuid.UUID(listing["id"]))
        )
    assert count == 1
    await assert_ledger_sound(app)


@pytest.mark.parametrize("deposit", [0, None], ids=["no-deposit", "default-deposit"])
async def test_a_deal_paid_twice_at_once_under_two_keys_settles_once(pg_client, pg_app, deposit):
    """The later payments wait for the first's lock on the deal and then find it settled: 409
    ``invalid-state``, the buyer charged once — with or without a deposit hold to apply."""
    client, app = pg_client, pg_app
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise")
    buyer = await bidder(app, 0)
    await fund(app, buyer, 200_000_000)
    pricing = {"mode": "listed", "asking_price": ASKING, "appraised_value": ASKING, "deposit": deposit}
    listing = await announced(client, seller, ops, mode="listed", pricing=pricing)
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller)
    buyer.token = app.state.tokens.issue(uuid.UUID(buyer.user_id))
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    deal = accepted.json()
    app.state.clock.advance(timedelta(days=10))  # past the five working days of the deal's notice
    await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    seller.token = app.state.tokens.issue(uuid.UUID(seller.user_id))
    buyer.token = app.state.tokens.issue(uuid.UUID(buyer.user_id))
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text

    answers = await asyncio.gather(
        *(
            client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, "Idempotency-Key": f"pay-{n}"})
            for n in range(4)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {"invalid-state"}
    fee = 500_000
    async with app.state.db.read() as session:
        cash = await ledger.account_by_code(session, f"org:{buyer.org_id}:cash")
        seller_cash = await ledger.account_by_code(session, f"org:{seller.org_id}:cash")
    assert cash.balance == 200_000_000 - ASKING - fee
    assert seller_cash.balance == ASKING - fee
    await assert_ledger_sound(app)


async def test_one_bid_sent_many_times_at_once_is_placed_once(pg_client, pg_app):
    """A client retrying one bid with its key while the first attempt runs: one bid, every answer the same."""
    client, app = pg_client, pg_app
    _, buyers, auction_id = await auction_with_bidders(client, app, 2)
    key = uuid.uuid4().hex
    answers = await asyncio.gather(
        *(
            client.post(
                f"{API}/auctions/{auction_id}/bids",
                json={"amount": ASKING},
                headers={**buyers[0].headers, "Idempotency-Key": key},
            )
            for _ in range(8)
        )
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    async with app.state.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(Bid).where(Bid.auction_id == uuid.UUID(auction_id))
        )
    assert count == 1
