"""Online auctions (SPEC §3.2): opening, bids under price-then-time priority with anti-sniping, and
closing at the (possibly extended) end by the sweeper.

An auction's row is written when its announcement closes, with the opening the announcement
showed (``listing.auction_opens_at``: the set time of the next working day) as ``starts_at``:
until then it is scheduled and bids are refused with 409 ``auction-not-open``.

A bid locks its auction row (``FOR UPDATE`` on PostgreSQL; SQLite serialises write transactions),
checks the rules of ``domain.check_bid`` against the high bid it then sees, and records the bid and
the new high in the same transaction, so no accepted bid is lost and none is accepted below the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Interval, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.platform.db import Database
from exchange.platform.keyed import KEY_TAKEN, key_is_taken
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.platform.tables import new_id
from exchange.trading import deals
from exchange.trading.context import LiveEvent, TradingContext, auction_channel
from exchange.trading.domain import (
    AUCTIONS,
    AuctionAction,
    AuctionStatus,
    check_auction_open,
    check_bid,
    end_after_bid,
    next_auction_state,
    takes_part,
)
from exchange.trading.errors import NotParticipant, SellerCannotBuy
from exchange.trading.intents import ACTIVE, release_all
from exchange.trading.models import Auction, Bid, Intent
from kernel.columns import UTCDateTime
from kernel.db import is_postgres
from kernel.errors import NotFound, found
from kernel.pagination import cursor_int, decode_cursor, keyset_page
from kernel.time import rfc3339
from listings import PUBLIC_STATUSES, Listing, close_unsold, load_listing

OPEN, CLOSED = AuctionStatus.OPEN.value, AuctionStatus.CLOSED.value


async def open_auction(session: AsyncSession, ctx: TradingContext, listing: Listing, now: datetime) -> Auction:
    """The auction of a listing whose announcement just closed, from the opening its announcement
    showed (kept by the listings module at the close; never in the past) for the set minutes."""
    if listing.auction_opens_at is None:
        raise ValueError(f"listing {listing.id} has no auction opening")
    starts = max(listing.auction_opens_at, now)
    ends = starts + timedelta(minutes=ctx.rules.auction_minutes)
    auction = Auction(
        listing_id=listing.id,
        status=AUCTIONS.initial.value,
        asking_price=listing.asking_price,
        increment=listing.increment or 1,
        starts_at=starts,
        scheduled_end=ends,
        ends_at=ends,
        bid_count=0,
    )
    session.add(auction)
    await session.flush()
    return auction


def _check_open(status: str, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    closed = not AUCTIONS.allows(status, AuctionAction.BID)
    check_auction_open(closed=closed, starts_at=starts_at, ends_at=ends_at, now=now)


async def load_auction(session: AsyncSession, auction_id: uuid.UUID, *, lock: bool = False) -> Auction:
    query = select(Auction).where(Auction.id == auction_id)
    if lock:  # and read it afresh: the row may have changed since this session last read it
        query = query.with_for_update().execution_options(populate_existing=True)
    return found(await session.scalar(query), NotFound(f"auction {auction_id} not found"))


async def participant_intent(session: AsyncSession, auction: Auction, org_id: uuid.UUID) -> Intent | None:
    return await session.scalar(select(Intent).where(Intent.listing_id == auction.listing_id, Intent.org_id == org_id))


async def visible_auction(session: AsyncSession, viewer: Principal, auction_id: uuid.UUID) -> tuple[Auction, Any]:
    """The auction for its participants (``takes_part``), the seller and operators; 404 for others,
    as for an auction that does not exist. The one rule of the auction's routes and its live stream."""
    auction = await load_auction(session, auction_id)
    listing = await load_listing(session, auction.listing_id, check=False)
    return auction, await _admitted(session, viewer, auction, listing)


async def auction_of_listing(session: AsyncSession, viewer: Principal, listing_id: uuid.UUID) -> Auction:
    """The listing's latest auction, under the listing's own visibility and then the auction's."""
    listing = await load_listing(session, listing_id, viewer=viewer)
    latest = await latest_auction(session, listing_id)
    if latest is None:
        raise NotFound(f"listing {listing_id} has no auction")
    await _admitted(session, viewer, latest, listing)
    return latest


