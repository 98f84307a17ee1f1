"""Card top-ups through Stripe: the PaymentIntent, and the wallet credited once when Stripe says so.

Stripe is never called inside a database transaction (a retried transaction would call it again,
and a write lock would wait on the network). Whatever an event says, the PaymentIntent, charge and
refunds are fetched again and the ledger is brought in line with what Stripe reports now, so
repeated and out-of-order deliveries change nothing twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.payments.bank import require_org
from exchange.payments.domain import (
    CARD_PAYMENTS,
    CardPaymentAction,
    CardPaymentStatus,
    MalformedEvent,
    Provider,
    ProviderUnavailable,
    RefundStatus,
    StripeEventStatus,
    UnknownAtProvider,
    card_payment_action,
    check_amount,
    next_card_payment_state,
)
from exchange.payments.gateway import StripeGateway
from exchange.payments.models import Booking, StripeEvent, StripePayment, StripeRefund
from exchange.platform.db import Database
from exchange.platform.keyed import Outcome, idempotent
from exchange.platform.tables import new_id
from kernel.errors import NotFound, found
from kernel.pagination import cursor_str, cursor_time, decode_cursor, keyset_page
from ledger import EntrySpec, PostingSpec, Side
from ledger import service as ledger
from ledger.errors import InsufficientFunds

T = TypeVar("T")
CLEARING = chart.clearing(Provider.STRIPE)
Now = Callable[[], datetime]


class PaymentNotFound(NotFound):
    problem_type = "payment-not-found"


class Unmatched(Exception):
    """A webhook event is about an object that is not the exchange's (its message says which)."""


def _field(obj: Any, name: str, default: Any = None) -> Any:
    try:
        value = obj[name]
    except (KeyError, TypeError, IndexError):
        return default
    return default if value is None else value


