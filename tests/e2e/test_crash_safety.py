"""Crash safety: SIGKILL the server in the middle of a burst of money-moving requests.

The burst mixes ledger transfers, holds and captures (operator, ledger API), bank transfers
recorded by an operator, withdrawals requested by organisations, bids in a running auction and
deal payments (each deal paid twice, under two keys), each with its own ``Idempotency-Key``, and
Stripe's webhooks for card top-ups (each event delivered twice, signed as Stripe signs them).

After a restart the ledger verifies, every request the server acknowledged has its effect exactly
once, every request retried with the same key — acknowledged or lost in the crash — applies at
most once, each deal is paid and settled once, each top-up credited once, and the auction's high
bid is the highest accepted bid. A further request kind is a ``Scene`` in ``SCENES``: how to build
one request, which answers refuse it, and its effect on balances.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests import stripe_local
from tests.e2e.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, Api, ServerProcess
from tests.helpers import PASSWORD, credit_code, listing_body
from tests.stripe_local import WEBHOOK_SECRET, pay, server_stripe_settings

localstripe_url = stripe_local.localstripe_url
localstripe = stripe_local.localstripe

pytestmark = pytest.mark.e2e

BIDDERS = 6  # organisations with a wallet, an intent in the auction, and withdrawals
FUNDING = 5_000_000  # fen per wallet, by bank transfer
ASKING = 1_000_000  # each listing's asking price: deposit 100,000, increment 10,000, fee the ¥1,000 minimum
INCREMENT = 10_000
DEPOSIT = 100_000
REQUESTS = 600
THREADS = 32
KILL_AFTER_ACKNOWLEDGED = 60
HOLDS_BEFORE = 80  # enough for every capture the burst may draw

CARD_TOP_UPS = 2  # per org, confirmed at Stripe before the burst; their webhooks arrive in it
DELIVERIES = 2  # each event delivered twice, as Stripe does when it is not sure it got through

Effect = dict[str, tuple[int, int]]  # account id → (posted change on its normal side, pending outflow change)


@pytest.fixture
def server_settings(localstripe: str) -> dict[str, str]:
    return server_stripe_settings(localstripe)


@dataclass
class Org:
    email: str
    org_id: str
    token: str
    cash: str = ""  # the wallet's ledger account id


@dataclass
class World:
    """What the scenes act on: the operator, the bidders' wallets, the auction."""

    ops: str
    orgs: list[Org]
    deposits: str  # where the ledger scenes' holds go (liability)
    accounts: list[str]  # the ledger scenes' own accounts, opened by the operator outside the chart
    bank: str  # bank:settlement (asset)
    auction_id: str
    seller: Org
    deals: list[dict[str, Any]]  # awaiting payment, one bought by each org
    payments_due: list[int] = field(default_factory=list)  # indexes into deals, PAYMENTS_PER_DEAL of each
    card_payments: list[dict[str, Any]] = field(default_factory=list)  # POST /payments answers, paid at Stripe
    events_due: list[dict[str, Any]] = field(default_factory=list)  # Stripe events to deliver, DELIVERIES of each
    clock_offset: int = 0  # the server's test clock, ahead of real time by this many seconds
    holds: list[dict[str, Any]] = field(default_factory=list)  # pending entries not yet drawn by a capture
    bids_made: int = 0

    @property
    def wallets(self) -> list[str]:
        return [org.cash for org in self.orgs]

    def cash_of(self, org_id: str) -> str:
        return next(org.cash for org in [*self.orgs, self.seller] if org.org_id == org_id)

    def token(self, who: int | None) -> str:
        return self.ops if who is None else self.orgs[who].token


@dataclass
class Move:
    """One keyed request and what became of it: before the crash, and when retried after it."""

    scene: str
    key: str
    path: str
    body: dict[str, Any]
    who: int | None = None  # an index into World.orgs; None: the operator
    success: int = 201
    signed: bool = False  # a webhook: signed with Stripe's scheme instead of a bearer token and a key
    first: httpx.Response | None = None  # None: no answer (in flight at the kill, or not sent)
    retried: httpx.Response | None = None

    @property
    def acknowledged(self) -> bool:
        return self.first is not None and self.first.status_code == self.success

    @property
    def applied(self) -> bool:
        return self.retried is not None and self.retried.status_code == self.success


