"""What a succeeded card payment writes when Stripe reports a fee (localstripe's fees are always zero)."""

from __future__ import annotations

import uuid

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind
from exchange.payments import card
from exchange.payments.models import Booking, StripePayment
from ledger import service as ledger
from tests.helpers import credit_code


async def test_a_fee_goes_to_the_fees_account_and_the_wallet_gets_the_gross(db, clock):
    now = clock.now()
    _, org = await db.transaction(
        lambda s: parties.register(
            s,
            email=f"c-{uuid.uuid4().hex[:8]}@example.cn",
            password_hash="x",
            display_name="买方",
            org_name="上海某公司",
            credit_code=credit_code(),
            kind=OrgKind.ENTERPRISE,
            now=now,
            verified=True,
        )
    )
    payment = StripePayment(
        id=uuid.uuid4(),
        org_id=org.id,
        amount=10_000,
        currency="cny",
        status="pending",
        payment_intent_id="pi_fee",
        fee=0,
        failure="",
        created_by=uuid.uuid4(),
        created_at=now,
        updated_at=now,
    )

    async def add(session):
        session.add(payment)

    await db.transaction(add)
    # The shape Stripe returns for a PaymentIntent with its charge and balance transaction expanded.
    intent = {
        "id": "pi_fee",
        "status": "succeeded",
        "currency": "cny",
        "amount": 10_000,
        "amount_received": 10_000,
        "latest_charge": {"id": "ch_fee", "created": int(now.timestamp()), "balance_transaction": {"fee": 320}},
    }

    async def credit(session):
        row = await session.get(StripePayment, payment.id)
        return await card._credit(session, row, intent, now)

    outcome = await db.transaction(credit)
    assert "credited 10000 fen (fee 320)" in outcome
    async with db.read() as session:
        balances = {
            code: (await ledger.account_by_code(session, code)).balance
            for code in (f"org:{org.id}:cash", "psp:stripe:clearing", "psp:stripe:fees")
        }
        row = await session.get(StripePayment, payment.id)
        booking = await session.get(Booking, row.entry_id)
        entry = await ledger.get_entry(session, row.entry_id)
    assert balances == {f"org:{org.id}:cash": 10_000, "psp:stripe:clearing": 9_680, "psp:stripe:fees": 320}
    assert (row.status, row.fee, row.charge_id) == ("succeeded", 320, "ch_fee")
    assert booking.reference == "ch_fee" and entry.external_ref == "ch_fee" and len(entry.postings) == 3
