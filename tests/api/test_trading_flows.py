"""Flows (b)–(e) over HTTP on both databases, each ending with a sound ledger:
(b) a negotiated licence by a university with counter-offers and a negotiated-price notice whose
objection is dismissed; (c) listed mode with one intent; (d) default and forfeiture; (e) an
objection upheld on a deal result cancels the deal and releases every hold."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.platform.outbox import Kind
from tests.helpers import assert_problem, operator, verified
from tests.notification_helpers import only
from tests.trading_helpers import (
    API,
    announced,
    assert_ledger_sound,
    balance,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
    wallet,
)

FUNDS = 100_000_000
DEPOSIT = 5_000_000
REASON = "成交价格明显低于评估价值，请核实定价程序。"


async def credit_code_of(client, party) -> str:
    return (await client.get(f"{API}/me", headers=party.headers)).json()["org"]["credit_code"]


def offer(price: int, **extra) -> dict:
    return {"price": price, **extra}


async def post_offer(client, party, thread_id, body):
    return await client.post(f"{API}/negotiations/{thread_id}/offers", json=body, headers=party.headers)


async def sign_both(client, deal_id, *parties):
    for party in parties:
        signed = await client.post(f"{API}/deals/{deal_id}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text
    return signed.json()


def verify_certificate(public_key_b64: str, certificate: dict) -> None:
    key_ = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    text = json.dumps(certificate["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == certificate["signed_content"]
    key_.verify(base64.b64decode(certificate["signature"]), text.encode("utf-8"))


async def test_b_negotiated_licence_with_counter_offers_and_a_dismissed_objection(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="上海交通大学")
    x, y = await verified(client, ops, name="星河科技"), await verified(client, ops, name="远景能源")
    for buyer in (x, y):
        await fund(app, buyer, FUNDS)
    related = [{"name": "王芳", "related_to_buyer": [await credit_code_of(client, x)]}]
    listing = await announced(client, seller, ops, deal_type="license", mode="negotiated", inventors=related)
    lid = listing["id"]
    await intent(client, x, lid)
    await intent(client, y, lid)
    everyone = (ops, seller, x, y)
    await to_end_of_announcement(app, client, listing, *everyone)
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "negotiating"

    # Instalments: the down payment must be at least 30% and the last due within 12 months.
    low_down = offer(
        40_000_000,
        payment_terms={
            "kind": "installments",
            "installments": [{"due_months": 0, "amount": 10_000_000}, {"due_months": 6, "amount": 30_000_000}],
        },
    )
    assert_problem(
        await client.post(f"{API}/listings/{lid}/negotiations", json=low_down, headers=x.headers),
        422,
        "invalid-payment-terms",
        "payment_terms.installments.0.amount",
    )
    opening = offer(
        40_000_000,
        payment_terms={
            "kind": "installments",
            "installments": [{"due_months": 0, "amount": 12_000_000}, {"due_months": 12, "amount": 28_000_000}],
        },
        note="首次报价",
    )
    started = await client.post(f"{API}/listings/{lid}/negotiations", json=opening, headers=x.headers)
    assert started.status_code == 201, started.text
    thread = started.json()
    other = await client.post(f"{API}/listings/{lid}/negotiations", json=offer(38_000_000), headers=y.headers)
    assert other.status_code == 201, other.text
    assert_problem(
        await client.post(f"{API}/listings/{lid}/negotiations", json=offer(1), headers=seller.headers),
        403,
        "seller-cannot-buy",
    )

    tid = thread["id"]
    assert_problem(await post_offer(client, x, tid, offer(41_000_000)), 409, "offer-out-of-turn")
    countered = await post_offer(client, seller, tid, offer(46_000_000, note="含技术服务"))
    assert countered.status_code == 201, countered.text
    assert_problem(
        await post_offer(client, x, tid, offer(44_000_000, adjustments={"shares_bp": 10})),
        422,
        "trading-rule-broken",
        "adjustments.shares_bp",
    )
    mine = await post_offer(client, x, tid, offer(44_000_000, adjustments={"term_months": 24}))
    assert mine.status_code == 201, mine.text
    thread = mine.json()
    assert [o["status"] for o in thread["offers"]] == ["superseded", "superseded", "open"]
    standing = thread["standing_offer_id"]
    # Only the other party answers the standing offer; a superseded one cannot be accepted.
    assert_problem(
        await client.post(f"{API}/negotiations/{tid}/offers/{standing}/accept", headers=x.headers),
        409,
        "offer-out-of-turn",
    )
    first = thread["offers"][0]["id"]
    assert_problem(
        await client.post(f"{API}/negotiations/{tid}/offers/{first}/accept", headers=seller.headers),
        409,
        "offer-not-standing",
    )
    outsider = await verified(client, ops)
    assert (await client.get(f"{API}/negotiations/{tid}", headers=outsider.headers)).status_code == 404
    accepted = await client.post(f"{API}/negotiations/{tid}/offers/{standing}/accept", headers=seller.headers)
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    price = 44_000_000
    assert deal["price"] == price and deal["notice_kind"] == "negotiated_price" and deal["related_party"] is True
    assert deal["terms"]["adjustments"] == {"term_months": 24}
    # The other thread is closed and its deposit released.
    assert (await client.get(f"{API}/negotiations/{other.json()['id']}", headers=y.headers)).json()[
        "status"
    ] == "closed"
    assert await wallet(client, y) == {"posted": FUNDS, "held": 0, "available": FUNDS}

    notice = (await client.get(f"{API}/notices/{deal['notice_id']}")).json()
    assert notice["kind"] == "negotiated_price"
    body = notice["content"]["body"]
    assert body["price"] == price and body["buyer"] == "星河科技" and body["related_party"] is True
    opens = datetime.fromisoformat(notice["opens_at"].replace("Z", "+00:00"))
    closes = datetime.fromisoformat(notice["closes_at"].replace("Z", "+00:00"))
    assert closes - opens >= timedelta(days=15)

    filed = await client.post(
        f"{API}/notices/{deal['notice_id']}/objections", json={"reason": REASON}, headers=y.headers
    )
    assert filed.status_code == 201, filed.text
    await past_notice(app, client, deal["notice_id"], *everyone)
    assert (await client.get(f"{API}/deals/{deal['id']}", headers=x.headers)).json()["state"] == "result_notice"
    dismissed = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "dismissed", "note": "定价程序合规"},
        headers=ops.headers,
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (await client.get(f"{API}/deals/{deal['id']}", headers=x.headers)).json()["state"] == "awaiting_signatures"

    signed = await sign_both(client, deal["id"], x, seller)
    assert signed["state"] == "awaiting_payment" and signed["payment_due_at"]
    certificate = (await client.get(f"{API}/deals/{deal['id']}/certificate", headers=x.headers)).json()
    keys = (await client.get(f"{API}/keys")).json()["keys"]
    public = next(k for k in keys if k["id"] == certificate["key_id"])["key"]
    verify_certificate(public, certificate)
    assert certificate["content"]["price"] == price and certificate["content"]["buyer"]["name"] == "星河科技"
    forged = {**certificate, "content": {**certificate["content"], "price": 1}}
    forged["signed_content"] = json.dumps(forged["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(InvalidSignature):
        verify_certificate(public, forged)

    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**x.headers, **key()})
    assert paid.status_code == 200, paid.text
    fee = 440_000
    net = price - fee
    reward = net * 7 // 10
    assert await wallet(client, x) == {"posted": FUNDS - price - fee, "held": 0, "available": FUNDS - price - fee}
    assert await wallet(client, seller) == {"posted": net - reward, "held": 0, "available": net - reward}
    assert await balance(app, f"org:{seller.org_id}:inventor_rewards") == reward == 30_492_000
    assert await balance(app, "exchange:fees") == 2 * fee
    await assert_ledger_sound(app)


async def test_c_listed_mode_with_one_intent_negotiates_from_the_listed_price(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute", name="中科院上海硅酸盐研究所")
    buyer = await verified(client, ops, name="宁德新能")
    await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="listed")
    lid = listing["id"]
    await intent(client, buyer, lid)
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    assert (await client.get(f"{API}/listings/{lid}")).json()["status"] == "negotiating"
    threads = (await client.get(f"{API}/listings/{lid}/negotiations", headers=buyer.headers)).json()["items"]
    assert len(threads) == 1
    (opening,) = threads[0]["offers"]
    assert (opening["side"], opening["price"], opening["status"]) == ("seller", 50_000_000, "open")
    accepted = await client.post(
        f"{API}/negotiations/{threads[0]['id']}/offers/{opening['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    # A public institution's listed price concluded by negotiation gets a negotiated-price notice.
    assert deal["notice_kind"] == "negotiated_price" and deal["price"] == 50_000_000
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    await sign_both(client, deal["id"], seller, buyer)
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text
    fee, price = 500_000, 50_000_000
    net = price - fee
    reward = net * 7 // 10
    assert await wallet(client, buyer) == {"posted": FUNDS - price - fee, "held": 0, "available": FUNDS - price - fee}
    assert await wallet(client, seller) == {"posted": net - reward, "held": 0, "available": net - reward}
    assert await balance(app, f"org:{seller.org_id}:inventor_rewards") == reward
    await assert_ledger_sound(app)


async def _auction_deal(client, app, seller_kind: str, bidders: int):
    ops = await operator(client, app)
    seller = await verified(client, ops, seller_kind, name="卖方")
    buyers = [await verified(client, ops, name=f"买方{i}") for i in range(bidders)]
    for buyer in buyers:
        await fund(app, buyer, FUNDS)
    listing = await announced(client, seller, ops, mode="auction")
    for buyer in buyers:
        await intent(client, buyer, listing["id"])
    everyone = (ops, seller, *buyers)
    await to_end_of_announcement(app, client, listing, *everyone)
    await to_auction_opening(app, client, listing, *everyone)
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=buyers[0].headers)).json()
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": 50_000_000}, headers={**buyers[0].headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    app.state.clock.advance(timedelta(minutes=31))
    await sweep(app)
    from tests.helpers import relogin

    await relogin(client, *everyone)
    deals = (await client.get(f"{API}/deals", headers=buyers[0].headers)).json()["items"]
    assert len(deals) == 1
    return ops, seller, buyers, listing, deals[0]


async def test_d_default_forfeits_the_deposit_to_the_seller_less_the_exchange_fee(client, app):
    ops, seller, (buyer,), listing, deal = await _auction_deal(client, app, "enterprise", 1)
    assert deal["notice_kind"] == "deal_result"
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    signed = await sign_both(client, deal["id"], seller, buyer)
    due = datetime.fromisoformat(signed["payment_due_at"].replace("Z", "+00:00"))
    app.state.clock.set(due - timedelta(minutes=1))
    assert (await sweep(app))["payment-deadline"] == 0  # never before the deadline
    app.state.clock.set(due)
    assert (await sweep(app))["payment-deadline"] == 1
    from tests.helpers import relogin

    await relogin(client, ops, seller, buyer)
    shown = (await client.get(f"{API}/deals/{deal['id']}", headers=buyer.headers)).json()
    # ¥1,000 minimum fee on a ¥50,000 deposit (1% would be ¥500).
    assert shown["state"] == "defaulted"
    assert (shown["forfeited_to_seller"], shown["forfeited_to_exchange"]) == (4_900_000, 100_000)
    # Both parties are told, with what was forfeited.
    told = await only(app.state.db, Kind.PAYMENT_DEFAULTED)
    assert set(told.audience["orgs"]) == {buyer.org_id, seller.org_id} and told.subject_id == deal["id"]
    assert (told.data["forfeited_to_seller_fen"], told.data["forfeited_to_exchange_fen"]) == (4_900_000, 100_000)
    assert_problem(
        await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()}), 409, "invalid-state"
    )
    assert await wallet(client, buyer) == {"posted": FUNDS - DEPOSIT, "held": 0, "available": FUNDS - DEPOSIT}
    assert await wallet(client, seller) == {"posted": 4_900_000, "held": 0, "available": 4_900_000}
    assert await balance(app, "exchange:forfeits") == 100_000
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    figures = (await client.get(f"{API}/stats", params={"year": 2026})).json()["deals"]
    assert (figures["settled"], figures["defaulted"], figures["forfeits"]) == (0, 1, 100_000)
    await assert_ledger_sound(app)


async def test_default_is_a_move_of_the_deal_transition_table(client, app, monkeypatch):
    """Without ``PAYMENT_MISSED`` in the deals' table the sweeper cannot default a deal: the
    default goes through the table like every other change of a deal's state."""
    from exchange.trading.domain import DEALS, DealAction, DealState
    from tests.helpers import relogin

    ops, seller, (buyer,), _, deal = await _auction_deal(client, app, "enterprise", 1)
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    signed = await sign_both(client, deal["id"], seller, buyer)
    app.state.clock.set(datetime.fromisoformat(signed["payment_due_at"].replace("Z", "+00:00")))
    missed = (DealState.AWAITING_PAYMENT, DealAction.PAYMENT_MISSED)
    monkeypatch.setattr(DEALS, "transitions", {k: v for k, v in DEALS.transitions.items() if k != missed})
    assert (await sweep(app))["payment-deadline"] == 0  # refused by the table: logged, retried next pass
    await relogin(client, buyer)
    assert (await client.get(f"{API}/deals/{deal['id']}", headers=buyer.headers)).json()["state"] == "awaiting_payment"
    monkeypatch.undo()
    # The failed row waits out its back-off before the sweeper tries it again.
    app.state.clock.advance(timedelta(seconds=app.state.settings.sweep_retry_base_seconds))
    assert (await sweep(app))["payment-deadline"] == 1
    shown = (await client.get(f"{API}/deals/{deal['id']}", headers=buyer.headers)).json()
    assert shown["state"] == "defaulted" and shown["end_reason"] == "the payment deadline passed"
    await assert_ledger_sound(app)


