"""Bids through the service against a model of the rules, with hypothesis, on both databases.

Random sequences of bids (on and off the grid, below and above the minimum, by three bidders, at
moving times) go through ``bidding.submit_bid`` — on PostgreSQL its one-statement path — and the
accepted bids, the high bid and the (possibly extended) end must be exactly what
``domain.check_bid`` and ``domain.end_after_bid`` say, bid after bid.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind, OrgStatus, Principal, Role
from exchange.platform.db import Database, create_engine
from exchange.trading import TradingRules, bidding
from exchange.trading.context import TradingContext
from exchange.trading.domain import AuctionClosed, BidRejected, FeeSchedule, check_bid, end_after_bid
from exchange.trading.models import Auction, Bid, Intent
from listings import Actor, ListingRules, create_listings
from listings.domain import ListingContent
from listings.service import create_listing
from tests.conftest import START
from tests.helpers import credit_code, listing_body

ASKING, STEP = 50_000_000, 500_000
WINDOW = timedelta(minutes=5)
DB_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


class World:
    """A listing with three bidders' intents, on an event loop of its own (hypothesis is synchronous)."""

    def __init__(self, url: str, keys) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(create_engine(url, pool_size=2))
        listings_ctx = create_listings(ListingRules(), keys.signer, keys.data)
        self.ctx = TradingContext(rules=TradingRules(fees=FeeSchedule(((None, 100),), 100_000)), listings=listings_ctx)
        self.loop.run_until_complete(self._setup(listings_ctx))

    async def _org(self, n: int, kind: OrgKind):
        return await self.db.transaction(
            lambda s: parties.register(
                s,
                email=f"p{n}-{uuid.uuid4().hex[:6]}@example.cn",
                password_hash="x",
                display_name=f"用户{n}",
                org_name=f"机构{n}",
                credit_code=credit_code(),
                kind=kind,
                now=START,
                verified=True,
            )
        )

    async def _setup(self, listings_ctx) -> None:
        user, org = await self._org(0, OrgKind.UNIVERSITY)
        seller = Actor(user.id, org.id, org.name, "university", True, True, False, True, True)
        body = listing_body(mode="auction")
        body.pop("confidential_details")
        content = msgspec.convert(body, ListingContent)
        listing = await self.db.transaction(lambda s: create_listing(s, listings_ctx, seller, content, None, START))
        self.listing_id = listing.id
        self.bidders: list[Principal] = []
        for n in range(1, 4):
            user, org = await self._org(n, OrgKind.ENTERPRISE)
            self.bidders.append(
                Principal(
                    user.id, user.email, "x", Role.ADMIN, org.id, org.name, OrgKind.ENTERPRISE, True, OrgStatus.ACTIVE
                )
            )

            async def add(session, org_id=org.id, user_id=user.id, number=n):
                session.add(
                    Intent(
                        listing_id=listing.id,
                        org_id=org_id,
                        user_id=user_id,
                        number=number,
                        status="active",
                        deposit=0,
                        created_at=START,
                        end_reason="",
                    )
                )

            await self.db.transaction(add)

    def auction(self) -> uuid.UUID:
        async def add(session):
            auction = Auction(
                listing_id=self.listing_id,
                status="open",
                asking_price=ASKING,
                increment=STEP,
                starts_at=START,
                scheduled_end=START + timedelta(minutes=30),
                ends_at=START + timedelta(minutes=30),
                bid_count=0,
            )
            session.add(auction)
            await session.flush()
            return auction.id

        return self.loop.run_until_complete(self.db.transaction(add))

    def bid(self, auction_id: uuid.UUID, bidder: int, amount: int, at) -> str:
        submitted = bidding.submit_bid(
            self.ctx, self.db, self.bidders[bidder], auction_id, amount, key=uuid.uuid4().hex, now=lambda: at
        )
        try:
            self.loop.run_until_complete(submitted)
        except (BidRejected, AuctionClosed) as refused:
            return refused.problem_type
        return "accepted"

    def state(self, auction_id: uuid.UUID) -> tuple[Auction, list[Bid]]:
        async def read():
            async with self.db.read() as session:
                auction = await session.scalar(select(Auction).where(Auction.id == auction_id))
                bids = (await session.scalars(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.seq))).all()
                return auction, list(bids)

        return self.loop.run_until_complete(read())

    def close(self) -> None:
        self.loop.run_until_complete(self.db.dispose())
        self.loop.close()


@pytest.fixture
def world(backend, keys_dir):
    from exchange.platform.keys import load_or_create_keys
    from tests.conftest import make_settings

    made = World(backend.url, load_or_create_keys(make_settings(backend, keys_dir)))
    yield made
    made.close()


bids = st.lists(
    st.tuples(
        st.integers(0, 2),  # bidder
        st.integers(-1, 6),  # increments above the asking price
        st.sampled_from([0, 0, 0, 1, STEP // 2]),  # off the grid by this much
        st.integers(0, 12 * 60),  # seconds since the previous bid
    ),
    min_size=1,
    max_size=15,
)


@DB_SETTINGS
@given(sequence=bids)
def test_bids_follow_the_rules_of_the_domain_bid_after_bid(world, sequence):
    auction_id = world.auction()
    high, ends, at = None, START + timedelta(minutes=30), START
    expected_amounts = []
    for bidder, steps, off, seconds in sequence:
        at += timedelta(seconds=seconds)
        amount = ASKING + steps * STEP + off
        if at >= ends:
            expected = "auction-closed"
        else:
            try:
                check_bid(amount, asking_price=ASKING, increment=STEP, high=high)
            except BidRejected as refused:
                expected = refused.problem_type
            else:
                expected = "accepted"
                high, ends = amount, end_after_bid(ends, at, WINDOW)
                expected_amounts.append(amount)
        assert world.bid(auction_id, bidder, amount, at) == expected, (amount, at)
    auction, recorded = world.state(auction_id)
    assert [b.amount for b in recorded] == expected_amounts
    assert [b.seq for b in recorded] == list(range(1, len(recorded) + 1))
    assert auction.high_amount == high and auction.ends_at == ends and auction.bid_count == len(recorded)
