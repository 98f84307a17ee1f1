"""The whole mission over a real server process on PostgreSQL, with localstripe as the card processor.

Registrations and verification → a listing of each deal type → review and announcement → an
objection → card top-ups through Stripe (the webhook delivered and signed by localstripe) and bank
transfers recorded by an operator → intents with deposits → the period ends (test clock) → an
auction watched live over Server-Sent Events → a negotiation with a counter-offer → the objection
dismissed and that listing's negotiated price accepted → deal notices → signatures → certificates
verified offline with only ``GET /keys`` → payment and settlement, to the fen → a withdrawal →
a voucher program: grant, order, acceptance, redemption → reconciliation of Stripe and of the
bank statement, clean → ``techx ledger seal`` and ``techx ledger verify``.

Each stage is a function; the test reads as the list of stages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests import stripe_local
from tests.e2e.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, Api, ServerProcess, parse_time
from tests.helpers import PASSWORD, credit_code, listing_body
from tests.stripe_local import WEBHOOK_SECRET, pay, server_stripe_settings

localstripe_url = stripe_local.localstripe_url
localstripe = stripe_local.localstripe

pytestmark = pytest.mark.e2e

ASKING = 50_000_000  # ¥500,000 for each listing
DEPOSIT = ASKING // 10  # the default deposit: 10% of the asking price
INCREMENT = 500_000  # 1% of the asking price
CARD_TOP_UP = {"buyer_a": 16_000_000, "buyer_b": 6_000_000}  # enough for the deposits
BANK_TRANSFER = {"buyer_a": 110_000_000, "buyer_b": 60_000_000}  # enough for the prices and fees
WITHDRAWN = 10_000_000  # the maker takes part of its proceeds to its bank
INVENTOR_REWARD_BP = 7_000


def fee(price: int) -> int:
    """The default schedule below ¥1M: 1%, at least ¥1,000."""
    assert price <= 100_000_000
    return max(price // 100, 100_000)


@pytest.fixture
def server_settings(localstripe: str) -> dict[str, str]:
    return {**server_stripe_settings(localstripe), "TECHX_SWEEP_INTERVAL_SECONDS": "0.5"}


@dataclass
class Party:
    email: str
    org_id: str
    token: str
    credit_code: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Journey:
    api: Api
    server: ServerProcess
    stripe: str
    ops: Party
    parties: dict[str, Party] = field(default_factory=dict)
    listings: dict[str, dict[str, Any]] = field(default_factory=dict)  # by deal type
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)  # by deal type
    statement: list[tuple[str, int, str]] = field(default_factory=list)  # the bank's lines: day, fen, reference

    def __getattr__(self, name: str) -> Party:
        try:
            return self.__dict__["parties"][name]
        except KeyError:
            raise AttributeError(name) from None

    def ok(self, method: str, path: str, who: Party | None = None, status: int | None = None, **kw: Any) -> Any:
        return self.api.ok(method, path, who.token if who else None, status=status, **kw)

    def advance_past(self, moment: str | datetime) -> None:
        """The server's clock past ``moment`` (and a sweep); tokens last an hour, so log in again."""
        self.api.advance_past(self.ops.token, moment)
        for party in (self.ops, *self.parties.values()):
            party.token = self.api.login(party.email, OPERATOR_PASSWORD if party is self.ops else PASSWORD)

    def wallet(self, who: Party, unit: str = "CNY") -> dict[str, int]:
        balances = self.ok("GET", "/wallet", who)["balances"]
        found = next((b for b in balances if b["unit"] == unit), None)
        return {k: found[k] for k in ("posted", "held")} if found else {"posted": 0, "held": 0}

    def account(self, code: str) -> int:
        page = self.ok("GET", "/ledger/accounts", self.ops, params={"code_prefix": code})
        return next((a["balance"] for a in page["items"] if a["code"] == code), 0)

    def china_today(self) -> str:
        return (self.api.now(self.ops.token) + timedelta(hours=8)).date().isoformat()


# -- stages ---------------------------------------------------------------------------------------


