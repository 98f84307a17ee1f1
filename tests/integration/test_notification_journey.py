"""Issue 17's journey end to end, on both databases: an auction from approval to settlement tells the
winner, the loser and the seller exactly what concerns each, once each — in the inbox (over the
API), by email (read from a real local SMTP server) and by webhook (received by a real local HTTP
server that checks each call's signature and refuses a bad one) — and the worker run again sends
nothing more."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import delivery_helpers
from tests.conftest import make_settings
from tests.delivery_helpers import Call, HookServer, body_text
from tests.helpers import Party, announced_listing, join, operator, relogin, verified
from tests.trading_helpers import (
    API,
    bid,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
)

smtp_server = delivery_helpers.smtp_server
hook_server = delivery_helpers.hook_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BASE_URL = "https://techx.example"
FUNDS = 100_000_000
ASKING, STEP = 50_000_000, 500_000
PRICE = ASKING + 3 * STEP
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# What each organisation of the journey is told, by kind, each event once.
SELLER = [
    "listing.approved",
    "intent.registered",  # of the first buyer's intent
    "intent.registered",  # and of the second's
    "announcement.closing",
    "auction.sold",
    "deal.awaiting_signature",
    "deal.settled",
]
WINNER = [
    "intent.registered",
    "deposit.held",
    "announcement.closing",
    "auction.outbid",
    "auction.extended",
    "auction.won",
    "deal.awaiting_signature",
    "payment.due",
    "deal.settled",
]
LOSER = [
    "intent.registered",
    "deposit.held",
    "announcement.closing",
    "auction.outbid",
    "auction.extended",
    "auction.lost",
    "deposit.released",
]
ADMINS_ONLY = {"deal.awaiting_signature"}


@pytest.fixture
def settings(backend, keys_dir, smtp_server):
    return make_settings(
        backend,
        keys_dir,
        public_base_url=BASE_URL,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_starttls=False,
        webhook_allow_http=True,  # the local receiver is http:// on 127.0.0.1
        webhook_allow_private=True,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def in_yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def in_beijing_time(moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


async def deliver(app: Any) -> dict[str, int]:
    return await app.state.notifier.run_once(app.state.db, app.state.clock)


class Receiver:
    """The organisations' webhook receiver: one path per organisation, each with its secret. A call
    is checked as it arrives; one whose signature does not verify, or whose timestamp is not the
    exchange's time of the call, is refused (401)."""

    def __init__(self, hooks: HookServer, clock: Any) -> None:
        self.hooks, self.clock = hooks, clock
        self.secrets: dict[str, str] = {}  # path -> secret
        self.verdicts: dict[int, bool] = {}  # id of a call -> whether it was accepted
        self.lock = threading.Lock()
        hooks.status = self.answer

    def url(self, party: Party) -> str:
        return f"{self.hooks.url}/{party.org_id}"

    def path(self, party: Party) -> str:
        return self.url(party).removeprefix(f"http://127.0.0.1:{self.hooks.port}")

    def signed(self, call: Call) -> bool:
        secret = self.secrets.get(call.path)
        timestamp = call.headers.get("TechX-Timestamp", "")
        if secret is None or not timestamp.isdigit():
            return False
        expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + call.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, call.headers.get("TechX-Signature", ""))

    def answer(self, count: int) -> int:
        # Calls arrive on the server's threads: those not checked yet (this one among them) are
        # checked now, against the exchange's clock.
        with self.lock:
            for call in list(self.hooks.calls):
                if id(call) not in self.verdicts:
                    fresh = abs(int(call.headers.get("TechX-Timestamp") or 0) - self.clock.now().timestamp()) <= 300
                    self.verdicts[id(call)] = fresh and self.signed(call)
            return 200 if all(self.verdicts.values()) else 401

    def to(self, party: Party) -> list[Call]:
        return [c for c in self.hooks.calls if c.path == self.path(party)]


