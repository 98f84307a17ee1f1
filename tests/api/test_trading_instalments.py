"""Deals paid in instalments, over HTTP on both databases: the down payment through the pay route,
later instalments collected from the buyer's wallet on their due dates after a reminder and each
settled at once, a short wallet's grace period, and default on a missed instalment."""

from __future__ import annotations

from datetime import timedelta

from exchange.platform.outbox import Kind
from exchange.trading.domain import DEALS, DealAction, DealState
from tests.helpers import assert_problem
from tests.instalment_helpers import AMOUNTS, DEPOSIT, LUMP, PRICE, SHARES, at, instalment_deal, show, to
from tests.notification_helpers import only
from tests.trading_helpers import API, assert_ledger_sound, balance, fund, key, sweep, wallet


async def test_instalments_are_collected_on_their_due_dates_and_each_is_settled_as_it_is_paid(client, app):
    funds = 100_000_000
    ops, seller, buyer, listing, deal = await instalment_deal(client, app, funds)
    parties = (ops, seller, buyer)
    did = deal["id"]
    assert deal["state"] == "awaiting_payment"
    schedule = deal["payment_schedule"]
    signed_at = at(deal["buyer_signed_at"])
    down, first, last = schedule
    # Dated at signing: the down payment due now and by the payment deadline; later ones on their
    # day (00:00 Beijing), a reminder three working days before and five working days of grace.
    assert at(down["due_at"]) == signed_at and down["deadline_at"] == deal["payment_due_at"]
    assert signed_at <= at(down["remind_at"]) < at(down["deadline_at"])  # three working days before the last day
    for payment, months in ((first, 6), (last, 12)):
        due = at(payment["due_at"])
        assert (due.year * 12 + due.month) - (signed_at.year * 12 + signed_at.month) == months
        assert at(payment["remind_at"]) < due < at(payment["deadline_at"])
    certificate = (await client.get(f"{API}/deals/{did}/certificate", headers=buyer.headers)).json()["content"]
    assert [(p["amount"], p["due_at"], p["deadline_at"]) for p in certificate["payment_schedule"]] == [
        (p["amount"], p["due_at"], p["deadline_at"]) for p in schedule
    ]

    # The down payment: the deposit counts toward it, the rest comes from the wallet; settled at once.
    paid = await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text
    shown = paid.json()
    assert shown["state"] == "paying_instalments" and shown["settled_at"] is None and shown["paid_at"] is None
    down = shown["payment_schedule"][0]
    assert down["status"] == "settled" and down["from_deposit"] == DEPOSIT and down["settled_at"]
    assert len(down["payment_entry_ids"]) == 3  # the deposit hold posted, deposit → escrow, wallet → escrow
    assert len(down["settlement_entry_ids"]) == 4  # proceeds, seller fee, buyer fee, inventors' reward
    entry = await client.get(f"{API}/ledger/entries/{down['settlement_entry_ids'][0]}", headers=ops.headers)
    assert entry.status_code == 200 and entry.json()["metadata"]["instalment"] == 0
    spent = AMOUNTS[0] + SHARES[0].buyer_fee
    assert await wallet(client, buyer) == {"posted": funds - spent, "held": 0, "available": funds - spent}
    assert await wallet(client, seller) == {
        "posted": SHARES[0].seller_proceeds,
        "held": 0,
        "available": SHARES[0].seller_proceeds,
    }
    assert await balance(app, f"deal:{did}:escrow") == 0  # each payment leaves escrow as it came in
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "deal_formed"
    # Money has gone to the seller: no cancellation by agreement any more.
    assert_problem(await client.post(f"{API}/deals/{did}/cancel", headers=buyer.headers), 409, "invalid-state")

    # A reminder three working days before the first later instalment, once.
    remind_at, due_at = at(first["remind_at"]), at(first["due_at"])
    counts = await to(app, client, remind_at - timedelta(minutes=1), *parties)
    assert counts["instalment-reminder"] == 0
    counts = await to(app, client, remind_at, *parties)
    assert counts["instalment-reminder"] == 1 and counts["instalment-collection"] == 0
    assert (await sweep(app))["instalment-reminder"] == 0
    shown = await show(client, seller, did)
    (note,) = shown["notifications"]
    assert note["kind"] == "payment_reminder" and note["details"]["amount"] == AMOUNTS[1]
    assert note["details"]["due_at"] == first["due_at"] and shown["payment_schedule"][1]["reminded_at"]
    due = await only(app.state.db, Kind.PAYMENT_DUE)  # and the buyer is told, once
    assert due.audience["orgs"] == [buyer.org_id] and (due.data["instalment"], due.data["amount_fen"]) == (
        1,
        AMOUNTS[1],
    )
    assert due.data["due_at"] == first["due_at"] and due.data["collected"] is True
    # Not paid ahead of the schedule, and not collected before its day.
    assert_problem(
        await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **key()}), 409, "instalment-not-due"
    )
    counts = await to(app, client, due_at - timedelta(seconds=1), *parties)
    assert counts["instalment-collection"] == 0

    # On its due date the sweeper collects it from the wallet into escrow and settles it.
    counts = await to(app, client, due_at, *parties)
    assert counts["instalment-collection"] == 1 and counts["payment-deadline"] == 0
    assert (await sweep(app))["instalment-collection"] == 0  # once
    shown = await show(client, buyer, did)
    assert shown["state"] == "paying_instalments"
    collected = shown["payment_schedule"][1]
    assert collected["status"] == "settled" and collected["paid_at"] == collected["settled_at"]
    assert collected["from_deposit"] == 0 and len(collected["payment_entry_ids"]) == 1
    spent += AMOUNTS[1] + SHARES[1].buyer_fee
    assert (await wallet(client, buyer))["posted"] == funds - spent

    # The last one: the deal settles in full and the listing is sold.
    counts = await to(app, client, at(last["due_at"]), *parties)
    assert counts["instalment-reminder"] == 0  # its reminder's time passed while the clock jumped
    assert counts["instalment-collection"] == 1
    shown = await show(client, buyer, did)
    assert shown["state"] == "settled" and shown["paid_at"] and shown["settled_at"] == shown["ended_at"]
    assert [p["status"] for p in shown["payment_schedule"]] == ["settled"] * 3
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "sold"

    # Altogether: exactly the lump-sum settlement of the same price.
    assert (await wallet(client, buyer))["posted"] == funds - PRICE - LUMP.buyer_fee
    assert (await wallet(client, seller))["posted"] == LUMP.seller_proceeds
    assert await balance(app, f"org:{seller.org_id}:inventor_rewards") == LUMP.inventor_reward
    assert await balance(app, "exchange:fees") == LUMP.exchange_revenue
    assert await balance(app, f"deal:{did}:escrow") == 0
    assert await balance(app, f"listing:{listing['id']}:deposits") == 0
    assert (shown["fees"]["seller_fee"], shown["fees"]["buyer_fee"]) == (LUMP.seller_fee, LUMP.buyer_fee)
    await assert_ledger_sound(app)


