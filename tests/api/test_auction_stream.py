"""An auction's event stream on both databases: it opens with a snapshot, ends with `closed` (at
once when the auction has closed), and a client reconnecting with `Last-Event-ID` gets the bids it
missed from the database, each once, even when a bid commits while the stream is being opened."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from exchange.trading import auction_events
from tests.helpers import Party
from tests.trading_helpers import API, advance, key, open_auction_with_two_bidders

FUNDS = 100_000_000
ASKING, STEP = 50_000_000, 500_000


def parse(body: bytes) -> list[tuple[str | None, str, dict[str, Any]]]:
    """The events of a Server-Sent Events body: (id, event, data); comments skipped."""
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "event" in fields:
            events.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return events


async def bid(client: Any, party: Party, auction_id: str, amount: int) -> dict[str, Any]:
    response = await client.post(
        f"{API}/auctions/{auction_id}/bids", json={"amount": amount}, headers={**party.headers, **key()}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def auction_with_two_bidders(client: Any, app: Any) -> tuple[str, Party, Party, Party]:
    """An open auction; returns its id, the seller and bidders 1 and 2."""
    auction, seller, a, b = await open_auction_with_two_bidders(client, app, FUNDS)
    return auction["id"], seller, a, b


async def closed_auction(client: Any, app: Any) -> tuple[str, Party, Party, Party]:
    """Bid 1 by a at the start, bid 2 by b in the last 5 minutes (it extends the end), then closed."""
    auction_id, seller, a, b = await auction_with_two_bidders(client, app)
    await bid(client, a, auction_id, ASKING)
    app.state.clock.advance(timedelta(minutes=28))
    await bid(client, b, auction_id, ASKING + STEP)
    await advance(app, client, timedelta(minutes=8), seller, a, b)
    assert (await client.get(f"{API}/auctions/{auction_id}", headers=a.headers)).json()["status"] == "closed"
    return auction_id, seller, a, b


async def read_stream(client: Any, party: Party, auction_id: str, last_event_id: str | None = None) -> list:
    headers = dict(party.headers)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    # The in-process transport returns once the stream has ended: a stream that never ends fails here.
    response = await asyncio.wait_for(client.get(f"{API}/auctions/{auction_id}/events", headers=headers), 10)
    assert response.status_code == 200, response.text
    return parse(response.content)


async def test_a_closed_auction_streams_its_snapshot_and_closed_and_ends(client, app):
    auction_id, _, a, b = await closed_auction(client, app)

    seen = await read_stream(client, a, auction_id)
    assert [(i, name) for i, name, _ in seen] == [("2.1", "snapshot"), ("2.2", "closed")]
    snapshot, closed = seen[0][2], seen[1][2]
    assert snapshot["status"] == "closed" and snapshot["bid_count"] == 2
    assert snapshot["high_amount"] == ASKING + STEP and snapshot["high_bidder"] == "bidder 2"
    assert snapshot["minimum_next_bid"] is None and snapshot["ends_at"] == closed["ends_at"]
    assert closed["winning_amount"] == ASKING + STEP and closed["winner"] == "bidder 2"
    assert closed["bid_count"] == 2 and "winner_org_id" not in closed and "published_at" not in closed
    # The winner sees itself as "you".
    assert [data.get("winner") or data["high_bidder"] for _, _, data in await read_stream(client, b, auction_id)] == [
        "you",
        "you",
    ]


async def test_a_closed_auction_without_bids_streams_closed_at_once(client, app):
    auction_id, seller, a, b = await auction_with_two_bidders(client, app)
    await advance(app, client, timedelta(minutes=31), seller, a, b)

    seen = await read_stream(client, seller, auction_id)
    assert [(i, name) for i, name, _ in seen] == [("0.1", "snapshot"), ("0.2", "closed")]
    assert seen[0][2]["high_bidder"] is None and seen[1][2]["winning_amount"] is None


@pytest.mark.parametrize(
    ("last_event_id", "expected"),
    [
        ("1", [(None, "snapshot"), ("2", "bid"), ("2.1", "extended"), ("2.2", "closed")]),
        ("0.1", [(None, "snapshot"), ("1", "bid"), ("2", "bid"), ("2.1", "extended"), ("2.2", "closed")]),
        ("2", [(None, "snapshot"), ("2.1", "extended"), ("2.2", "closed")]),  # bid 2 seen, its extension not
        ("2.1", [(None, "snapshot"), ("2.2", "closed")]),
        ("2.2", [(None, "snapshot"), ("2.2", "closed")]),
    ],
)
async def test_a_resumed_stream_sends_what_came_after_last_event_id(client, app, last_event_id, expected):
    auction_id, _, a, _ = await closed_auction(client, app)

    seen = await read_stream(client, a, auction_id, last_event_id)
    assert [(i, name) for i, name, _ in seen] == expected
    bids = {i: data for i, name, data in seen if name == "bid"}
    if "2" in bids:
        assert bids["2"]["amount"] == ASKING + STEP and bids["2"]["bidder"] == "bidder 2" and bids["2"]["seq"] == 2
        assert "org_id" not in bids["2"] and "extended_to" not in bids["2"]
    if "1" in bids:
        assert bids["1"]["bidder"] == "you"
    extended = [data for _, name, data in seen if name == "extended"]
    assert all(e["ends_at"] == seen[-1][2]["ends_at"] for e in extended)


async def test_a_malformed_last_event_id_is_refused(client, app):
    auction_id, _, a, _ = await closed_auction(client, app)
    for bad in ("abc", "1.3", "-1", "1.", "1234567890"):
        response = await client.get(f"{API}/auctions/{auction_id}/events", headers={**a.headers, "Last-Event-ID": bad})
        assert response.status_code == 400, (bad, response.text)


class Stream:
    """The app's ASGI response for one event stream, read as it is written (the in-process HTTP
    transport returns a response only once it has ended)."""

    def __init__(self, app: Any, path: str, headers: dict[str, str]) -> None:
        self.body = b""
        self.status: int | None = None
        self.ended = asyncio.Event()
        self.disconnect = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver.local", 80),
            "state": {},
        }
        self.task = asyncio.create_task(app(scope, self.receive, self.send))

    async def receive(self) -> dict[str, Any]:
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.ended.set()

    def events(self) -> list:
        return parse(self.body)

    async def until(self, predicate: Any, seconds: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not predicate(self.events()):
            assert asyncio.get_running_loop().time() < deadline, self.events()
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("resume", [False, True])
async def test_a_bid_committed_while_the_stream_opens_is_sent_once(client, app, monkeypatch, resume):
    auction_id, seller, a, b = await auction_with_two_bidders(client, app)
    await bid(client, a, auction_id, ASKING)
    read = auction_events.read_opening

    async def read_with_bids_around(*args: Any) -> Any:
        # Subscribed already: bid 2 commits (and is published) before the stream's read, bid 3 after it.
        await bid(client, b, auction_id, ASKING + STEP)
        opened = await read(*args)
        await bid(client, a, auction_id, ASKING + 2 * STEP)
        return opened

    monkeypatch.setattr(auction_events, "read_opening", read_with_bids_around)
    headers = {**seller.headers, **({"Last-Event-ID": "1"} if resume else {})}
    stream = Stream(app, f"{API}/auctions/{auction_id}/events", headers)
    await stream.until(lambda seen: any(i == "3" for i, _, _ in seen))
    monkeypatch.undo()
    await bid(client, b, auction_id, ASKING + 3 * STEP)  # live
    await advance(app, client, timedelta(minutes=31), seller, a, b)  # closes it: the stream ends by itself
    await asyncio.wait_for(stream.ended.wait(), 10)
    await asyncio.wait_for(stream.task, 10)

    assert stream.status == 200
    seen = stream.events()
    if resume:
        assert [(i, name) for i, name, _ in seen] == [
            (None, "snapshot"),
            ("2", "bid"),  # read from the database
            ("3", "bid"),  # live
            ("4", "bid"),
            ("4.2", "closed"),
        ]
    else:
        assert [(i, name) for i, name, _ in seen] == [
            ("2.1", "snapshot"),  # bid 2 is in it
            ("3", "bid"),
            ("4", "bid"),
            ("4.2", "closed"),
        ]
    assert seen[0][2]["bid_count"] == 2 and seen[0][2]["high_amount"] == ASKING + STEP
    assert seen[0][2]["minimum_next_bid"] == ASKING + 2 * STEP and seen[0][2]["status"] == "open"
    assert [data["amount"] for _, name, data in seen if name == "bid"][-2:] == [ASKING + 2 * STEP, ASKING + 3 * STEP]
    assert all("published_at" in data for i, name, data in seen if name == "bid" and i in ("3", "4"))
    assert seen[-1][2]["winner"] == "bidder 2" and seen[-1][2]["winning_amount"] == ASKING + 3 * STEP