async def inbox(client: Any, party: Party) -> list[dict[str, Any]]:
    """Every item of the party's inbox, oldest first."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = await client.get(f"{API}/notifications?limit=7{cursor}", headers=party.headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if page.json()["next_cursor"] is None:
            return items[::-1]
        cursor = f"&cursor={page.json()['next_cursor']}"


async def test_the_auction_journey_tells_winner_loser_and_seller_once_each_in_the_inbox_by_email_and_webhook(
    client, app, smtp_server, hook_server
):
    clock = app.state.clock
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="复旦大学技术转移中心")
    winner, loser = await verified(client, ops, name="买方甲"), await verified(client, ops, name="买方乙")
    colleague = await join(client, winner)  # a member of the winner's organisation, not an admin
    for buyer in (winner, loser):
        await fund(app, buyer, FUNDS)
    everyone = (ops, seller, winner, loser, colleague)

    receiver = Receiver(hook_server, clock)
    for party in (seller, winner, loser):
        created = await client.post(
            f"{API}/orgs/{party.org_id}/webhooks", json={"url": receiver.url(party)}, headers=party.headers
        )
        assert created.status_code == 201, created.text
        receiver.secrets[receiver.path(party)] = created.json()["secret"]
    await deliver(app)  # the accounts' mail so far (confirmations, the invitation)

    listing = await announced_listing(client, seller, ops, mode="auction")
    lid, title = listing["id"], listing["title"]
    for buyer in (winner, loser):
        await intent(client, buyer, lid)
    await deliver(app)

    # A day before the announcement closes (within three working days): seller and intent holders.
    clock.set(at(listing["announcement"]["closes_at"]) - timedelta(days=1))
    await sweep(app)
    await relogin(client, *everyone)
    await deliver(app)

    await to_end_of_announcement(app, client, listing, *everyone)
    await to_auction_opening(app, client, listing, *everyone)
    aid = (await client.get(f"{API}/listings/{lid}/auction", headers=winner.headers)).json()["id"]
    await bid(client, winner, aid, ASKING)
    await bid(client, winner, aid, ASKING + STEP)
    await bid(client, loser, aid, ASKING + 2 * STEP)  # the winner is outbid
    await deliver(app)
    clock.advance(timedelta(minutes=27))
    await bid(client, winner, aid, PRICE)  # in the last five minutes: extended; the loser is outbid
    ends_at = at((await client.get(f"{API}/auctions/{aid}", headers=winner.headers)).json()["ends_at"])
    await deliver(app)

    clock.advance(timedelta(minutes=6))
    await sweep(app)  # the auction closes: won, lost, sold; the loser's deposit released
    await relogin(client, *everyone)
    await deliver(app)
    deal_id = (await client.get(f"{API}/auctions/{aid}", headers=winner.headers)).json()["deal_id"]
    assert deal_id

    deal = (await client.get(f"{API}/deals/{deal_id}", headers=winner.headers)).json()
    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (winner, seller):
        assert (await client.post(f"{API}/deals/{deal_id}/sign", headers=party.headers)).status_code == 200
    deal = (await client.get(f"{API}/deals/{deal_id}", headers=winner.headers)).json()
    clock.set(at(deal["payment_schedule"][0]["remind_at"]))
    await sweep(app)
    await relogin(client, *everyone)
    await deliver(app)
    paid = await client.post(f"{API}/deals/{deal_id}/pay", headers={**winner.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text
    counts = await deliver(app)
    assert counts.get("sent") and not counts.get("retry") and not counts.get("failed"), counts

    # Run again (and later): nothing more is sent, by any channel.
    mails, calls = len(smtp_server.mailbox.messages), len(hook_server.calls)
    assert await deliver(app) == {}
    clock.advance(timedelta(hours=3))
    assert await deliver(app) == {}
    await relogin(client, *everyone)
    assert (len(smtp_server.mailbox.messages), len(hook_server.calls)) == (mails, calls)
    assert len(receiver.verdicts) == calls and all(receiver.verdicts.values())

    links = {"auction": f"{BASE_URL}/auctions/{aid}", "deal": f"{BASE_URL}/deals/{deal_id}"}
    closing_titles = {
        "auction.won": f"竞得成功：{title}",
        "auction.lost": f"竞价结束：{title}",
        "auction.sold": f"项目已拍出：{title}",
    }
    told = {seller.user_id: SELLER, winner.user_id: WINNER, loser.user_id: LOSER}
    told[colleague.user_id] = [k for k in WINNER if k not in ADMINS_ONLY]

    # The inbox: each kind once (per event), in Chinese, linking to the auction or the deal.
    for party in (seller, winner, loser, colleague):
        items = await inbox(client, party)
        assert sorted(i["kind"] for i in items) == sorted(told[party.user_id]), party.email
        assert len({i["id"] for i in items}) == len(items)
        for item in items:
            assert CHINESE.search(item["title"]), item
            if item["kind"] in closing_titles:
                assert item["title"] == closing_titles[item["kind"]]
                assert item["link"] == links["auction"] and item["subject"] == {"type": "auction", "id": aid}
                assert in_yuan(PRICE) in item["body"]
            if item["kind"].startswith("deal."):
                assert item["link"] == links["deal"]

    # Email: to each user's address, each kind once, besides the mail of its account.
    messages = smtp_server.mailbox.messages
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    for party, account_mail in (
        (seller, ["account.email_confirmation"]),
        (winner, ["account.email_confirmation"]),
        (loser, ["account.email_confirmation"]),
        (colleague, ["account.invitation"]),
    ):
        received = smtp_server.mailbox.to(party.email)
        assert all(m["To"] == party.email for m in received)
        assert sorted(m["TechX-Kind"] for m in received) == sorted(account_mail + told[party.user_id]), party.email
        by_kind = {m["TechX-Kind"]: m for m in received}
        for kind, expected_subject in closing_titles.items():
            if kind in by_kind:
                text = body_text(by_kind[kind])
                assert by_kind[kind]["Subject"] == expected_subject
                assert in_yuan(PRICE) in text and links["auction"] in text
        if "auction.extended" in by_kind:  # the new end, in Beijing time
            assert in_beijing_time(ends_at) in body_text(by_kind["auction.extended"])
        if "deal.settled" in by_kind:
            assert in_yuan(PRICE) in body_text(by_kind["deal.settled"]) and links["deal"] in body_text(
                by_kind["deal.settled"]
            )

    # Webhooks: to each organisation's endpoint, each event once, signed, under a delivery id of its own.
    assert len({c.headers["TechX-Delivery-Id"] for c in hook_server.calls}) == len(hook_server.calls)
    for party, kinds in ((seller, SELLER), (winner, WINNER), (loser, LOSER)):
        received = receiver.to(party)
        bodies = [json.loads(c.body) for c in received]
        assert sorted(b["kind"] for b in bodies) == sorted(kinds), party.email
        assert len({b["event_id"] for b in bodies}) == len(bodies)
        assert all(
            receiver.signed(c) and c.headers["TechX-Delivery-Id"] == b["id"]
            for c, b in zip(received, bodies, strict=True)
        )
        for body in bodies:
            if body["kind"] in closing_titles:
                assert body["subject"] == {"type": "auction", "id": aid} and body["data"]["amount_fen"] == PRICE
    # The admins see the same in their endpoints' delivery logs: every one sent at the first attempt.
    for party in (seller, winner, loser):
        [hook] = (await client.get(f"{API}/orgs/{party.org_id}/webhooks", headers=party.headers)).json()
        log = await client.get(
            f"{API}/orgs/{party.org_id}/webhooks/{hook['id']}/deliveries?limit=100", headers=party.headers
        )
        assert Counter((d["status"], d["attempts"]) for d in log.json()["items"]) == {
            ("sent", 1): len(told[party.user_id])
        }