async def test_a_short_wallet_has_the_grace_period_to_pay_through_the_same_route(client, app):
    # Enough for the down payment and its fee: nothing left for the next instalment.
    funds = DEPOSIT + (AMOUNTS[0] - DEPOSIT) + SHARES[0].buyer_fee
    ops, seller, buyer, _, deal = await instalment_deal(client, app, funds)
    parties = (ops, seller, buyer)
    did = deal["id"]
    assert (await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **key()})).status_code == 200
    first = deal["payment_schedule"][1]
    counts = await to(app, client, at(first["due_at"]), *parties)
    assert counts["instalment-collection"] == 1
    shown = await show(client, buyer, did)
    assert shown["state"] == "paying_instalments"
    assert [p["status"] for p in shown["payment_schedule"]] == ["settled", "overdue", "pending"]
    assert shown["payment_schedule"][1]["payment_entry_ids"] == []
    overdue = shown["notifications"][-1]
    assert overdue["kind"] == "payment_overdue" and overdue["details"]["deadline_at"] == first["deadline_at"]
    assert overdue["details"]["available"] == 0  # what the wallet had, and what was needed, in fen
    told = await only(app.state.db, Kind.PAYMENT_OVERDUE)
    assert told.audience["orgs"] == [buyer.org_id] and told.data["deadline_at"] == first["deadline_at"]
    assert await wallet(client, buyer) == {"posted": 0, "held": 0, "available": 0}  # nothing moved
    assert (await sweep(app))["instalment-collection"] == 0  # the sweeper does not try again
    # A short wallet on the route: 409 insufficient-funds, nothing written, the key free for a retry.
    retry = key()
    assert_problem(
        await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **retry}), 409, "insufficient-funds"
    )

    # Within the grace period the buyer tops up and pays with an Idempotency-Key.
    await to(app, client, at(first["deadline_at"]) - timedelta(minutes=1), *parties)
    await fund(app, buyer, AMOUNTS[1] + SHARES[1].buyer_fee)
    paid = await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **retry})
    assert paid.status_code == 200, paid.text
    assert [p["status"] for p in paid.json()["payment_schedule"]] == ["settled", "settled", "pending"]
    replayed = await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **retry})
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == paid.json()
    assert await wallet(client, buyer) == {"posted": 0, "held": 0, "available": 0}
    assert (await to(app, client, at(first["deadline_at"]), *parties))["payment-deadline"] == 0
    assert (await show(client, buyer, did))["state"] == "paying_instalments"
    await assert_ledger_sound(app)


