"""Card top-ups against a local Stripe-compatible server, with the official library and real signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from exchange.payments.domain import china_day
from exchange.payments.gateway import sign
from exchange.platform.clock import ManualClock
from tests import stripe_local
from tests.conftest import make_settings
from tests.helpers import Party, assert_problem, operator, verified
from tests.stripe_local import API_KEY, WEBHOOK_SECRET, events, pay, refund, stripe_client

localstripe_url = stripe_local.localstripe_url
localstripe = stripe_local.localstripe

API = "/api/v1"


@pytest.fixture
def clock() -> ManualClock:
    # localstripe stamps its events with the real time; the exchange's clock starts there.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(backend, keys_dir, localstripe):
    return make_settings(
        backend,
        keys_dir,
        stripe_api_key=API_KEY,
        stripe_api_base=localstripe,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_page_size=2,
    )


@pytest.fixture
async def buyer(client, app) -> Party:
    ops = await operator(client, app)
    party = await verified(client, ops)
    party.ops = ops  # type: ignore[attr-defined]
    return party


async def cash(client, party: Party) -> int:
    wallet = (await client.get(f"{API}/wallet", headers=party.headers)).json()
    return next(b for b in wallet["balances"] if b["unit"] == "CNY")["posted"]


async def deliver(client, event: dict, clock: ManualClock, secret: str = WEBHOOK_SECRET):
    payload = json.dumps(event).encode()
    return await client.post(
        f"{API}/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": sign(payload, secret, clock.now()), "Content-Type": "application/json"},
    )


async def top_up(client, party: Party, amount: int, key: str = "pay-1") -> dict:
    response = await client.post(
        f"{API}/payments", json={"amount": amount}, headers={**party.headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_payment_intent_in_cny_carries_the_org_and_payment_ids(client, buyer, localstripe):
    payment = await top_up(client, buyer, 88_800)
    assert payment["status"] == "pending" and payment["client_secret"].startswith(payment["payment_intent_id"])
    intent = await stripe_client(localstripe).v1.payment_intents.retrieve_async(payment["payment_intent_id"])
    assert (intent.amount, intent.currency) == (88_800, "cny")
    assert intent.metadata.to_dict() == {"org_id": buyer.org_id, "payment_id": payment["id"]}

    again = await client.post(
        f"{API}/payments", json={"amount": 88_800}, headers={**buyer.headers, "Idempotency-Key": "pay-1"}
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["payment_intent_id"] == payment["payment_intent_id"]
    other = await client.post(
        f"{API}/payments", json={"amount": 1}, headers={**buyer.headers, "Idempotency-Key": "pay-1"}
    )
    assert_problem(other, 409, "idempotency-key-reused")


async def test_top_up_webhook_credits_once_even_repeated_and_out_of_order(client, buyer, localstripe, clock):
    payment = await top_up(client, buyer, 50_000)
    await pay(localstripe, payment["payment_intent_id"])
    succeeded = (await events(localstripe, "payment_intent.succeeded"))[0]

    first = await deliver(client, succeeded, clock)
    assert first.status_code == 200, first.text
    assert await cash(client, buyer) == 50_000
    again = await deliver(client, succeeded, clock)
    assert again.status_code == 200 and again.json()["outcome"].startswith("duplicate")
    # The same news under another event id, and a stale "failed" arriving late: re-fetched, no change.
    await deliver(client, {**succeeded, "id": "evt_again"}, clock)
    await deliver(client, {**succeeded, "id": "evt_late_fail", "type": "payment_intent.payment_failed"}, clock)
    assert await cash(client, buyer) == 50_000
    state = (await client.get(f"{API}/payments/{payment['id']}", headers=buyer.headers)).json()
    assert state["status"] == "succeeded"

    entry = (await client.get(f"{API}/ledger/entries/{state['entry_id']}", headers=buyer.ops.headers)).json()
    assert entry["kind"] == "card_top_up" and entry["external_ref"].startswith("ch_")


async def test_a_forged_or_stale_signature_is_refused_and_writes_nothing(client, buyer, localstripe, clock):
    payment = await top_up(client, buyer, 10_000)
    await pay(localstripe, payment["payment_intent_id"])
    succeeded = (await events(localstripe, "payment_intent.succeeded"))[0]
    forged = await deliver(client, succeeded, clock, secret="whsec_someone_else")
    assert_problem(forged, 400, "invalid-signature")
    unsigned = await client.post(f"{API}/webhooks/stripe", content=json.dumps(succeeded).encode())
    assert_problem(unsigned, 400, "invalid-signature")
    payload = json.dumps(succeeded).encode()
    stale = await client.post(
        f"{API}/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": sign(payload, WEBHOOK_SECRET, clock.now() - timedelta(minutes=10))},
    )
    assert_problem(stale, 400, "invalid-signature")
    tampered = json.dumps({**succeeded, "id": "evt_tampered"}).encode()
    changed = await client.post(
        f"{API}/webhooks/stripe",
        content=tampered,
        headers={"Stripe-Signature": sign(payload, WEBHOOK_SECRET, clock.now())},
    )
    assert_problem(changed, 400, "invalid-signature")
    assert await cash(client, buyer) == 0
    # The genuine delivery still works afterwards: nothing was remembered from the forged ones.
    assert (await deliver(client, succeeded, clock)).status_code == 200
    assert await cash(client, buyer) == 10_000


async def test_bodies_that_are_not_events_and_unknown_types(client, buyer, clock):
    for body in (b"not json", b"[]", b'{"id": "evt_1"}'):
        response = await client.post(
            f"{API}/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET, clock.now())},
        )
        assert_problem(response, 400, "malformed-event")
    ignored = await deliver(
        client, {"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}, clock
    )
    assert ignored.status_code == 200 and ignored.json()["outcome"].startswith("ignored")


async def test_a_declined_card_marks_the_payment_failed(client, buyer, localstripe, clock):
    payment = await top_up(client, buyer, 7_000)
    await pay(localstripe, payment["payment_intent_id"], card="4000000000000341")
    failed = (await events(localstripe, "payment_intent.payment_failed"))[0]
    assert (await deliver(client, failed, clock)).status_code == 200
    state = (await client.get(f"{API}/payments/{payment['id']}", headers=buyer.headers)).json()
    assert state["status"] == "failed" and state["entry_id"] is None
    assert await cash(client, buyer) == 0


async def test_a_refund_reverses_the_top_up_once(client, buyer, localstripe, clock):
    payment = await top_up(client, buyer, 30_000)
    await pay(localstripe, payment["payment_intent_id"])
    succeeded = (await events(localstripe, "payment_intent.succeeded"))[0]
    charge_id = succeeded["data"]["object"]["latest_charge"]["id"]
    await refund(localstripe, charge_id, 12_000)
    # localstripe sends no refund events; Stripe would send charge.refunded. Its payload is not
    # trusted anyway: the refunds are fetched again. It arrives before the payment's own event.
    refunded = {"id": "evt_refund_1", "type": "charge.refunded", "data": {"object": {"id": charge_id}}}
    assert (await deliver(client, refunded, clock)).status_code == 200
    assert await cash(client, buyer) == 18_000
    assert (await deliver(client, {**refunded, "id": "evt_refund_2"}, clock)).status_code == 200
    assert (await deliver(client, succeeded, clock)).status_code == 200
    assert await cash(client, buyer) == 18_000
    statement = (await client.get(f"{API}/wallet/entries", headers=buyer.headers)).json()["items"]
    assert sorted(line["kind"] for line in statement) == ["card_refund", "card_top_up"]


async def test_payments_need_the_provider_configured(backend, keys_dir, clock):
    import httpx

    from exchange.server.app import create_app
    from tests.conftest import running

    app = create_app(make_settings(backend, keys_dir), clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ops = await operator(c, app)
        party = await verified(c, ops)
        response = await c.post(
            f"{API}/payments", json={"amount": 100}, headers={**party.headers, "Idempotency-Key": "k"}
        )
        assert_problem(response, 409, "provider-not-configured")


async def reconcile_today(client, ops, clock) -> dict:
    day = china_day(clock.now()).isoformat()
    response = await client.post(
        f"{API}/reconciliations",
        json={"provider": "stripe", "period_from": day, "period_to": day},
        headers=ops.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_stripe_balance_transactions_reconcile_with_the_ledger(client, app, buyer, localstripe, clock):
    ops = buyer.ops
    for n, amount in enumerate((30_000, 20_000, 10_000)):
        payment = await top_up(client, buyer, amount, key=f"rec-{n}")
        await pay(localstripe, payment["payment_intent_id"])
    for event in await events(localstripe, "payment_intent.succeeded"):
        assert (await deliver(client, event, clock)).status_code == 200
    charge_id = (await events(localstripe, "payment_intent.succeeded"))[0]["data"]["object"]["latest_charge"]["id"]
    await refund(localstripe, charge_id, 5_000)
    refunded = {"id": "evt_r", "type": "charge.refunded", "data": {"object": {"id": charge_id}}}
    assert (await deliver(client, refunded, clock)).status_code == 200

    # Pages of two records: the listing is followed page after page.
    clean = await reconcile_today(client, ops, clock)
    assert clean["clean"] is True, clean["differences"]
    assert clean["totals"]["matched"]["count"] == 4 and clean["totals"]["matched"]["provider_amount"] == 55_000

    # A payment made at Stripe that never reached the ledger, and an entry Stripe knows nothing of.
    stray = await stripe_client(localstripe).v1.payment_intents.create_async(params={"amount": 999, "currency": "cny"})
    await pay(localstripe, stray.id)
    ghost = await ledger_entry_on_clearing(app, "ch_ghost", 1_234)
    report = await reconcile_today(client, ops, clock)
    differences = {(d["outcome"], d["ledger_amount"], d["provider_amount"]) for d in report["differences"]}
    assert differences == {("missing_in_ledger", None, 999), ("missing_at_provider", 1_234, None)}
    assert next(d for d in report["differences"] if d["outcome"] == "missing_at_provider")["entry_id"] == ghost

    checker = await operator(client, app)
    for difference in report["differences"]:
        proposed = await client.post(
            f"{API}/reconciliations/{report['id']}/resolutions",
            json={"reference": difference["reference"], "counter_account": "exchange:suspense", "reason": "对账"},
            headers=ops.headers,
        )
        assert proposed.status_code == 201, proposed.text
        approved = await client.post(
            f"{API}/reconciliations/{report['id']}/resolutions/{proposed.json()['id']}/approve",
            headers=checker.headers,
        )
        assert approved.status_code == 200, approved.text
    assert (await reconcile_today(client, ops, clock))["clean"] is True


async def ledger_entry_on_clearing(app, reference: str, amount: int) -> str:
    from ledger import service as ledger

    now = app.state.clock.now()

    async def work(session):
        clearing = await ledger.get_or_create_account(session, "psp:stripe:clearing", "CNY", "asset", now=now)
        suspense = await ledger.get_or_create_account(session, "exchange:suspense", "CNY", "liability", now=now)
        entry = await ledger.transfer(
            session, clearing.id, suspense.id, amount, unit="CNY", kind="manual", now=now, external_ref=reference
        )
        return str(entry.id)

    return await app.state.db.transaction(work)


async def test_a_refund_the_wallet_cannot_cover_is_left_for_reconciliation(client, buyer, localstripe, clock):
    payment = await top_up(client, buyer, 30_000)
    await pay(localstripe, payment["payment_intent_id"])
    succeeded = (await events(localstripe, "payment_intent.succeeded"))[0]
    assert (await deliver(client, succeeded, clock)).status_code == 200
    held = await client.post(
        f"{API}/withdrawals",
        json={"amount": 30_000, "payee": "acct"},
        headers={**buyer.headers, "Idempotency-Key": "w"},
    )
    assert held.status_code == 201, held.text
    charge_id = succeeded["data"]["object"]["latest_charge"]["id"]
    stripe_refund = await refund(localstripe, charge_id, 10_000)
    refunded = {"id": "evt_r", "type": "charge.refunded", "data": {"object": {"id": charge_id}}}
    response = await deliver(client, refunded, clock)
    assert response.status_code == 200 and "unrecovered" in response.json()["outcome"]
    assert await cash(client, buyer) == 30_000  # nothing taken from money already promised elsewhere
    report = await reconcile_today(client, buyer.ops, clock)
    assert [(d["outcome"], d["reference"], d["provider_amount"]) for d in report["differences"]] == [
        ("missing_in_ledger", stripe_refund.id, -10_000)
    ]


async def test_a_signed_event_about_an_unknown_payment_is_recorded_for_reconciliation_and_answered_200(
    client, app, buyer, localstripe, clock
):
    ops = buyer.ops
    # An object Stripe does not have (another account's, or test mode's): Stripe answers 404.
    nowhere = {"id": "evt_nowhere", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_nowhere"}}}
    first = await deliver(client, nowhere, clock)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"].startswith("unmatched")
    replayed = await deliver(client, nowhere, clock)
    assert replayed.status_code == 200 and replayed.json()["outcome"].startswith("duplicate")
    # A PaymentIntent Stripe has but the exchange never made.
    stray = await stripe_client(localstripe).v1.payment_intents.create_async(params={"amount": 999, "currency": "cny"})
    await pay(localstripe, stray.id)
    stray_event = next(
        e for e in await events(localstripe, "payment_intent.succeeded") if e["data"]["object"]["id"] == stray.id
    )
    assert (await deliver(client, stray_event, clock)).json()["outcome"].startswith("unmatched")
    # A payment the exchange knows is still credited once.
    payment = await top_up(client, buyer, 40_000)
    await pay(localstripe, payment["payment_intent_id"])
    known = next(
        e
        for e in await events(localstripe, "payment_intent.succeeded")
        if e["data"]["object"]["id"] == payment["payment_intent_id"]
    )
    for _ in range(2):
        assert (await deliver(client, known, clock)).status_code == 200
    assert await cash(client, buyer) == 40_000

    # Operators list them, one record per event, page by page; nobody else may.
    url = f"{API}/webhooks/stripe/events"
    page = await client.get(url, params={"status": "unmatched", "limit": 1}, headers=ops.headers)
    assert page.status_code == 200, page.text
    rest = await client.get(
        url, params={"status": "unmatched", "limit": 1, "cursor": page.json()["next_cursor"]}, headers=ops.headers
    )
    listed = page.json()["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert sorted((e["id"], e["object_id"], e["status"]) for e in listed) == sorted(
        [("evt_nowhere", "pi_nowhere", "unmatched"), (stray_event["id"], stray.id, "unmatched")]
    )
    everything = (await client.get(url, headers=ops.headers)).json()["items"]
    assert sorted(e["status"] for e in everything) == ["processed", "unmatched", "unmatched"]
    assert_problem(await client.get(url, headers=buyer.headers), 403, "forbidden")

    # Reconciliation of the day shows them, as JSON and as CSV.
    report = await reconcile_today(client, ops, clock)
    assert sorted(e["id"] for e in report["unmatched_events"]) == sorted(["evt_nowhere", stray_event["id"]])
    as_csv = await client.get(f"{API}/reconciliations/{report['id']}?format=csv", headers=ops.headers)
    assert as_csv.text.count("未匹配的渠道事件,") == 2 and "pi_nowhere" in as_csv.text


async def test_webhook_answers_5xx_when_stripe_cannot_be_reached_so_that_stripe_retries(backend, keys_dir, clock):
    import httpx

    from exchange.server.app import create_app
    from tests.conftest import running
    from tests.live import free_socket

    sock = free_socket()
    closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # nothing listens there
    settings = make_settings(
        backend, keys_dir, stripe_api_key=API_KEY, stripe_api_base=closed, stripe_webhook_secret=WEBHOOK_SECRET
    )
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        event = {"id": "evt_outage", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_any"}}}
        assert_problem(await deliver(c, event, clock), 502, "provider-unavailable")
        ops = await operator(c, app)
        listed = (await c.get(f"{API}/webhooks/stripe/events", headers=ops.headers)).json()
        assert listed["items"] == []  # not remembered: Stripe's next delivery is processed
