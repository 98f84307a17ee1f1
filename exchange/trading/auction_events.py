"""An auction's live events (SPEC §3.2) as one Server-Sent Events stream: a ``snapshot`` of the
auction, the bids a reconnecting client missed, then ``bid``, ``extended`` and ``closed`` as they
happen; the stream ends after ``closed`` (at once when the auction has closed already).

Event ids are positions in the auction's history, increasing along every stream, so that a client
that reconnects with ``Last-Event-ID`` gets exactly what it missed, each bid once:

* ``N``   the bid whose ``seq`` is N (bids are numbered 1, 2, … in the order they were accepted);
* ``N.1`` the extension of the end (anti-sniping) that bid N caused, sent right after it;
* ``N.2`` the close, after N bids (``0.2``: closed without a bid).

Compare them as pairs of numbers: ``N`` is ``(N, 0)``. The snapshot of a fresh stream carries
``B.1``, B the number of bids it reflects (its ``bid_count``): it stands for them and their
extensions. A resumed stream's snapshot carries no id (the client's position stays where it was),
and the bids after that position up to the snapshot follow it, read from the database; then live
events, of which those already sent are dropped.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from exchange.platform.db import Database
from exchange.platform.events import Event, Events, Opening, Render, message, sse
from exchange.trading import auctions
from exchange.trading.context import auction_channel
from exchange.trading.models import Auction, Bid
from exchange.trading.views import auction_out

# What ``Last-Event-ID`` may hold: an id of this stream (see above).
EVENT_ID_PATTERN = r"^[0-9]{1,9}(\.[12])?$"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
BID, EXTENDED, CLOSED = 0, 1, 2  # the step of an event after its bid count
# A string (empty: none), not an optional one: a nullable header would be documented as one that may hold "null".
LastEventId = Annotated[
    str,
    HeaderParameter(
        name="Last-Event-ID",
        pattern=r"^([0-9]{1,9}(\.[12])?)?$",
        max_length=11,
        required=False,
        description="Resume after this event id: the bids since then come first (EventSource sends it on reconnecting)",
    ),
]


@dataclass(frozen=True, slots=True)
class Position:
    """A place in an auction's history: after ``bids`` bids and, of the last one, ``step``."""

    bids: int
    step: int = BID

    @classmethod
    def parse(cls, event_id: str | None) -> Position | None:
        if event_id is None or not _EVENT_ID.match(event_id):
            return None
        bids, _, step = event_id.partition(".")
        return cls(int(bids), int(step or 0))


def event_id(bids: int, step: int = BID) -> str:
    return str(bids) if step == BID else f"{bids}.{step}"


def bid_position(event: Event) -> int | None:
    """A live event's place among the bids: its ``seq`` for a bid (the others are never duplicates)."""
    return event.data["seq"] if event.event == "bid" else None


def renderer(viewer: uuid.UUID) -> Render:
    """The messages of an event for ``viewer``'s organisation: itself as "you", others by label."""

    def render(event: Event) -> list[ServerSentEventMessage]:
        data = dict(event.data)
        if event.published_at is not None:
            data["published_at"] = event.published_at
        if event.event == "bid":
            extended_to = data.pop("extended_to", None)
            data["bidder"] = auctions.bidder_label(data.pop("org_id"), data.pop("bidder_number"), viewer)
            out = [message("bid", data, event_id(data["seq"]))]
            if extended_to is not None:
                extension: dict[str, Any] = {"auction_id": data["auction_id"], "ends_at": extended_to}
                if event.published_at is not None:
                    extension["published_at"] = event.published_at
                out.append(message("extended", extension, event_id(data["seq"], EXTENDED)))
            return out
        if event.event == "closed":
            if "winner_org_id" in data:
                data["winner"] = auctions.bidder_label(data.pop("winner_org_id"), data.pop("winner_number"), viewer)
            return [message("closed", data, event_id(data["bid_count"], CLOSED))]
        # ``extended`` is sent with the bid that caused it (above), which carries the new end.
        return []

    return render


async def read_opening(
    db: Database, auction_id: uuid.UUID, since: Position | None
) -> tuple[Auction, Bid | None, list[Bid]]:
    """The auction, its high bid and the bids after ``since`` up to the auction's ``bid_count``
    (from bid ``since.bids`` itself when its extension may not have been seen), oldest first."""
    async with db.read() as session:
        auction = await auctions.load_auction(session, auction_id)
        high = await session.get(Bid, auction.high_bid_id) if auction.high_bid_id is not None else None
        missed: list[Bid] = []
        if since is not None:
            first = since.bids if since.step == BID else since.bids + 1
            missed = await auctions.bids_between(session, auction.id, max(first, 1), auction.bid_count)
    return auction, high, missed


async def opening(db: Database, auction_id: uuid.UUID, viewer: uuid.UUID, since: Position | None) -> Opening:
    auction, high, missed = await read_opening(db, auction_id, since)
    render = renderer(viewer)
    snapshot = auction_out(auction, viewer, high.bidder_number if high is not None else None)
    messages: list[ServerSentEventMessage] = [
        message("snapshot", snapshot, event_id(auction.bid_count, EXTENDED) if since is None else None)
    ]
    for bid in missed:
        replayed = render(Event("bid", auctions.bid_event(bid), None))
        # The bid the client saw last: only its extension, which it may not have seen.
        messages.extend(replayed[1:] if since is not None and bid.seq == since.bids else replayed)
    closed = auction.status == auctions.CLOSED
    if closed:
        messages.extend(render(Event("closed", auctions.closed_event(auction, high), None)))
    return Opening(messages, after=auction.bid_count, final=closed)


def stream(
    events: Events, db: Database, auction_id: uuid.UUID, viewer: uuid.UUID, last_event_id: str | None
) -> ServerSentEvent:
    """The auction's event stream for ``viewer``'s organisation, resumed after ``last_event_id``."""
    since = Position.parse(last_event_id)
    mine = str(viewer)

    def shared_as(event: Event) -> tuple[str, bool]:
        # Every subscriber but the bidder (or winner) itself sees the same message.
        return ("auction", mine in (event.data.get("org_id"), event.data.get("winner_org_id")))

    return sse(
        events,
        auction_channel(auction_id),
        renderer(viewer),
        until=lambda e: e.event == "closed",
        opening=lambda: opening(db, auction_id, viewer, since),
        position=bid_position,
        shared_as=shared_as,
    )