async def test_an_instalment_unpaid_at_its_deadline_defaults_the_deal_and_the_seller_keeps_what_was_settled(
    client, app
):
    funds = AMOUNTS[0] + SHARES[0].buyer_fee
    ops, seller, buyer, listing, deal = await instalment_deal(client, app, funds)
    parties = (ops, seller, buyer)
    did = deal["id"]
    assert (await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **key()})).status_code == 200
    first = deal["payment_schedule"][1]
    await to(app, client, at(first["due_at"]), *parties)
    deadline = at(first["deadline_at"])
    counts = await to(app, client, deadline - timedelta(seconds=1), *parties)
    assert counts["payment-deadline"] == 0  # never before the deadline
    counts = await to(app, client, deadline, *parties)
    assert counts["payment-deadline"] == 1
    assert (await sweep(app))["payment-deadline"] == 0
    shown = await show(client, seller, did)
    assert shown["state"] == "defaulted" and shown["ended_at"] and "month 6" in shown["end_reason"]
    assert [p["status"] for p in shown["payment_schedule"]] == ["settled", "defaulted", "defaulted"]
    # The seller keeps the settled down payment (the deposit was part of it); nothing more moves.
    assert (shown["forfeited_to_seller"], shown["forfeited_to_exchange"]) == (0, 0)
    assert (await wallet(client, seller))["posted"] == SHARES[0].seller_proceeds
    assert await balance(app, f"org:{seller.org_id}:inventor_rewards") == SHARES[0].inventor_reward
    assert await balance(app, "exchange:fees") == SHARES[0].seller_fee + SHARES[0].buyer_fee
    assert await balance(app, "exchange:forfeits") == 0
    assert (await wallet(client, buyer))["posted"] == funds - AMOUNTS[0] - SHARES[0].buyer_fee
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    assert_problem(
        await client.post(f"{API}/deals/{did}/pay", headers={**buyer.headers, **key()}), 409, "invalid-state"
    )
    figures = (await client.get(f"{API}/stats", params={"year": 2026})).json()["deals"]
    assert (figures["settled"], figures["defaulted"]) == (0, 1)
    await assert_ledger_sound(app)