def register_and_verify(j: Journey) -> None:
    """Registrations; unverified organisations may not list until an operator verifies them."""
    cast = {
        "university": ("university", "华东理工大学技术转移中心"),
        "institute": ("research_institute", "上海微系统研究所"),
        "maker": ("enterprise", "上海固能新材料有限公司"),
        "buyer_a": ("enterprise", "苏州智造装备有限公司"),
        "buyer_b": ("enterprise", "杭州云芯半导体有限公司"),
        "gov": ("government", "上海市科学技术委员会"),
        "provider": ("service_provider", "上海知识产权服务中心"),
    }
    for name, (kind, org_name) in cast.items():
        email, code = f"{name}-{uuid.uuid4().hex[:8]}@example.cn", credit_code()
        body = j.api.sign_up(
            {
                "email": email,
                "password": PASSWORD,
                "display_name": org_name,
                "org": {"name": org_name, "credit_code": code, "kind": kind},
            },
        )
        j.parties[name] = Party(email, body["org"]["id"], body["access_token"], code)
    refused = j.api.request("POST", "/listings", j.university.token, json=listing_body())
    assert refused.status_code == 403 and refused.json()["type"] == "org-not-verified"
    for party in j.parties.values():
        assert j.ok("POST", f"/orgs/{party.org_id}/verify", j.ops, json={"note": "营业执照已核验"})["verified"]


def list_and_announce(j: Journey) -> None:
    """A listing of each deal type in another pricing mode; one rejected, revised and approved."""
    plans = [
        (j.university, "transfer", "listed", "一种高强度可降解镁合金骨钉"),
        (j.institute, "license", "auction", "MEMS 惯性传感器晶圆级封装工艺"),
        (j.maker, "equity", "negotiated", "固态锂电池电解质膜连续制备技术"),
    ]
    for seller, deal_type, mode, title in plans:
        body = listing_body(deal_type, mode, title=title)
        body["pricing"]["appraised_value"] = ASKING
        # An inventor of the university's patent is related to buyer A: its deal is flagged so.
        body["inventors"] = [{"name": "李明"}, {"name": "王芳", "related_to_buyer": [j.buyer_a.credit_code]}]
        created = j.ok("POST", "/listings", seller, status=201, json=body)
        assert created["status"] == "draft"
        assert j.ok("POST", f"/listings/{created['id']}/submit", seller)["status"] == "under_review"
        j.listings[deal_type] = created
    equity = j.listings["equity"]["id"]
    review = j.ok("POST", f"/listings/{equity}/review", j.ops, json={"decision": "reject", "note": "请补充评估报告"})
    assert review["status"] == "rejected"
    j.ok("POST", f"/listings/{equity}/revise", j.maker)
    j.ok("POST", f"/listings/{equity}/submit", j.maker)
    for deal_type, listing in j.listings.items():
        approved = j.ok(
            "POST", f"/listings/{listing['id']}/review", j.ops, json={"decision": "approve", "note": "齐全"}
        )
        assert approved["status"] == "announced"
        assert approved["announcement"]["working_days"] == 20
        j.listings[deal_type] = approved

    board = j.ok("GET", "/notices")
    assert {n["subject_id"] for n in board["items"]} == {listing["id"] for listing in j.listings.values()}
    found = j.ok("GET", "/listings", params={"q": "传感器"})
    assert [item["title"] for item in found["items"]] == ["MEMS 惯性传感器晶圆级封装工艺"]
    notice = j.ok("GET", f"/notices/{j.listings['transfer']['announcement']['notice_id']}")
    verify_offline(j, notice)