@dataclass
class Scene:
    """A kind of money-moving request: how to make one, the refusals it may meet, its balance effect."""

    name: str
    make: Callable[[World, random.Random, str], Move]
    effect: Callable[[World, dict[str, Any]], Effect]
    refusals: frozenset[str] = frozenset()  # problem types a retry may answer instead of success
    keyed: bool = True  # an Idempotency-Key replays the first answer; a webhook is deduplicated by event instead


def _entry(debit: str, credit: str, amount: int, key: str, kind: str) -> dict[str, Any]:
    return {
        "unit": "CNY",
        "kind": kind,
        "description": f"crash test {kind}",
        "external_ref": key,
        "postings": [
            {"account_id": debit, "side": "debit", "amount": amount},
            {"account_id": credit, "side": "credit", "amount": amount},
        ],
    }


def make_transfer(world: World, rng: random.Random, key: str) -> Move:
    payer, payee = rng.sample(world.accounts, 2)
    return Move(
        "ledger-transfer", key, "/ledger/entries", _entry(payer, payee, rng.randint(1, 120_000), key, "transfer")
    )


def make_hold(world: World, rng: random.Random, key: str) -> Move:
    body = _entry(rng.choice(world.accounts), world.deposits, rng.randint(1, 60_000), key, "deposit_hold")
    body["pending"] = {"timeout_seconds": 86_400}
    return Move("ledger-hold", key, "/ledger/entries", body)


def make_capture(world: World, rng: random.Random, key: str) -> Move:
    """Post (capture) one of the holds made before the burst: the second phase of a deposit."""
    hold = world.holds.pop()
    return Move("ledger-capture", key, f"/ledger/entries/{hold['id']}/post", {"description": key})


def make_bank_transfer(world: World, rng: random.Random, key: str) -> Move:
    """An operator records money that arrived at the bank; the key doubles as the bank reference."""
    org = rng.choice(world.orgs)
    body = {"org_id": org.org_id, "amount": rng.randint(1, 200_000), "reference": key, "note": "crash test"}
    return Move("bank-transfer", key, "/bank-transfers", body)


def make_withdrawal(world: World, rng: random.Random, key: str) -> Move:
    who = rng.randrange(len(world.orgs))
    body = {"amount": rng.randint(1, 80_000), "payee": f"招商银行 上海分行 6225 **** {who:04d}"}
    return Move("withdrawal", key, "/withdrawals", body, who=who)


def make_bid(world: World, rng: random.Random, key: str) -> Move:
    """Each bid one increment above the one made before it; racing bids may be outbid on arrival."""
    world.bids_made += 1
    amount = ASKING + world.bids_made * INCREMENT
    return Move(
        "bid", key, f"/auctions/{world.auction_id}/bids", {"amount": amount}, who=rng.randrange(len(world.orgs))
    )


def make_deal_payment(world: World, rng: random.Random, key: str) -> Move:
    """The buyer pays a deal awaiting payment; every deal is offered twice, under two keys."""
    who = world.payments_due.pop()
    deal = world.deals[who]
    return Move("deal-payment", key, f"/deals/{deal['id']}/pay", {}, who=who, success=200)


def make_webhook(world: World, rng: random.Random, key: str) -> Move:
    """Stripe tells the exchange a PaymentIntent succeeded; the exchange fetches it and credits the wallet."""
    event = world.events_due.pop()
    return Move("card-top-up-webhook", key, "/webhooks/stripe", event, success=200, signed=True)


def ledger_effect(world: World, entry: dict[str, Any]) -> Effect:
    """Liability accounts: a credit raises the balance; a pending debit is a held outflow."""
    changes: dict[str, tuple[int, int]] = {}
    for posting in entry["postings"]:
        sign = 1 if posting["side"] == "credit" else -1
        posted, held = changes.get(posting["account_id"], (0, 0))
        if entry["status"] == "pending":
            held += posting["amount"] if sign < 0 else 0
        else:
            posted += sign * posting["amount"]
        changes[posting["account_id"]] = (posted, held)
    return changes


def capture_effect(world: World, entry: dict[str, Any]) -> Effect:
    """The hold's amount leaves the pending side and becomes posted."""
    changes: dict[str, tuple[int, int]] = {}
    for posting in entry["postings"]:
        if posting["side"] == "credit":
            changes[posting["account_id"]] = (posting["amount"], 0)
        else:
            changes[posting["account_id"]] = (-posting["amount"], -posting["amount"])
    return changes


def bank_transfer_effect(world: World, transfer: dict[str, Any]) -> Effect:
    """``bank:settlement → org:<id>:cash``: the asset and the wallet both grow."""
    return {world.bank: (transfer["amount"], 0), world.cash_of(transfer["org_id"]): (transfer["amount"], 0)}