async def test_a_missed_down_payment_defaults_as_a_lump_sum_does(client, app):
    ops, seller, buyer, listing, deal = await instalment_deal(client, app, 100_000_000)
    counts = await to(app, client, at(deal["payment_due_at"]), ops, seller, buyer)
    assert counts["payment-deadline"] == 1
    shown = await show(client, buyer, deal["id"])
    assert shown["state"] == "defaulted"
    assert [p["status"] for p in shown["payment_schedule"]] == ["defaulted"] * 3
    assert (shown["forfeited_to_seller"], shown["forfeited_to_exchange"]) == (DEPOSIT - 100_000, 100_000)
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "unsold"
    await assert_ledger_sound(app)


async def test_a_missed_instalment_defaults_the_deal_through_the_transition_table(client, app, monkeypatch):
    """Without ``(paying_instalments, payment_missed)`` in the table the deal does not default."""
    funds = AMOUNTS[0] + SHARES[0].buyer_fee
    ops, seller, buyer, _, deal = await instalment_deal(client, app, funds)
    assert (await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})).status_code == 200
    first = deal["payment_schedule"][1]
    await to(app, client, at(first["due_at"]), ops, seller, buyer)
    missed = (DealState.PAYING_INSTALMENTS, DealAction.PAYMENT_MISSED)
    monkeypatch.setattr(DEALS, "transitions", {k: v for k, v in DEALS.transitions.items() if k != missed})
    assert (await to(app, client, at(first["deadline_at"]), ops, seller, buyer))["payment-deadline"] == 0
    assert (await show(client, buyer, deal["id"]))["state"] == "paying_instalments"
    monkeypatch.undo()
    # The failed row waits out its back-off before the sweeper tries it again.
    app.state.clock.advance(timedelta(seconds=app.state.settings.sweep_retry_base_seconds))
    assert (await sweep(app))["payment-deadline"] == 1
    assert (await show(client, buyer, deal["id"]))["state"] == "defaulted"


async def test_cancelling_before_payment_cancels_the_schedule(client, app):
    _, seller, buyer, _, deal = await instalment_deal(client, app, 100_000_000)
    for party in (seller, buyer):
        cancelled = await client.post(f"{API}/deals/{deal['id']}/cancel", headers=party.headers)
        assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert [p["status"] for p in cancelled.json()["payment_schedule"]] == ["cancelled"] * 3
    assert await wallet(client, buyer) == {"posted": 100_000_000, "held": 0, "available": 100_000_000}


class HalfOfEachFee:
    """A voucher payer that pays half of each fee it is asked for, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    async def pay_fee(self, session, *, buyer_org_id, fee, deal_id, now, instalment=0) -> int:
        self.asked.append((instalment, fee))
        return fee // 2


async def test_vouchers_are_asked_for_each_instalments_part_of_the_buyer_fee(client, app):
    funds = 100_000_000
    ops, seller, buyer, _, deal = await instalment_deal(client, app, funds)
    payer = HalfOfEachFee()
    app.state.trading.fee_voucher_payer = payer
    assert (await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})).status_code == 200
    await to(app, client, at(deal["payment_schedule"][1]["due_at"]), ops, seller, buyer)
    assert payer.asked == [(0, SHARES[0].buyer_fee), (1, SHARES[1].buyer_fee)]
    shown = await show(client, buyer, deal["id"])
    halves = [SHARES[0].buyer_fee // 2, SHARES[1].buyer_fee // 2]
    assert [p["buyer_fee_vouchers"] for p in shown["payment_schedule"]] == [*halves, 0]
    assert shown["fees"]["buyer_fee_vouchers"] == sum(halves)
    cash_fees = SHARES[0].buyer_fee + SHARES[1].buyer_fee - sum(halves)
    assert (await wallet(client, buyer))["posted"] == funds - AMOUNTS[0] - AMOUNTS[1] - cash_fees