def verify_offline(j: Journey, signed: dict[str, Any]) -> None:
    """What anyone can do with only the exchange's published keys: check a signed document."""
    key = next(k for k in j.ok("GET", "/keys")["keys"] if k["id"] == signed["key_id"])
    text = json.dumps(signed["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == signed["signed_content"]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["key"])).verify(
        base64.b64decode(signed["signature"]), text.encode()
    )


def object_to_the_transfer(j: Journey) -> str:
    """An objection, counted on the board without the objector's identity."""
    notice_id = j.listings["transfer"]["announcement"]["notice_id"]
    objection = j.ok(
        "POST",
        f"/notices/{notice_id}/objections",
        j.buyer_b,
        status=201,
        json={"reason": "该专利的发明人之一已调离，权属存在争议，请核查。"},
    )
    shown = next(n for n in j.ok("GET", "/notices")["items"] if n["id"] == notice_id)
    assert (shown["objection_count"], shown["pending_objection_count"]) == (1, 1)
    assert j.buyer_b.org_id not in json.dumps(shown) and j.buyer_b.email not in json.dumps(shown)
    return objection["id"]


def top_up_by_card(j: Journey) -> None:
    """POST /payments makes a PaymentIntent; the payer confirms it at Stripe; localstripe delivers
    the signed webhook to the server, which credits the wallet once."""
    hook = httpx.post(
        f"{j.stripe}/_config/webhooks/techx",
        data={"url": f"{j.server.base_url}/api/v1/webhooks/stripe", "secret": WEBHOOK_SECRET},
    )
    assert hook.status_code == 200, hook.text
    payments = {}
    for name, amount in CARD_TOP_UP.items():
        headers = {"Idempotency-Key": f"top-up-{name}"}
        payment = j.ok("POST", "/payments", j.parties[name], status=201, json={"amount": amount}, headers=headers)
        again = j.api.request("POST", "/payments", j.parties[name].token, json={"amount": amount}, headers=headers)
        assert again.status_code == 201 and again.json()["payment_intent_id"] == payment["payment_intent_id"]
        asyncio.run(pay(j.stripe, payment["payment_intent_id"]))
        payments[name] = payment
    deadline = time.monotonic() + 30  # localstripe delivers about a second after the confirmation
    for name, payment in payments.items():
        while (state := j.ok("GET", f"/payments/{payment['id']}", j.parties[name]))["status"] != "succeeded":
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert j.wallet(j.parties[name]) == {"posted": CARD_TOP_UP[name], "held": 0}
        entries = j.ok("GET", "/wallet/entries", j.parties[name])["items"]
        assert [e["kind"] for e in entries] == ["card_top_up"]


def top_up_by_bank(j: Journey) -> None:
    """An operator records incoming bank transfers; a reference is recorded once."""
    for name, amount in BANK_TRANSFER.items():
        reference = f"CMB{uuid.uuid4().hex[:10].upper()}"
        body = {"org_id": j.parties[name].org_id, "amount": amount, "reference": reference}
        recorded = j.ok("POST", "/bank-transfers", j.ops, status=201, json=body)
        twice = j.api.request("POST", "/bank-transfers", j.ops.token, json=body)
        assert twice.status_code == 409 and twice.json()["type"] == "duplicate-bank-reference"
        j.statement.append((recorded["received_on"], amount, reference))
        assert j.wallet(j.parties[name])["posted"] == CARD_TOP_UP[name] + amount


def register_intents(j: Journey) -> None:
    """Buyer A wants all three; buyer B the licence. Each intent holds the listing's deposit."""
    for name, deal_types in (("buyer_a", ("transfer", "license", "equity")), ("buyer_b", ("license",))):
        for deal_type in deal_types:
            made = j.ok("POST", f"/listings/{j.listings[deal_type]['id']}/intents", j.parties[name], status=201)
            assert (made["status"], made["deposit"]) == ("active", DEPOSIT)
    assert j.wallet(j.buyer_a)["held"] == 3 * DEPOSIT
    assert j.wallet(j.buyer_b)["held"] == DEPOSIT
    mine = j.ok("GET", "/intents", j.buyer_b)["items"]
    assert [i["listing_id"] for i in mine] == [j.listings["license"]["id"]]


def end_of_announcement(j: Journey) -> None:
    """Twenty working days pass: the auction opens, negotiation opens, the objected notice suspends."""
    j.advance_past(max(listing["announcement"]["closes_at"] for listing in j.listings.values()))
    statuses = {t: j.ok("GET", f"/listings/{listing['id']}", j.ops)["status"] for t, listing in j.listings.items()}
    assert statuses == {"transfer": "suspended", "license": "auctioning", "equity": "negotiating"}
    # The auction opens at the set time of the next working day after the announcement, as shown.
    shown = j.ok("GET", f"/listings/{j.listings['license']['id']}", j.ops)["announcement"]["auction_opens_at"]
    assert j.ok("GET", f"/listings/{j.listings['license']['id']}/auction", j.buyer_a)["status"] == "scheduled"
    j.advance_past(shown)


def auction_with_live_events(j: Journey) -> None:
    """Buyer A watches the auction's event stream while both bid; the sweeper closes it at its end."""
    listing_id = j.listings["license"]["id"]
    auction = j.ok("GET", f"/listings/{listing_id}/auction", j.buyer_a)
    assert (auction["status"], auction["minimum_next_bid"]) == ("open", ASKING)
    seen: list[tuple[str, dict[str, Any]]] = []
    subscribed = threading.Event()

    def subscribe() -> None:
        with httpx.Client(base_url=j.server.base_url, timeout=60) as client:
            url = f"/api/v1/auctions/{auction['id']}/events"
            with client.stream("GET", url, headers=j.buyer_a.headers) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                subscribed.set()
                name = ""
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        seen.append((name, json.loads(line.split(":", 1)[1])))
                        if name == "closed":
                            return

    reader = threading.Thread(target=subscribe, daemon=True)
    reader.start()
    assert subscribed.wait(15)
    time.sleep(0.3)  # the subscription reaches the channel

    def bid(who: Party, amount: int, key: str) -> httpx.Response:
        path = f"/auctions/{auction['id']}/bids"
        return j.api.request("POST", path, who.token, json={"amount": amount}, headers={"Idempotency-Key": key})

    assert bid(j.buyer_a, ASKING, "bid-a-1").status_code == 201
    low = bid(j.buyer_b, ASKING + INCREMENT - 100, "bid-b-0")
    assert low.status_code == 422 and low.json()["type"] == "bid-off-increment-grid"
    assert bid(j.institute, ASKING + INCREMENT, "bid-seller").json()["type"] == "seller-cannot-buy"
    won = bid(j.buyer_b, ASKING + INCREMENT, "bid-b-1")
    assert won.status_code == 201
    replay = bid(j.buyer_b, ASKING + INCREMENT, "bid-b-1")
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == won.json()

    j.advance_past(j.ok("GET", f"/listings/{listing_id}/auction", j.buyer_a)["ends_at"])
    reader.join(20)
    assert not reader.is_alive(), f"the stream did not end: {seen}"
    shape = [(name, data.get("amount"), data.get("bidder") or data.get("winner")) for name, data in seen]
    assert shape == [
        ("snapshot", None, None),  # nobody had bid yet when the stream opened
        ("bid", ASKING, "you"),
        ("bid", ASKING + INCREMENT, "bidder 2"),
        ("closed", None, "bidder 2"),
    ]
    assert seen[0][1]["status"] == "open" and seen[0][1]["minimum_next_bid"] == ASKING
    assert seen[-1][1]["winning_amount"] == ASKING + INCREMENT
    assert all("org_id" not in data and "winner_org_id" not in data for _, data in seen)

    closed = j.ok("GET", f"/listings/{listing_id}/auction", j.buyer_b)
    assert (closed["status"], closed["high_amount"], closed["high_bidder"]) == ("closed", ASKING + INCREMENT, "you")
    deal = j.ok("GET", f"/deals/{closed['deal_id']}", j.buyer_b)
    assert (deal["buyer_org_id"], deal["price"], deal["concluded_by"]) == (
        j.buyer_b.org_id,
        ASKING + INCREMENT,
        "auction",
    )
    j.deals["license"] = deal
    # The loser's deposit is released as soon as the deal forms.
    assert j.wallet(j.buyer_a)["held"] == 2 * DEPOSIT


def negotiate_equity(j: Journey) -> None:
    """Buyer A offers, the maker counters, buyer A accepts: the deal."""
    listing_id = j.listings["equity"]["id"]
    opened = j.ok(
        "POST",
        f"/listings/{listing_id}/negotiations",
        j.buyer_a,
        status=201,
        json={"price": 45_000_000, "note": "首次报价"},
    )
    countered = j.ok(
        "POST",
        f"/negotiations/{opened['id']}/offers",
        j.maker,
        status=201,
        json={"price": 48_000_000, "note": "含技术服务"},
    )
    standing = countered["standing_offer_id"]
    out_of_turn = j.api.request("POST", f"/negotiations/{opened['id']}/offers/{standing}/accept", j.maker.token)
    assert out_of_turn.status_code == 409 and out_of_turn.json()["type"] == "offer-out-of-turn"
    deal = j.ok("POST", f"/negotiations/{opened['id']}/offers/{standing}/accept", j.buyer_a, status=201)
    assert (deal["price"], deal["seller_org_id"], deal["notice_kind"]) == (48_000_000, j.maker.org_id, "deal_result")
    j.deals["equity"] = deal


def dismiss_the_objection(j: Journey, objection_id: str) -> None:
    """The objection is dismissed: the notice closes and the listing proceeds — one intent in listed
    mode opens a negotiation at the listed price, which buyer A accepts: a university's price
    concluded by negotiation, published as a negotiated price with the related-party flag."""
    notice_id = j.listings["transfer"]["announcement"]["notice_id"]
    assert j.ok("GET", f"/notices/{notice_id}")["status"] == "suspended"
    resolved = j.ok(
        "POST", f"/objections/{objection_id}/resolve", j.ops, json={"decision": "dismissed", "note": "权属清晰"}
    )
    assert resolved["status"] == "dismissed"
    assert j.ok("GET", f"/notices/{notice_id}")["status"] == "closed"
    listing_id = j.listings["transfer"]["id"]
    assert j.ok("GET", f"/listings/{listing_id}", j.ops)["status"] == "negotiating"
    (thread,) = j.ok("GET", f"/listings/{listing_id}/negotiations", j.buyer_a)["items"]
    (offer,) = thread["offers"]
    assert offer["price"] == ASKING
    deal = j.ok("POST", f"/negotiations/{thread['id']}/offers/{offer['id']}/accept", j.buyer_a, status=201)
    assert (deal["price"], deal["notice_kind"], deal["related_party"]) == (ASKING, "negotiated_price", True)
    j.deals["transfer"] = deal
    assert j.wallet(j.buyer_a)["held"] == 2 * DEPOSIT  # the equity and transfer deals' deposits


def deal_notices(j: Journey) -> None:
    """Deal results are published for five working days, the university's negotiated price for
    fifteen days; when they close the deals await signatures."""
    board = {n["id"]: n for n in j.ok("GET", "/notices")["items"]}
    for deal in j.deals.values():
        assert board[deal["notice_id"]]["status"] == "open"
        assert deal["state"] == "result_notice"
    negotiated = j.ok("GET", f"/notices/{j.deals['transfer']['notice_id']}")
    published = negotiated["content"]["body"]
    assert (published["related_party"], published["price"], published["buyer"]) == (
        True,
        ASKING,
        "苏州智造装备有限公司",
    )
    assert parse_time(negotiated["closes_at"]) - parse_time(negotiated["opens_at"]) >= timedelta(days=15)
    verify_offline(j, negotiated)
    j.advance_past(max(board[deal["notice_id"]]["closes_at"] for deal in j.deals.values()))
    for deal_type, deal in j.deals.items():
        j.deals[deal_type] = j.ok("GET", f"/deals/{deal['id']}", j.ops)
        assert j.deals[deal_type]["state"] == "awaiting_signatures"


def sign_and_certify(j: Journey) -> None:
    """An admin of each party signs; the certificate is verified with only the published keys."""
    sellers = {"license": j.institute, "equity": j.maker, "transfer": j.university}
    buyers = {"license": j.buyer_b, "equity": j.buyer_a, "transfer": j.buyer_a}
    for deal_type, deal in j.deals.items():
        j.ok("POST", f"/deals/{deal['id']}/sign", sellers[deal_type])
        signed = j.ok("POST", f"/deals/{deal['id']}/sign", buyers[deal_type])
        assert signed["state"] == "awaiting_payment"
        certificate = j.ok("GET", f"/deals/{deal['id']}/certificate", buyers[deal_type])
        verify_offline(j, certificate)
        assert certificate["content"]["price"] == deal["price"]
        j.deals[deal_type] = signed


def pay_and_settle(j: Journey) -> None:
    """Each buyer pays; the deal settles in the same transaction. Every wallet to the fen."""
    buyers = {"license": j.buyer_b, "equity": j.buyer_a, "transfer": j.buyer_a}
    for deal_type, deal in j.deals.items():
        key = {"Idempotency-Key": f"pay-{deal['id']}"}
        paid = j.ok("POST", f"/deals/{deal['id']}/pay", buyers[deal_type], headers=key)
        assert paid["state"] == "settled"
        replay = j.api.request("POST", f"/deals/{deal['id']}/pay", buyers[deal_type].token, headers=key)
        assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
        j.deals[deal_type] = paid

    fees = {t: fee(deal["price"]) for t, deal in j.deals.items()}
    # Public institutions pass 70% of their net to the inventors (fractions of a fen stay with them).
    rewards = {t: (j.deals[t]["price"] - fees[t]) * INVENTOR_REWARD_BP // 10_000 for t in ("license", "transfer")}
    rewards["equity"] = 0
    for deal_type, deal in j.deals.items():
        shown = deal["fees"]
        assert (shown["buyer_fee"], shown["seller_fee"], shown["buyer_fee_vouchers"]) == (fees[deal_type],) * 2 + (0,)
        assert shown["inventor_reward"] == rewards[deal_type]

    def spent(*deal_types: str) -> int:
        return sum(j.deals[t]["price"] + fees[t] for t in deal_types)

    def proceeds(deal_type: str) -> int:
        return j.deals[deal_type]["price"] - fees[deal_type] - rewards[deal_type]

    cash_in = {name: CARD_TOP_UP[name] + BANK_TRANSFER[name] for name in CARD_TOP_UP}
    assert j.wallet(j.buyer_a) == {"posted": cash_in["buyer_a"] - spent("equity", "transfer"), "held": 0}
    assert j.wallet(j.buyer_b) == {"posted": cash_in["buyer_b"] - spent("license"), "held": 0}
    assert j.wallet(j.institute) == {"posted": proceeds("license"), "held": 0}
    assert j.wallet(j.university) == {"posted": proceeds("transfer"), "held": 0}
    assert j.wallet(j.maker) == {"posted": proceeds("equity"), "held": 0}
    assert j.account(f"org:{j.institute.org_id}:inventor_rewards") == rewards["license"]
    assert j.account(f"org:{j.university.org_id}:inventor_rewards") == rewards["transfer"]
    assert j.account("exchange:fees") == 2 * sum(fees.values())
    for deal in j.deals.values():
        assert j.account(f"deal:{deal['id']}:escrow") == 0
    for listing in j.listings.values():
        assert j.account(f"listing:{listing['id']}:deposits") == 0


def vouchers(j: Journey) -> None:
    """A program funded and granted; buyer A orders a test half in vouchers, accepts the delivery;
    the provider claims the vouchers and, after the public notice, the program pays it in cash."""
    now = j.api.now(j.ops.token)
    program = j.ok(
        "POST",
        "/voucher-programs",
        j.gov,
        status=201,
        json={
            "name": "2026年度上海市科技创新券",
            "year": now.year,
            "budget": 100_000_000,
            "categories": ["testing", "brokerage"],
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=90)).isoformat(),
        },
    )
    funding_ref = f"ICBC{uuid.uuid4().hex[:10].upper()}"
    funding_day = j.china_today()
    j.ok(
        "POST",
        f"/voucher-programs/{program['id']}/fund",
        j.ops,
        json={"amount": 20_000_000, "bank_reference": funding_ref},
        headers={"Idempotency-Key": "fund-1"},
    )
    j.statement.append((funding_day, 20_000_000, funding_ref))
    grant = {"org_id": j.buyer_a.org_id, "amount": 10_000_000, "note": "首批"}
    j.ok(
        "POST",
        f"/voucher-programs/{program['id']}/grants",
        j.gov,
        status=201,
        json=grant,
        headers={"Idempotency-Key": "g1"},
    )
    assert j.wallet(j.buyer_a, "VCH") == {"posted": 10_000_000, "held": 0}

    offered = {"category": "testing", "title": "材料性能检测", "description": "CNAS 认可实验室", "price": 10_000_000}
    service = j.ok("POST", "/services", j.provider, status=201, json=offered)
    order = j.ok(
        "POST",
        "/service-orders",
        j.buyer_a,
        status=201,
        json={"service_id": service["id"], "voucher_amount": 5_000_000},
    )
    cash_before = j.wallet(j.buyer_a)["posted"]
    j.ok("POST", f"/service-orders/{order['id']}/confirm", j.provider)
    assert j.wallet(j.buyer_a, "VCH") == {"posted": 10_000_000, "held": 5_000_000}
    j.ok(
        "POST", f"/service-orders/{order['id']}/deliver", j.provider, json={"results_summary": "检测报告 No. 2026-031"}
    )
    accepted = j.ok("POST", f"/service-orders/{order['id']}/accept", j.buyer_a)
    assert accepted["state"] == "accepted"
    assert j.wallet(j.buyer_a, "VCH") == {"posted": 5_000_000, "held": 0}
    assert j.wallet(j.buyer_a)["posted"] == cash_before - 5_000_000
    assert j.wallet(j.provider) == {"posted": 5_000_000, "held": 0}
    assert j.account(f"org:{j.provider.org_id}:vouchers_received") == 5_000_000

    claim = j.ok("POST", "/redemptions", j.provider, status=201, json={"order_ids": [order["id"]]})
    assert (claim["state"], claim["amount"]) == ("noticed", 5_000_000)
    early = j.api.request("POST", f"/redemptions/{claim['id']}/approve", j.gov.token)
    assert early.status_code == 409 and early.json()["type"] == "notice-open"
    j.advance_past(j.ok("GET", f"/notices/{claim['notice_id']}")["closes_at"])
    assert j.ok("POST", f"/redemptions/{claim['id']}/approve", j.gov)["state"] == "approved"
    assert j.wallet(j.provider) == {"posted": 10_000_000, "held": 0}
    assert j.account(f"org:{j.provider.org_id}:vouchers_received") == 0
    assert j.account(f"program:{program['id']}:funding") == 15_000_000
    report = j.ok("GET", f"/voucher-programs/{program['id']}/report", j.gov)["figures"]
    assert (report["issued"], report["spent"], report["redeemed"], report["outstanding"]) == (
        10_000_000,
        5_000_000,
        5_000_000,
        5_000_000,
    )
    assert report["broken_invariants"] == []