def withdrawal_effect(world: World, withdrawal: dict[str, Any]) -> Effect:
    """A hold ``org:<id>:cash → bank:settlement``: pending outflow on both until the bank pays."""
    return {world.cash_of(withdrawal["org_id"]): (0, withdrawal["amount"]), world.bank: (0, withdrawal["amount"])}


def deal_payment_effect(world: World, deal: dict[str, Any]) -> Effect:
    """Price and buyer fee out of the buyer's wallet (the deposit hold posted as part of it), the
    seller's proceeds into the seller's."""
    fees = deal["fees"]
    buyer_out = deal["price"] + fees["buyer_fee"] - fees["buyer_fee_vouchers"]
    return {
        world.cash_of(deal["buyer_org_id"]): (-buyer_out, -deal["deposit"]),
        world.seller.cash: (fees["seller_proceeds"], 0),
    }


def no_money(world: World, answer: dict[str, Any]) -> Effect:
    return {}  # a bid moves nothing: the bidder's deposit was held when the intent was registered


SCENES = [
    Scene("ledger-transfer", make_transfer, ledger_effect, frozenset({"insufficient-funds"})),
    Scene("ledger-hold", make_hold, ledger_effect, frozenset({"insufficient-funds"})),
    Scene("ledger-capture", make_capture, capture_effect),
    Scene("bank-transfer", make_bank_transfer, bank_transfer_effect),
    Scene("withdrawal", make_withdrawal, withdrawal_effect, frozenset({"insufficient-funds"})),
    Scene("bid", make_bid, no_money, frozenset({"bid-below-minimum"})),
    Scene("deal-payment", make_deal_payment, deal_payment_effect, frozenset({"invalid-state", "insufficient-funds"})),
    # Its effect is counted per top-up (credited once however often its event arrives), not per delivery.
    Scene("card-top-up-webhook", make_webhook, no_money, keyed=False),
]
EXPLICIT = ("deal-payment", "card-top-up-webhook")  # placed in the burst by the test, not drawn at random
PAYMENTS_PER_DEAL = 2


# -- the world before the burst ---------------------------------------------------------------------


def register(api: Api, ops: str, kind: str, name: str) -> Org:
    email = f"{kind}-{uuid.uuid4().hex[:8]}@example.cn"
    body = api.sign_up(
        {
            "email": email,
            "password": PASSWORD,
            "display_name": name,
            "org": {"name": name, "credit_code": credit_code(), "kind": kind},
        },
    )
    org = Org(email, body["org"]["id"], body["access_token"])
    api.ok("POST", f"/orgs/{org.org_id}/verify", ops, json={"note": "ok"})
    return org


def account_id(api: Api, ops: str, code: str) -> str:
    page = api.ok("GET", "/ledger/accounts", ops, params={"code_prefix": code})
    return next(a["id"] for a in page["items"] if a["code"] == code)


def announce(api: Api, ops: str, seller: Org, mode: str) -> dict[str, Any]:
    body = listing_body("license", mode)
    body["pricing"].update(asking_price=ASKING, appraised_value=ASKING)
    listing = api.ok("POST", "/listings", seller.token, status=201, json=body)
    api.ok("POST", f"/listings/{listing['id']}/submit", seller.token)
    return api.ok("POST", f"/listings/{listing['id']}/review", ops, json={"decision": "approve"})


def relogin(api: Api, world: World) -> None:
    world.ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    for org in [*world.orgs, world.seller]:
        org.token = api.login(org.email, PASSWORD)