async def latest_auction(session: AsyncSession, listing_id: uuid.UUID) -> Auction | None:
    """The listing's latest auction (a relisted listing may have had several), or None."""
    return await session.scalar(
        select(Auction).where(Auction.listing_id == listing_id).order_by(Auction.starts_at.desc()).limit(1)
    )


async def _admitted(session: AsyncSession, viewer: Principal, auction: Auction, listing: Any) -> Intent | None:
    """The viewer's intent if it takes part; 404 unless the viewer takes part, sells or operates."""
    intent = await participant_intent(session, auction, viewer.org_id)
    if intent is not None and not takes_part(intent.status, intent.created_at, intent.ended_at, auction.starts_at):
        intent = None
    if not (viewer.is_operator or listing.seller_org_id == viewer.org_id or intent is not None):
        raise NotFound(f"auction {auction.id} not found")
    return intent


# The organisation of a watcher who is no participant: it matches no bidder, so a stream or page
# rendered for it labels every bidder anonymously ("bidder N", never "you").
NOBODY = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class Watch:
    """An auction as a watcher of the portal's live page sees it (``watched_auction``)."""

    auction: Auction
    listing: Listing
    intent: Intent | None  # the watcher's own intent when its organisation takes part

    @property
    def label_org(self) -> uuid.UUID:
        """Whose bids are "you": the watcher's organisation if it takes part, else nobody's."""
        return self.intent.org_id if self.intent is not None else NOBODY

    @property
    def may_bid(self) -> bool:
        """Whether the watcher holds an active intent, and so may bid (the bid's own checks decide)."""
        return self.intent is not None and self.intent.status == ACTIVE


async def watched_auction(session: AsyncSession, viewer: Principal | None, auction_id: uuid.UUID) -> Watch:
    """The portal's watch rule ("everyone else watches", issue 16): an auction of a listing the
    public may see is watched by anyone, signed in or not, with every bidder anonymised except the
    watcher's own organisation when it takes part. Other auctions (of a listing withdrawn, say) stay
    with ``visible_auction``'s rule: participants, the seller and operators; 404 for others.

    The JSON API (``GET /auctions/{id}``, its bids and events) keeps ``visible_auction``: a
    participant's tool has no use for the public's view, and its answers name the caller ("you").
    """
    auction = await load_auction(session, auction_id)
    listing = await load_listing(session, auction.listing_id, check=False)
    intent = None
    if viewer is not None:
        intent = await participant_intent(session, auction, viewer.org_id)
        if intent is not None and not takes_part(intent.status, intent.created_at, intent.ended_at, auction.starts_at):
            intent = None
    if listing.status not in PUBLIC_STATUSES and intent is None:
        if viewer is None:
            raise NotFound(f"auction {auction.id} not found")
        await _admitted(session, viewer, auction, listing)  # the seller and operators; 404 for others
    return Watch(auction, listing, intent)


@dataclass(frozen=True, slots=True)
class ScreenedBid:
    """What screening read for a bid that passed it: enough for ``place_bid`` to place it."""

    auction_id: uuid.UUID
    asking_price: int
    increment: int
    intent_id: uuid.UUID
    bidder_number: int


_auctions, _intents = Auction.__table__, Intent.__table__
# A bid's auction and the bidder's intent on its listing, in plain columns (no ORM identity map).
_SCREEN = (
    select(
        _auctions.c.listing_id,
        _auctions.c.status,
        _auctions.c.ends_at,
        _auctions.c.asking_price,
        _auctions.c.increment,
        _auctions.c.high_amount,
        _intents.c.id,
        _intents.c.number,
        _intents.c.status,
        _auctions.c.starts_at,
    )
    .select_from(
        _auctions.outerjoin(
            _intents, (_intents.c.listing_id == _auctions.c.listing_id) & (_intents.c.org_id == bindparam("org_id"))
        )
    )
    .where(_auctions.c.id == bindparam("auction_id"))
)
_SCREEN_KEYED = _SCREEN.add_columns(KEY_TAKEN)