def withdraw(j: Journey) -> None:
    """The maker withdraws part of its proceeds: held at once, posted when the bank has paid."""
    before = j.wallet(j.maker)["posted"]
    body = {"amount": WITHDRAWN, "payee": "招商银行 上海分行 6225 **** 0001 上海固能新材料有限公司"}
    requested = j.ok("POST", "/withdrawals", j.maker, status=201, json=body, headers={"Idempotency-Key": "w-1"})
    assert j.wallet(j.maker) == {"posted": before, "held": WITHDRAWN}
    reference, paid_on = f"CMBOUT{uuid.uuid4().hex[:8].upper()}", j.china_today()
    completed = j.ok(
        "POST",
        f"/withdrawals/{requested['id']}/complete",
        j.ops,
        json={"bank_reference": reference, "paid_on": paid_on},
    )
    assert completed["status"] == "completed"
    assert j.wallet(j.maker) == {"posted": before - WITHDRAWN, "held": 0}
    j.statement.append((paid_on, -WITHDRAWN, reference))


def yuan(fen: int) -> str:
    sign, fen = ("-" if fen < 0 else ""), abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def reconcile(j: Journey) -> None:
    """Stripe's balance transactions and the bank's statement both match the ledger."""
    real_today = datetime.now(UTC) + timedelta(hours=8)
    stripe_run = j.ok(
        "POST",
        "/reconciliations",
        j.ops,
        status=201,
        json={
            "provider": "stripe",
            "period_from": (real_today - timedelta(days=1)).date().isoformat(),
            "period_to": (real_today + timedelta(days=1)).date().isoformat(),
        },
    )
    assert stripe_run["clean"], stripe_run
    assert stripe_run["totals"]["matched"]["count"] == len(CARD_TOP_UP)

    lines = [f"{day},{yuan(amount)},{reference}" for day, amount, reference in j.statement]
    days = sorted(day for day, _, _ in j.statement)
    bank_run = j.ok(
        "POST",
        "/reconciliations",
        j.ops,
        status=201,
        json={
            "provider": "bank_transfer",
            "period_from": days[0],
            "period_to": days[-1],
            "statement": "date,amount,reference\n" + "\n".join(lines) + "\n",
        },
    )
    assert bank_run["clean"] and bank_run["row_errors"] == [], bank_run
    assert bank_run["totals"]["matched"]["count"] == len(j.statement)


def seal_and_verify(j: Journey) -> None:
    """The ledger: a zero-sum trial balance, sealed and verified by the command line."""
    assert j.ok("GET", "/ledger/trial-balance", j.ops)["balanced"] is True
    sealed = j.server.techx("ledger", "seal")  # the server's sealer may have sealed some entries already
    assert re.search(r"^sealed \d+ entries", sealed.stdout, re.M), sealed.stdout
    verified = j.server.techx("ledger", "verify")
    assert verified.stdout.startswith("OK"), verified.stdout


def test_the_whole_mission_over_a_real_server(server: ServerProcess, api: Api, localstripe: str):
    j = Journey(api, server, localstripe, Party(OPERATOR_EMAIL, "", api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)))
    register_and_verify(j)
    list_and_announce(j)
    objection_id = object_to_the_transfer(j)
    top_up_by_card(j)
    top_up_by_bank(j)
    register_intents(j)
    end_of_announcement(j)
    auction_with_live_events(j)
    negotiate_equity(j)
    dismiss_the_objection(j, objection_id)
    deal_notices(j)
    sign_and_certify(j)
    pay_and_settle(j)
    withdraw(j)
    vouchers(j)
    reconcile(j)
    seal_and_verify(j)