def deals_and_auction(api: Api, world: World) -> None:
    """One deal awaiting payment per org (listed mode, one intent: the org accepts the listed price),
    and an auction of another listing, open, with every org's intent."""
    for_sale = [announce(api, world.ops, world.seller, "listed") for _ in world.orgs]
    for org, listing in zip(world.orgs, for_sale, strict=True):
        api.ok("POST", f"/listings/{listing['id']}/intents", org.token, status=201)
    api.advance_past(world.ops, max(listing["announcement"]["closes_at"] for listing in for_sale))
    relogin(api, world)
    for org, listing in zip(world.orgs, for_sale, strict=True):
        (thread,) = api.ok("GET", f"/listings/{listing['id']}/negotiations", org.token)["items"]
        offer = thread["standing_offer_id"]
        world.deals.append(api.ok("POST", f"/negotiations/{thread['id']}/offers/{offer}/accept", org.token, status=201))

    auctioned = announce(api, world.ops, world.seller, "auction")
    for org in world.orgs:
        api.ok("POST", f"/listings/{auctioned['id']}/intents", org.token, status=201)
    api.advance_past(world.ops, auctioned["announcement"]["closes_at"])  # the deals' notices end before
    relogin(api, world)
    auction = api.ok("GET", f"/listings/{auctioned['id']}/auction", world.ops)
    assert auction["status"] == "scheduled" and auction["increment"] == INCREMENT
    api.advance_past(world.ops, auction["starts_at"], margin_seconds=1)  # it opens the next working day
    relogin(api, world)
    auction = api.ok("GET", f"/listings/{auctioned['id']}/auction", world.ops)
    assert auction["status"] == "open"
    world.auction_id = auction["id"]
    for org, deal in zip(world.orgs, world.deals, strict=True):
        api.ok("POST", f"/deals/{deal['id']}/sign", world.seller.token)
        assert api.ok("POST", f"/deals/{deal['id']}/sign", org.token)["state"] == "awaiting_payment"


def card_top_ups(api: Api, world: World, stripe: str) -> None:
    """Each org starts card top-ups and pays them at Stripe; no webhook has reached the exchange yet."""
    for i, org in enumerate(world.orgs * CARD_TOP_UPS):
        body = {"amount": 30_000 + 100 * i}
        made = api.ok("POST", "/payments", org.token, status=201, json=body, headers={"Idempotency-Key": f"card-{i}"})
        asyncio.run(pay(stripe, made["payment_intent_id"]))
        world.card_payments.append(made)
    intents = {p["payment_intent_id"] for p in world.card_payments}
    events = asyncio.run(stripe_local.events(stripe, "payment_intent.succeeded"))
    world.events_due = [e for e in events if e["data"]["object"]["id"] in intents] * DELIVERIES
    assert len(world.events_due) == len(intents) * DELIVERIES


def setup_world(api: Api, stripe: str) -> World:
    ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    orgs = [register(api, ops, "enterprise", f"竞买企业{i}") for i in range(BIDDERS)]
    seller = register(api, ops, "enterprise", "上海固能新材料有限公司")
    for i, org in enumerate([*orgs, seller]):
        funded = {"org_id": org.org_id, "amount": FUNDING, "reference": f"FUND-{i}"}
        api.ok("POST", "/bank-transfers", ops, status=201, json=funded)
        org.cash = account_id(api, ops, f"org:{org.org_id}:cash")

    # The ledger's direct writes keep off the chart (wallets move by the services or by an approved
    # adjustment): the ledger scenes move money between accounts the operator opens for them.
    def own(code: str, type_: str = "liability", no_overdraft: bool = True) -> str:
        body = {"code": code, "unit": "CNY", "type": type_, "no_overdraft": no_overdraft}
        return api.ok("POST", "/ledger/accounts", ops, status=201, json=body)["id"]

    source = own("ops:crash:source", "asset", False)
    accounts = [own(f"ops:crash:{i}") for i in range(BIDDERS)]
    for i, account in enumerate(accounts):
        api.ok(
            "POST",
            "/ledger/entries",
            ops,
            status=201,
            json=_entry(source, account, FUNDING, f"own-{i}", "transfer"),
            headers={"Idempotency-Key": f"own-{i}"},
        )
    deposits = own("ops:crash:deposits", no_overdraft=False)
    world = World(ops, orgs, deposits, accounts, account_id(api, ops, "bank:settlement"), "", seller, [])
    deals_and_auction(api, world)
    card_top_ups(api, world, stripe)
    rng = random.Random(7)
    for i in range(HOLDS_BEFORE):
        hold = make_hold(world, rng, f"hold-before-{i}").body
        hold["postings"][0]["amount"] = hold["postings"][1]["amount"] = 1_000 + i
        made = api.ok(
            "POST", "/ledger/entries", world.ops, status=201, json=hold, headers={"Idempotency-Key": f"hb-{i}"}
        )
        world.holds.append(made)
    return world


def balances(api: Api, world: World) -> dict[str, tuple[int, int]]:
    """(posted balance, pending outflow) of every account the scenes touch."""
    found = {}
    for account in [*world.wallets, *world.accounts, world.seller.cash, world.deposits, world.bank]:
        shown = api.ok("GET", f"/ledger/accounts/{account}", world.ops)
        found[account] = (shown["balance"], shown["balance"] - shown["available"])
    return found