async def test_e_an_upheld_objection_cancels_the_deal_and_releases_every_hold(client, app):
    ops, seller, buyers, listing, deal = await _auction_deal(client, app, "enterprise", 2)
    assert await wallet(client, buyers[1]) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert await wallet(client, buyers[0]) == {"posted": FUNDS, "held": DEPOSIT, "available": FUNDS - DEPOSIT}
    filed = await client.post(
        f"{API}/notices/{deal['notice_id']}/objections", json={"reason": REASON}, headers=buyers[1].headers
    )
    assert filed.status_code == 201, filed.text
    upheld = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "upheld", "note": "竞价程序违规"},
        headers=ops.headers,
    )
    assert upheld.status_code == 200, upheld.text
    shown = (await client.get(f"{API}/deals/{deal['id']}", headers=buyers[0].headers)).json()
    assert shown["state"] == "cancelled"
    for buyer in buyers:
        assert await wallet(client, buyer) == {"posted": FUNDS, "held": 0, "available": FUNDS}
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    assert_problem(await client.post(f"{API}/deals/{deal['id']}/sign", headers=seller.headers), 409, "invalid-state")
    await assert_ledger_sound(app)


class HalfInVouchers:
    """A voucher payer as the vouchers module will supply one: it pays up to half of the buyer's fee
    with the buyer's vouchers (VCH), moved to the exchange's brokerage account in the same transaction."""

    def __init__(self, operator_org_id: str) -> None:
        self.operator_org_id = operator_org_id

    async def pay_fee(self, session, *, buyer_org_id, fee, deal_id, now, instalment=0) -> int:
        from ledger import service as ledger

        vouchers = await ledger.get_or_create_account(
            session, f"org:{buyer_org_id}:vouchers", "VCH", "liability", True, now=now
        )
        received = await ledger.get_or_create_account(
            session, f"org:{self.operator_org_id}:vouchers_received", "VCH", "liability", True, now=now
        )
        paid = min(fee // 2, vouchers.available)
        if paid:
            await ledger.transfer(
                session,
                vouchers.id,
                received.id,
                paid,
                unit="VCH",
                kind="voucher_fee",
                now=now,
                metadata={"deal_id": str(deal_id)},
            )
        return paid


async def test_part_of_the_buyer_fee_is_paid_with_vouchers_through_the_seam(client, app):
    from ledger import service as ledger

    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise")
    buyer = await verified(client, ops)
    await fund(app, buyer, FUNDS)
    now = app.state.clock.now()

    async def grant(session):
        issuance = await ledger.get_or_create_account(session, "program:P1:issuance", "VCH", "equity", now=now)
        mine = await ledger.get_or_create_account(
            session, f"org:{buyer.org_id}:vouchers", "VCH", "liability", True, now=now
        )
        await ledger.transfer(session, issuance.id, mine.id, 1_000_000, unit="VCH", kind="voucher_grant", now=now)

    await app.state.db.transaction(grant)
    app.state.trading.fee_voucher_payer = HalfInVouchers(ops.org_id)
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['standing_offer_id']}/accept", headers=buyer.headers
    )
    deal = accepted.json()
    assert deal["notice_kind"] == "deal_result"  # an enterprise seller
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer)
    await sign_both(client, deal["id"], seller, buyer)
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    fee, price = 500_000, 50_000_000
    assert paid.json()["fees"]["buyer_fee_vouchers"] == fee // 2
    assert await wallet(client, buyer) == {
        "posted": FUNDS - price - fee // 2,
        "held": 0,
        "available": FUNDS - price - fee // 2,
    }
    assert await wallet(client, seller) == {"posted": price - fee, "held": 0, "available": price - fee}
    assert await balance(app, "exchange:fees") == fee + fee // 2
    assert await balance(app, f"org:{ops.org_id}:vouchers_received") == fee // 2
    await assert_ledger_sound(app)