async def screen_bid(
    db: Database, bidder: Principal, auction_id: uuid.UUID, amount: int, now: datetime, *, scope: str, key: str
) -> ScreenedBid | None:
    """The bid's checks against the committed auction, in one read outside any transaction.

    The high bid only rises and an auction only closes, so a bid refused against a committed state
    is refused for good: refusals (most bids on a busy auction) cost one read, no transaction and
    no lock. Whether an answer is stored under (``scope``, ``key``) is read in the same statement:
    when one is, the request may be a replay, nothing is refused here and None is returned.
    Otherwise returns what ``place_bid`` needs; it checks again under the lock.
    """
    bidder.require_active_verified()
    row = await db.first_row(
        _SCREEN_KEYED, {"auction_id": auction_id, "org_id": bidder.org_id, "scope": scope, "key": key}
    )
    if row is None:
        if await key_is_taken(db, scope, key):
            return None
        raise NotFound(f"auction {auction_id} not found")
    if row[-1]:
        return None
    screened = _check_screened(row, auction_id, amount, now)
    if screened is None:
        async with db.read() as session:
            await _refuse_outsider(session, bidder, listing_id=row[0])
    return screened


async def _screen_in(
    session: AsyncSession, bidder: Principal, auction_id: uuid.UUID, amount: int, now: datetime
) -> ScreenedBid:
    """``screen_bid`` in the caller's transaction (a bid placed without screening first)."""
    bidder.require_active_verified()
    row = (await session.execute(_SCREEN, {"auction_id": auction_id, "org_id": bidder.org_id})).first()
    if row is None:
        raise NotFound(f"auction {auction_id} not found")
    screened = _check_screened(row, auction_id, amount, now)
    if screened is None:
        await _refuse_outsider(session, bidder, listing_id=row[0])
    return screened


def _check_screened(row: Sequence[Any], auction_id: uuid.UUID, amount: int, now: datetime) -> ScreenedBid | None:
    """The rules against a screening row; None when the bidder holds no intent on the listing."""
    _, status, ends_at, asking_price, increment, high, intent_id, number, intent_status, starts_at = row[:10]
    if intent_id is None:
        return None
    _check_open(status, starts_at, ends_at, now)
    if intent_status != ACTIVE:
        raise NotParticipant(f"the organisation's intent is {intent_status}")
    check_bid(amount, asking_price=asking_price, increment=increment, high=high)
    return ScreenedBid(auction_id, asking_price, increment, intent_id, number)


async def _refuse_outsider(session: AsyncSession, bidder: Principal, *, listing_id: uuid.UUID) -> NoReturn:
    listing = await load_listing(session, listing_id, check=False)
    if listing.seller_org_id == bidder.org_id:
        raise SellerCannotBuy("the seller does not bid in its own auction")
    raise NotParticipant("only organisations holding an intent on the listing bid in its auction")


def check_against(screened: ScreenedBid, amount: int, high: int | None) -> None:
    """The bid rules against a high bid known to be committed (refusals only; ``place_bid`` decides)."""
    if high is not None:
        check_bid(amount, asking_price=screened.asking_price, increment=screened.increment, high=high)


async def place_bid(
    session: AsyncSession,
    ctx: TradingContext,
    bidder: Principal,
    auction_id: uuid.UUID,
    amount: int,
    now: datetime,
    events: list[LiveEvent],
    screened: ScreenedBid | None = None,
) -> tuple[Bid, datetime]:
    """Place a bid in the caller's transaction; returns it and the auction's end after it.
    ``screened``: what ``screen_bid`` returned for it just before (else the screening runs here,
    inside the transaction)."""
    if screened is None:
        screened = await _screen_in(session, bidder, auction_id, amount, now)
    if is_postgres(session):
        placed = await _place_in_one_statement(session, ctx, bidder, screened, amount, now, events)
        if placed is not None:
            return placed
        # Another bid moved the high (or the end came) while this one waited for the row: name the
        # rule from the committed row without queueing for the lock a second time.
        await _refuse_against_committed(session, auction_id, amount, now)
    auction = await load_auction(session, auction_id, lock=True)
    _check_open(auction.status, auction.starts_at, auction.ends_at, now)
    check_bid(amount, asking_price=auction.asking_price, increment=auction.increment, high=auction.high_amount)
    window = timedelta(minutes=ctx.rules.anti_sniping_minutes)
    new_end = end_after_bid(auction.ends_at, now, window)
    extended = new_end > auction.ends_at
    bid = _bid_row(new_id(), screened, bidder, amount, auction.bid_count + 1, now, new_end if extended else None)
    session.add(bid)
    previous_org = auction.high_org_id
    auction.high_amount = amount
    auction.high_bid_id = bid.id
    auction.high_org_id = bidder.org_id
    auction.bid_count += 1
    auction.ends_at = new_end
    await session.flush()
    events.append((auction_channel(auction.id), "bid", bid_event(bid)))
    await _tell_bid(session, auction.listing_id, bid, previous_org)
    return bid, new_end