# -- the burst, the kill, the retries ---------------------------------------------------------------


def send(client: httpx.Client, world: World, move: Move) -> httpx.Response:
    if move.signed:  # Stripe's scheme, timed by the server's (moved) clock, as a delivery made now
        payload = json.dumps(move.body).encode()
        stamp = int(time.time()) + world.clock_offset
        signature = hmac.new(WEBHOOK_SECRET.encode(), b"%d.%s" % (stamp, payload), hashlib.sha256).hexdigest()
        headers = {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json"}
        return client.post(f"/api/v1{move.path}", content=payload, headers=headers)
    headers = {"Authorization": f"Bearer {world.token(move.who)}", "Idempotency-Key": move.key}
    return client.post(f"/api/v1{move.path}", json=move.body, headers=headers)


def burst(server: ServerProcess, world: World, moves: list[Move]) -> None:
    """Send the moves from many threads; SIGKILL the server once enough were acknowledged."""
    acknowledged = threading.Semaphore(0)
    killed = threading.Event()
    local = threading.local()

    def run(move: Move) -> None:
        if killed.is_set():
            return
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=server.base_url, timeout=30)
        try:
            move.first = send(local.client, world, move)
        except httpx.TransportError:
            return  # no answer: the client does not know whether it happened
        if move.acknowledged:
            acknowledged.release()

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(run, m) for m in moves]
        for _ in range(KILL_AFTER_ACKNOWLEDGED):
            assert acknowledged.acquire(timeout=120), "the burst stalled before the kill"
        server.kill()
        killed.set()
        for future in futures:
            future.result()


def restart(server: ServerProcess, api: Api, world: World, offset_seconds: int) -> None:
    """Start again; the test clock's offset lives in the process, so put it back before anything else."""
    server.start()
    world.ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    api.advance(world.ops, seconds=offset_seconds, sweep=False)
    relogin(api, world)


def retry_everything(server: ServerProcess, world: World, moves: list[Move]) -> None:
    """Every move again with its key: an acknowledged one replays its first answer; a lost one
    either replays what had committed before the kill or applies now — never twice."""
    refusals = {s.name: s.refusals for s in SCENES}
    refusals_keyed = {s.name: s.keyed for s in SCENES}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for move in moves:
            move.retried = send(client, world, move)
            if move.retried.status_code != move.success:
                assert move.retried.json().get("type") in refusals[move.scene], (move.scene, move.retried.text)
                assert not move.acknowledged
                continue
            if not refusals_keyed[move.scene]:
                continue
            if move.acknowledged:
                assert move.retried.headers.get("Idempotent-Replayed") == "true", move.key
                assert move.retried.json() == move.first.json()  # type: ignore[union-attr]
            # Once more: now every key has an answer on record and replays it.
            third = send(client, world, move)
            assert third.status_code == move.success and third.json()["id"] == move.retried.json()["id"]
            assert third.headers.get("Idempotent-Replayed") == "true"