async def _in(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return await db.transaction(work)


# -- top-ups -----------------------------------------------------------------------------------------


async def create_payment(
    db: Database,
    gateway: StripeGateway,
    *,
    org_id: UUID,
    user_id: UUID,
    amount: int,
    scope: str,
    key: str,
    now: Now,
) -> tuple[StripePayment, str | None, bool]:
    """A PaymentIntent for ``amount`` fen; the same key answers with the same payment.

    The payment is claimed under the key in the common idempotency store (``scope`` by the exchange's
    scope rule); Stripe is called after that transaction, so a replay whose first attempt failed
    before Stripe answered creates the PaymentIntent then (Stripe's own idempotency key is the
    payment's id). Returns the payment, the client secret for the payer's browser, and whether the
    answer replays an earlier one.
    """
    check_amount(amount)

    async def claim(session: AsyncSession) -> Outcome:
        await require_org(session, org_id)
        payment = StripePayment(
            id=new_id(),
            org_id=org_id,
            amount=amount,
            currency="cny",
            status=CARD_PAYMENTS.initial.value,
            fee=0,
            failure="",
            created_by=user_id,
            created_at=now(),
            updated_at=now(),
        )
        session.add(payment)
        await session.flush()
        return Outcome(201, {"payment_id": str(payment.id)})

    claimed = await idempotent(
        db, scope=scope, key=key, request=["card-payment", {"amount": amount}], now=now, work=claim
    )
    replayed = claimed.replayed
    payment = await _in(db, lambda s: get_payment(s, UUID(claimed.body["payment_id"])))
    if payment.payment_intent_id:
        intent = await gateway.payment_intent(payment.payment_intent_id)
        return payment, _field(intent, "client_secret"), replayed
    intent = await gateway.create_payment_intent(
        amount=amount,
        metadata={"org_id": str(org_id), "payment_id": str(payment.id)},
        idempotency_key=f"techx-payment-{payment.id}",
    )

    async def attach(session: AsyncSession) -> StripePayment:
        row = await session.get(StripePayment, payment.id, with_for_update=True)
        assert row is not None
        if row.payment_intent_id is None:
            row.payment_intent_id = intent.id
            row.status = next_card_payment_state(row.status, CardPaymentAction.ATTACH_INTENT).value
            row.updated_at = now()
        return row

    # Made now (an earlier attempt with this key may have failed before Stripe answered): not a replay.
    return await _in(db, attach), _field(intent, "client_secret"), False


async def get_payment(session: AsyncSession, payment_id: UUID) -> StripePayment:
    return found(await session.get(StripePayment, payment_id), PaymentNotFound(f"payment {payment_id} does not exist"))


# -- bringing the ledger in line with Stripe ----------------------------------------------------------


async def sync_payment_intent(db: Database, gateway: StripeGateway, intent_id: str, now: Now) -> str:
    intent = await gateway.payment_intent(intent_id)
    status = _field(intent, "status", "")
    metadata = _field(intent, "metadata", {})

    async def apply(session: AsyncSession) -> str:
        payment = await session.scalar(
            select(StripePayment).where(StripePayment.payment_intent_id == intent_id).with_for_update()
        )
        if payment is None and _field(metadata, "payment_id"):
            # The PaymentIntent was made but its id not yet stored (the request creating it died).
            try:
                payment = await session.get(StripePayment, UUID(metadata["payment_id"]), with_for_update=True)
            except ValueError:
                payment = None
            if payment is not None and payment.payment_intent_id not in (None, intent_id):
                payment = None
        if payment is None:
            raise Unmatched(f"payment intent {intent_id} is not the exchange's")
        payment.payment_intent_id = intent_id
        if payment.status == CardPaymentStatus.SUCCEEDED:
            return f"payment {payment.id} already credited"
        error = _field(intent, "last_payment_error")
        action = card_payment_action(status, attempt_failed=bool(error))
        if not CARD_PAYMENTS.allows(payment.status, action):  # nothing Stripe says changes it now
            return f"payment {payment.id} is {payment.status} (Stripe: {status})"
        if action is CardPaymentAction.SUCCEED:
            return await _credit(session, payment, intent, now())
        payment.status, payment.updated_at = next_card_payment_state(payment.status, action).value, now()
        if action is CardPaymentAction.FAIL:
            payment.failure = str(_field(error, "message", "payment failed"))[:500]
        return f"payment {payment.id} is {payment.status} (Stripe: {status})"

    return await _in(db, apply)


async def _credit(session: AsyncSession, payment: StripePayment, intent: Any, now: datetime) -> str:
    charge = _field(intent, "latest_charge")
    if charge is None or isinstance(charge, str):
        raise ProviderUnavailable(f"Stripe did not return the charge of {payment.payment_intent_id}")
    if _field(intent, "currency") != "cny":
        payment.status = next_card_payment_state(payment.status, CardPaymentAction.FAIL).value
        payment.failure, payment.updated_at = "the payment was not in CNY", now
        return f"payment {payment.id} refused: currency {_field(intent, 'currency')}"
    succeeded = next_card_payment_state(payment.status, CardPaymentAction.SUCCEED)  # before any money moves
    gross = int(_field(intent, "amount_received") or _field(intent, "amount"))
    txn = _field(charge, "balance_transaction")
    fee = int(_field(txn, "fee", 0)) if txn is not None and not isinstance(txn, str) else 0
    clearing = await chart.open_account(session, CLEARING, now)
    wallet = await chart.open_account(session, chart.org_cash(payment.org_id), now)
    postings = [PostingSpec(wallet.id, Side.CREDIT, gross)]
    if gross - fee > 0:
        postings.append(PostingSpec(clearing.id, Side.DEBIT, gross - fee))
    if fee > 0:
        fees = await chart.open_account(session, chart.PSP_STRIPE_FEES, now)
        postings.append(PostingSpec(fees.id, Side.DEBIT, fee))
    charge_id = str(_field(charge, "id"))
    entry = await ledger.post_entry(
        session,
        EntrySpec(
            unit="CNY",
            kind="card_top_up",
            postings=tuple(postings),
            description=f"card top-up {payment.payment_intent_id}",
            metadata={"payment_id": str(payment.id), "org_id": str(payment.org_id), "fee": fee},
            external_ref=charge_id,
        ),
        now=now,
        idempotency_key=f"payments:stripe:charge:{charge_id}",
    )
    payment.status, payment.charge_id, payment.fee, payment.entry_id = succeeded.value, charge_id, fee, entry.id
    payment.failure, payment.updated_at = "", now
    if not entry.replayed:
        created = datetime.fromtimestamp(int(_field(charge, "created", now.timestamp())), UTC)
        session.add(Booking(entry_id=entry.id, provider=Provider.STRIPE, reference=charge_id, value_at=created))
    await session.flush()
    return f"payment {payment.id} credited {gross} fen (fee {fee})"


async def sync_refunds(db: Database, gateway: StripeGateway, charge_id: str, now: Now) -> str:
    charge = await gateway.charge(charge_id)
    intent_id = _field(charge, "payment_intent")
    if not intent_id:
        raise Unmatched(f"charge {charge_id} has no payment intent")
    await sync_payment_intent(db, gateway, str(intent_id), now)
    outcomes = []
    for refund in await gateway.refunds(charge_id):
        if _field(refund, "status") == "succeeded":
            outcomes.append(await _in(db, lambda s, r=refund: _record_refund(s, str(intent_id), r, now())))
    return "; ".join(outcomes) or f"charge {charge_id} has no refund"


async def _record_refund(session: AsyncSession, intent_id: str, refund: Any, now: datetime) -> str:
    refund_id = str(_field(refund, "id"))
    if await session.get(StripeRefund, refund_id) is not None:
        return f"refund {refund_id} already recorded"
    payment = await session.scalar(select(StripePayment).where(StripePayment.payment_intent_id == intent_id))
    if payment is None or payment.entry_id is None:
        return f"refund {refund_id} waits for its payment"
    amount = int(_field(refund, "amount"))
    row = StripeRefund(
        refund_id=refund_id, payment_id=payment.id, amount=amount, status=RefundStatus.RECORDED.value, created_at=now
    )
    refunded = (chart.org_cash(payment.org_id), CLEARING)
    why = f"refund {refund_id} of card top-up {intent_id}"
    meta = {"payment_id": str(payment.id), "refunds_entry": str(payment.entry_id)}
    key = f"payments:stripe:refund:{refund_id}"
    try:
        async with session.begin_nested():
            details = {"description": why, "external_ref": refund_id, "idempotency_key": key}
            entry = await chart.move(session, *refunded, amount, kind="card_refund", now=now, metadata=meta, **details)
    except InsufficientFunds:
        # Stripe has paid the money back; the wallet no longer holds it. Reconciliation shows the
        # refund as missing in the ledger until an operator resolves it.
        row.status = RefundStatus.UNRECOVERED.value
        session.add(row)
        await session.flush()
        return f"refund {refund_id} unrecovered: the wallet holds less than {amount} fen"
    row.entry_id = entry.id
    session.add(row)
    created = datetime.fromtimestamp(int(_field(refund, "created", now.timestamp())), UTC)
    session.add(Booking(entry_id=entry.id, provider=Provider.STRIPE, reference=refund_id, value_at=created))
    await session.flush()
    return f"refund {refund_id} of {amount} fen reversed"


# -- webhook events -----------------------------------------------------------------------------------


def parse_event(payload: bytes) -> tuple[str, str, str]:
    """The event's id, type and the id of the object it is about; nothing else of it is trusted."""
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEvent("the body is not JSON") from None
    obj = _field(_field(event, "data", {}), "object", {})
    event_id, event_type, object_id = _field(event, "id"), _field(event, "type"), _field(obj, "id")
    if not all(isinstance(v, str) and 0 < len(v) <= 255 for v in (event_id, event_type, object_id)):
        raise MalformedEvent("an event needs string fields id, type and data.object.id")
    return event_id, event_type, object_id


async def handle_event(db: Database, gateway: StripeGateway, payload: bytes, now: Now) -> tuple[bool, str]:
    """Process one verified delivery. Returns (processed now, outcome); a known event id is not processed again.

    An event about an object the exchange does not know — Stripe has no such object, or it is not
    one of the exchange's payments — is recorded as ``unmatched`` (answered 200: delivering it again
    would change nothing) for operators and reconciliation to see. Stripe not answering raises
    ``ProviderUnavailable`` (502) and records nothing, so that Stripe delivers the event again.
    """
    event_id, event_type, object_id = parse_event(payload)
    async with db.read() as session:
        seen = await session.get(StripeEvent, event_id)
    if seen is not None:
        return False, f"duplicate of {event_id}: {seen.outcome}"
    status = StripeEventStatus.PROCESSED
    try:
        if event_type.startswith("payment_intent.") and object_id.startswith("pi_"):
            outcome = await sync_payment_intent(db, gateway, object_id, now)
        elif event_type.startswith("charge.") and object_id.startswith("ch_"):
            outcome = await sync_refunds(db, gateway, object_id, now)
        elif (event_type.startswith(("refund.", "charge.refund."))) and object_id.startswith("re_"):
            charge = _field(await gateway.refund(object_id), "charge")
            if not charge:
                raise Unmatched(f"refund {object_id} has no charge")
            outcome = await sync_refunds(db, gateway, str(charge), now)
        else:
            status, outcome = StripeEventStatus.IGNORED, f"ignored: {event_type} is not an event the exchange acts on"
    except Unmatched as exc:
        status, outcome = StripeEventStatus.UNMATCHED, f"unmatched: {exc}"
    except UnknownAtProvider:
        status, outcome = StripeEventStatus.UNMATCHED, f"unmatched: Stripe has no {object_id}"

    async def remember(session: AsyncSession) -> None:
        if await session.get(StripeEvent, event_id) is None:
            session.add(
                StripeEvent(
                    id=event_id,
                    type=event_type,
                    object_id=object_id,
                    status=status.value,
                    outcome=outcome[:200],
                    received_at=now(),
                )
            )

    # A concurrent delivery of the same event may remember it first; its effects are the same.
    with contextlib.suppress(IntegrityError):
        await _in(db, remember)
    return True, outcome


async def list_events(
    session: AsyncSession,
    *,
    status: StripeEventStatus | None = None,
    limit: int,
    cursor: str | None = None,
    received_from: datetime | None = None,
    received_before: datetime | None = None,
) -> tuple[list[StripeEvent], str | None]:
    """A page of the webhook events received, newest first, of one status (or all) and optionally
    received in ``[received_from, received_before)``."""
    query = select(StripeEvent).order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(StripeEvent.status == status.value)
    if received_from is not None:
        query = query.where(StripeEvent.received_at >= received_from)
    if received_before is not None:
        query = query.where(StripeEvent.received_at < received_before)
    position = decode_cursor(cursor, "received_at", "id")
    if position:
        after, after_id = cursor_time(position, "received_at"), cursor_str(position, "id")
        query = query.where(
            (StripeEvent.received_at < after) | ((StripeEvent.received_at == after) & (StripeEvent.id < after_id))
        )
    rows = (await session.scalars(query)).all()
    return keyset_page(rows, limit, lambda e: {"received_at": e.received_at.isoformat(), "id": e.id})