async def _tell_bid(
    session: AsyncSession,
    listing_id: uuid.UUID,
    bid: Bid,
    previous_org: uuid.UUID | None,
    shown: Sequence[Any] | None = None,
) -> None:
    """The bidder this bid outbid is told (not a bidder raising its own high bid); when the bid
    extended the auction (anti-sniping), every organisation taking part is told the new end.
    ``shown``: the listing's (number, title), when the caller has them."""
    outbid = previous_org is not None and previous_org != bid.org_id
    if not (outbid or bid.extended_to is not None):
        return
    if shown is None:
        shown = tuple(
            (await session.execute(select(Listing.number, Listing.title).where(Listing.id == listing_id))).one()
        )
    number, title = shown
    data: dict[str, Any] = {
        "listing_id": str(listing_id),
        "listing_number": number,
        "listing_title": title,
        "auction_id": str(bid.auction_id),
        "amount_fen": bid.amount,
        "bid_at": rfc3339(bid.created_at),
    }
    subject = Subject("auction", bid.auction_id)
    if outbid:
        notify(session, Kind.OUTBID, to=Audience.of_orgs(previous_org), now=bid.created_at, subject=subject, data=data)
    if bid.extended_to is not None:
        everyone = Audience.of_orgs(*await participants(session, listing_id))
        extended = {**data, "ends_at": rfc3339(bid.extended_to)}
        notify(session, Kind.AUCTION_EXTENDED, to=everyone, now=bid.created_at, subject=subject, data=extended)