def test_sigkill_mid_burst_loses_nothing_acknowledged_and_retries_apply_once(
    server: ServerProcess, api: Api, localstripe: str
):
    world = setup_world(api, localstripe)
    before = balances(api, world)
    offset = world.clock_offset = api.ok("GET", "/_test/clock", world.ops)["offset_seconds"]
    rng = random.Random(20261127)
    moves = []
    for i in range(REQUESTS):
        drawn = [s for s in SCENES if s.name not in EXPLICIT and (s.name != "ledger-capture" or world.holds)]
        scene = rng.choice(drawn)
        moves.append(scene.make(world, rng, f"crash-{scene.name}-{i}"))
    # Every deal paid twice under two keys and every Stripe event delivered twice, early in the
    # burst: one payment settles a deal and one delivery credits a top-up; the others change nothing.
    world.payments_due = [i for i in range(len(world.deals)) for _ in range(PAYMENTS_PER_DEAL)]
    rng.shuffle(world.payments_due)
    for i in range(len(world.payments_due)):
        moves.insert(rng.randrange(40), make_deal_payment(world, rng, f"crash-deal-payment-{i}"))
    rng.shuffle(world.events_due)
    for i in range(len(world.events_due)):
        moves.insert(rng.randrange(150), make_webhook(world, rng, f"crash-webhook-{i}"))

    burst(server, world, moves)
    acknowledged = [m for m in moves if m.acknowledged]
    unanswered = [m for m in moves if m.first is None]
    assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED
    assert unanswered, "the kill came after the burst ended"
    assert {m.scene for m in acknowledged} == {s.name for s in SCENES}, Counter(m.scene for m in acknowledged)
    refusals = {s.name: s.refusals for s in SCENES}
    for move in moves:  # before the kill: accepted, or refused for a reason the scene expects; never a 5xx
        if move.first is not None and not move.acknowledged:
            assert move.first.json().get("type") in refusals[move.scene], (move.scene, move.first.text)

    restart(server, api, world, offset)
    retry_everything(server, world, moves)
    committed_unseen = sum(1 for m in unanswered if m.retried.headers.get("Idempotent-Replayed") == "true")  # type: ignore[union-attr]
    print(
        f"acknowledged {len(acknowledged)} {dict(Counter(m.scene for m in acknowledged))}, "
        f"unanswered {len(unanswered)} ({committed_unseen} had committed)"
    )

    # One effect per key: distinct results, and each acknowledged result stored as answered.
    applied = [m for m in moves if m.applied]
    keyed = {s.name for s in SCENES if s.keyed}
    ids = Counter(m.retried.json()["id"] for m in applied if m.scene in keyed)  # type: ignore[union-attr]
    assert len(ids) == len([m for m in applied if m.scene in keyed]) and max(ids.values()) == 1
    ops = world.ops
    for move in acknowledged:
        answer = move.first.json()  # type: ignore[union-attr]
        if move.scene.startswith("ledger-"):
            assert api.ok("GET", f"/ledger/entries/{answer['id']}", ops)["postings"] == answer["postings"]
        elif move.scene == "withdrawal":
            shown = api.ok("GET", f"/withdrawals/{answer['id']}", ops)
            assert (shown["amount"], shown["status"], shown["hold_entry_id"]) == (
                answer["amount"],
                "requested",
                answer["hold_entry_id"],
            )
        elif move.scene == "bank-transfer":
            entry = api.ok("GET", f"/ledger/entries/{answer['entry_id']}", ops)
            assert entry["external_ref"] == move.key and entry["status"] == "posted"

    # The auction: every applied bid once, the high bid the highest of them.
    bids = [m for m in applied if m.scene == "bid"]
    listed: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.ok("GET", f"/auctions/{world.auction_id}/bids", ops, params=params)
        listed += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert Counter(b["id"] for b in listed) == Counter(m.retried.json()["id"] for m in bids)  # type: ignore[union-attr]
    amounts = [b["amount"] for b in sorted(listed, key=lambda b: b["seq"])]
    assert amounts == sorted(amounts) and len(set(amounts)) == len(amounts)  # each accepted bid above the last
    auction = api.ok("GET", f"/auctions/{world.auction_id}", ops)
    assert auction["status"] == "open" and auction["bid_count"] == len(bids)
    assert auction["high_amount"] == max(m.body["amount"] for m in bids)

    # Each deal paid once: settled with one applied payment, or (short of funds) unpaid with none.
    for deal in world.deals:
        paid = [m for m in applied if m.scene == "deal-payment" and m.retried.json()["id"] == deal["id"]]  # type: ignore[union-attr]
        state = api.ok("GET", f"/deals/{deal['id']}", ops)["state"]
        assert (state, len(paid)) in (("settled", 1), ("awaiting_payment", 0)), (state, len(paid))

    # Balances equal the model's: what was there before plus each applied effect, once.
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for account, (posted, held) in before.items():
        expected[account] = [posted, held]
    effects = {s.name: s.effect for s in SCENES}
    for move in applied:
        for account, (posted, held) in effects[move.scene](world, move.retried.json()).items():  # type: ignore[union-attr]
            expected[account][0] += posted
            expected[account][1] += held
    # Every top-up succeeded and was credited once, however many of its deliveries got through.
    for payment in world.card_payments:
        shown = api.ok("GET", f"/payments/{payment['id']}", ops)
        assert shown["status"] == "succeeded" and shown["entry_id"], shown
        expected[world.cash_of(shown["org_id"])][0] += shown["amount"]
    after = balances(api, world)
    assert after == {account: tuple(expected[account]) for account in after}
    assert all(
        posted - held >= 0 for account, (posted, held) in after.items() if account in [*world.wallets, *world.accounts]
    )

    # Nothing created out of thin air, and the ledger's hashes and chain verify.
    assert api.ok("GET", "/ledger/trial-balance", ops)["balanced"] is True
    server.stop()
    server.techx("ledger", "seal")
    verified = server.techx("ledger", "verify")
    assert verified.stdout.startswith("OK"), verified.stdout