async def participants(session: AsyncSession, listing_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisations holding an active intent on the listing: those who may bid in its auction."""
    query = select(Intent.org_id).where(Intent.listing_id == listing_id, Intent.status == ACTIVE)
    return list((await session.scalars(query.order_by(Intent.number))).all())


async def _refuse_against_committed(session: AsyncSession, auction_id: uuid.UUID, amount: int, now: datetime) -> None:
    """Raise the rule a bid breaks against the auction's committed row; return if it breaks none
    (the caller then checks again under the lock)."""
    row = (
        await session.execute(
            select(
                Auction.status,
                Auction.starts_at,
                Auction.ends_at,
                Auction.asking_price,
                Auction.increment,
                Auction.high_amount,
            ).where(Auction.id == auction_id)
        )
    ).one()
    status, starts_at, ends_at, asking_price, increment, high = row
    _check_open(status, starts_at, ends_at, now)
    check_bid(amount, asking_price=asking_price, increment=increment, high=high)


# PostgreSQL: lock the auction, check the rules against the locked row, move the high bid and
# record the bid in one statement, so the row lock is held for one round trip and the commit.
# The rules are those of ``domain.check_bid`` and ``domain.end_after_bid``; when the statement
# matches nothing, the general path below re-checks with the row locked and names the rule broken.
_ONE_STATEMENT = text(
    """
    WITH prev AS (
        SELECT id, listing_id, starts_at, ends_at, bid_count, asking_price, increment, high_amount, high_org_id
        FROM trading_auctions WHERE id = :auction FOR UPDATE
    ), up AS (
        UPDATE trading_auctions AS a
        SET high_amount = :amount, high_bid_id = :bid_id, high_org_id = :org, bid_count = prev.bid_count + 1,
            ends_at = CASE WHEN prev.ends_at - :now < :window THEN :now + :window ELSE prev.ends_at END
        FROM prev
        WHERE a.id = prev.id AND a.status = 'open' AND prev.starts_at <= :now AND prev.ends_at > :now
          AND :amount >= prev.asking_price AND (:amount - prev.asking_price) % prev.increment = 0
          AND (prev.high_amount IS NULL OR :amount >= prev.high_amount + prev.increment)
        RETURNING a.bid_count AS seq, a.ends_at AS ends_at, prev.ends_at AS old_end, prev.high_org_id AS old_org,
                  prev.listing_id AS listing_id
    )
    INSERT INTO trading_bids (id, auction_id, intent_id, org_id, user_id, bidder_number, amount, seq, created_at,
                              extended_to)
    SELECT :bid_id, :auction, :intent, :org, :user_id, :number, :amount, up.seq, :now,
           CASE WHEN up.ends_at > up.old_end THEN up.ends_at END
    FROM up
    RETURNING seq, extended_to, (SELECT ends_at FROM up), (SELECT old_org FROM up), (SELECT listing_id FROM up),
              (SELECT l.number FROM listings AS l WHERE l.id = (SELECT listing_id FROM up)),
              (SELECT l.title FROM listings AS l WHERE l.id = (SELECT listing_id FROM up))
    """
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("window", type_=Interval()))


async def _place_in_one_statement(
    session: AsyncSession,
    ctx: TradingContext,
    bidder: Principal,
    screened: ScreenedBid,
    amount: int,
    now: datetime,
    events: list[LiveEvent],
) -> tuple[Bid, datetime] | None:
    bid_id = new_id()
    row = (
        await session.execute(
            _ONE_STATEMENT,
            {
                "auction": screened.auction_id,
                "amount": amount,
                "bid_id": bid_id,
                "org": bidder.org_id,
                "user_id": bidder.user_id,
                "intent": screened.intent_id,
                "number": screened.bidder_number,
                "now": now,
                "window": timedelta(minutes=ctx.rules.anti_sniping_minutes),
            },
        )
    ).first()
    if row is None:
        return None
    seq, extended_to, ends_at, previous_org, listing_id, number, title = row
    bid = _bid_row(bid_id, screened, bidder, amount, seq, now, extended_to)
    events.append((auction_channel(screened.auction_id), "bid", bid_event(bid)))
    # The listing's number and title came with the statement: no further read under the auction's lock.
    await _tell_bid(session, listing_id, bid, previous_org, (number, title))
    return bid, ends_at


def _bid_row(
    bid_id: uuid.UUID,
    screened: ScreenedBid,
    bidder: Principal,
    amount: int,
    seq: int,
    now: datetime,
    extended_to: datetime | None,
) -> Bid:
    return Bid(
        id=bid_id,
        auction_id=screened.auction_id,
        intent_id=screened.intent_id,
        org_id=bidder.org_id,
        user_id=bidder.user_id,
        bidder_number=screened.bidder_number,
        amount=amount,
        seq=seq,
        created_at=now,
        extended_to=extended_to,
    )


def bid_event(bid: Bid) -> dict[str, Any]:
    """The bid as published; ``org_id`` is replaced by "you" or an anonymous label for each subscriber."""
    return {
        "id": str(bid.id),
        "auction_id": str(bid.auction_id),
        "amount": bid.amount,
        "seq": bid.seq,
        "created_at": rfc3339(bid.created_at),
        "org_id": str(bid.org_id),
        "bidder_number": bid.bidder_number,
        # The end this bid moved the auction to (anti-sniping), else None: streams send the extension with its bid.
        "extended_to": rfc3339(bid.extended_to) if bid.extended_to is not None else None,
    }


def bidder_label(org_id: uuid.UUID | str, number: int, viewer_org: uuid.UUID | None) -> str:
    return "you" if viewer_org is not None and str(org_id) == str(viewer_org) else f"bidder {number}"


async def list_bids(
    session: AsyncSession, auction: Auction, limit: int, cursor: str | None
) -> tuple[list[Bid], str | None]:
    """A page of the auction's accepted bids, newest first, and the cursor of the next page."""
    query = select(Bid).where(Bid.auction_id == auction.id)
    position = decode_cursor(cursor, "seq")
    if position is not None:
        query = query.where(Bid.seq < cursor_int(position, "seq"))
    rows = (await session.scalars(query.order_by(Bid.seq.desc()).limit(limit + 1))).all()
    return keyset_page(rows, limit, lambda bid: {"seq": bid.seq})


async def bids_between(session: AsyncSession, auction_id: uuid.UUID, first_seq: int, last_seq: int) -> list[Bid]:
    """The accepted bids numbered ``first_seq`` to ``last_seq``, oldest first."""
    query = select(Bid).where(Bid.auction_id == auction_id, Bid.seq >= first_seq, Bid.seq <= last_seq)
    return list((await session.scalars(query.order_by(Bid.seq))).all())


async def running_auctions(session: AsyncSession, now: datetime, limit: int) -> list[tuple[Auction, Listing]]:
    """Auctions not yet closed whose end is still ahead — live now or opening soon — with their
    listings, the soonest to end first: the public's view of what is being auctioned (the listing
    is public while ``auctioning``; the bids stay with the auction's participants)."""
    query = (
        select(Auction, Listing)
        .join(Listing, Listing.id == Auction.listing_id)
        .where(
            Auction.status == OPEN,
            Auction.ends_at > now,
            Listing.status.in_([s.value for s in PUBLIC_STATUSES]),
        )
        .order_by(Auction.ends_at, Auction.id)
        .limit(limit)
    )
    return [(auction, listing) for auction, listing in (await session.execute(query)).all()]


# -- closing ----------------------------------------------------------------------------------------


async def claim_due_auction(session: AsyncSession, now: datetime, skip: set[uuid.UUID]) -> Auction | None:
    query = select(Auction).where(Auction.status == OPEN, Auction.ends_at <= now)
    if skip:
        query = query.where(Auction.id.not_in(skip))
    query = query.order_by(Auction.ends_at, Auction.id).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


async def close_auction(
    session: AsyncSession, ctx: TradingContext, auction: Auction, now: datetime, events: list[LiveEvent]
) -> bool:
    """Close an auction whose end has come: the high bidder's deal, or unsold. True if this call closed it.

    The conditional update (``WHERE status = 'open'``) lets exactly one of two sweepers close it.
    """
    closed = next_auction_state(OPEN, AuctionAction.CLOSE)
    moved = await session.execute(
        update(Auction)
        .where(Auction.id == auction.id, Auction.status == OPEN, Auction.ends_at <= now)
        .values(status=closed.value, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.refresh(auction)
    winner: Bid | None = None
    if auction.high_bid_id is None:
        await release_all(session, auction.listing_id, "the auction closed without a bid", now)
        await close_unsold(session, ctx.listings, auction.listing_id, now, reason="the auction closed without a bid")
    else:
        winner = await session.get(Bid, auction.high_bid_id)
        assert winner is not None
        intent = await session.get(Intent, winner.intent_id, with_for_update=True)
        assert intent is not None
        losers = [org for org in await participants(session, auction.listing_id) if org != winner.org_id]
        deal = await deals.form_deal(session, ctx, intent, winner.amount, now, concluded_by="auction", terms={})
        auction.deal_id = deal.id
        _tell_closed(session, auction, deal, winner, losers, now)
    events.append((auction_channel(auction.id), "closed", closed_event(auction, winner)))
    return True


def _tell_closed(
    session: AsyncSession, auction: Auction, deal: Any, winner: Bid, losers: list[uuid.UUID], now: datetime
) -> None:
    """The winner is told it won (and the deal that follows), every other participant that it lost,
    and the seller that its listing sold (``auction.sold``). An auction without a bid ends unsold
    (``listing_notices``)."""
    listing = deal.snapshot["listing"]
    data: dict[str, Any] = {
        "listing_id": listing["id"],
        "listing_number": listing["number"],
        "listing_title": listing["title"],
        "auction_id": str(auction.id),
        "amount_fen": winner.amount,
        "bid_count": auction.bid_count,
        "closed_at": rfc3339(now),
    }
    subject = Subject("auction", auction.id)
    won = {**data, "deal_id": str(deal.id), "price_fen": deal.price, "buyer_fee_fen": deal.buyer_fee}
    notify(session, Kind.AUCTION_WON, to=Audience.of_orgs(winner.org_id), now=now, subject=subject, data=won)
    if losers:
        notify(session, Kind.AUCTION_LOST, to=Audience.of_orgs(*losers), now=now, subject=subject, data=data)
    sold = {
        **data,
        "deal_id": str(deal.id),
        "price_fen": deal.price,
        "seller_fee_fen": deal.seller_fee,
        "net_to_seller_fen": deal.seller_proceeds,
    }
    notify(session, Kind.AUCTION_SOLD, to=Audience.of_orgs(deal.seller_org_id), now=now, subject=subject, data=sold)


def closed_event(auction: Auction, winner: Bid | None) -> dict[str, Any]:
    """The close as published; ``winner_org_id`` is replaced by "you" or a label for each subscriber."""
    data: dict[str, Any] = {
        "auction_id": str(auction.id),
        "ends_at": rfc3339(auction.ends_at),
        "winning_amount": auction.high_amount,
        "bid_count": auction.bid_count,
    }
    if winner is not None:
        data["winner_org_id"] = str(winner.org_id)
        data["winner_number"] = winner.bidder_number
    return data
