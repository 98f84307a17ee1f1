"""HTTP routes of payments: bank transfers, withdrawals, card top-ups, the Stripe webhook, reconciliations."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.errors import Forbidden
from exchange.idempotency import Outcome, idempotent, required_key
from exchange.payments import bank, card
from exchange.payments.gateway import stripe_gateway, verify_signature
from exchange.payments.models import BankTransfer, StripePayment, Withdrawal
from exchange.payments.schemas import (
    BankTransferIn,
    BankTransferOut,
    CompleteWithdrawalIn,
    PaymentIn,
    PaymentOut,
    RejectWithdrawalIn,
    WebhookOut,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPage,
)
from exchange.server.dependencies import BEARER, Caller, Config, Db, Now
from ledger.errors import InvalidCursor
from ledger.routes import REPLAY_DOC, REPLAYED_HEADER, IdempotencyKey, KeyedWrite

log = structlog.get_logger("techx.payments")

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="items per page (1–100)")]
Cursor = Annotated[str | None, QueryParameter(min_length=1, max_length=100, description="next_cursor of a page")]


def transfer_out(t: BankTransfer) -> BankTransferOut:
    return BankTransferOut(
        id=t.id,
        org_id=t.org_id,
        amount=t.amount,
        reference=t.reference,
        received_on=t.received_on,
        note=t.note,
        entry_id=t.entry_id,
        recorded_by=t.recorded_by,
        created_at=t.created_at,
    )


def withdrawal_out(w: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut(
        id=w.id,
        org_id=w.org_id,
        amount=w.amount,
        status=w.status,  # type: ignore[arg-type]
        payee=w.payee,
        hold_entry_id=w.hold_entry_id,
        entry_id=w.entry_id,
        bank_reference=w.bank_reference,
        paid_on=w.paid_on,
        reason=w.reason,
        created_at=w.created_at,
        decided_at=w.decided_at,
    )


def answer(outcome: Outcome) -> Response[Any]:
    return Response(outcome.body, status_code=outcome.status_code, headers=outcome.headers)


class BankTransferController(Controller):
    path = "/bank-transfers"
    tags = ["payments"]

    @post(
        "/",
        status_code=201,
        security=BEARER,
        response_headers=REPLAY_DOC,
        summary="Record an incoming bank transfer into an organisation's wallet (each bank reference once)",
    )
    async def record(
        self,
        operator: Caller,
        data: JSONBody[BankTransferIn],
        db: Db,
        clock: Now,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BankTransferOut]:
        async def work(session: AsyncSession) -> Outcome:
            transfer = await bank.record_transfer(
                session,
                org_id=data.org_id,
                amount=data.amount,
                reference=data.reference,
                received_on=data.received_on,
                note=data.note,
                operator_id=operator.user_id,
                now=clock.now(),
            )
            return Outcome(201, transfer_out(transfer))

        key = required_key(idempotency_key) if idempotency_key is not None else None
        outcome = await idempotent(
            db, scope=f"bank-transfer:{operator.user_id}", key=key, request=data, now=clock.now, work=work
        )
        return answer(outcome)


class WithdrawalController(Controller):
    path = "/withdrawals"
    tags = ["payments"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
        summary="Ask for money to be paid out by bank; the amount is held on the wallet until an operator decides",
    )
    async def request(
        self, trader: Caller, data: JSONBody[WithdrawalIn], db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[WithdrawalOut]:
        key = required_key(idempotency_key)

        async def work(session: AsyncSession) -> Outcome:
            withdrawal = await bank.request_withdrawal(
                session,
                org_id=trader.org_id,
                amount=data.amount,
                payee=data.payee,
                user_id=trader.user_id,
                now=clock.now(),
            )
            return Outcome(201, withdrawal_out(withdrawal))

        outcome = await idempotent(
            db, scope=f"withdrawal:{trader.org_id}", key=key, request=data, now=clock.now, work=work
        )
        return answer(outcome)

    @get("/", summary="Withdrawals: an operator sees all (optionally by status), others their organisation's")
    async def list_withdrawals(
        self,
        user: Caller,
        db: Db,
        status: Annotated[str | None, QueryParameter(pattern="^(requested|completed|rejected)$")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> WithdrawalPage:
        query = select(Withdrawal).order_by(Withdrawal.id.desc()).limit(limit + 1)
        if not user.is_operator:
            query = query.where(Withdrawal.org_id == user.org_id)
        if status:
            query = query.where(Withdrawal.status == status)
        if cursor:
            try:
                query = query.where(Withdrawal.id < UUID(cursor))
            except ValueError:
                raise InvalidCursor("the cursor is not one this list gave", field="cursor") from None
        async with db.read() as session:
            rows = list((await session.scalars(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return WithdrawalPage([withdrawal_out(w) for w in rows], str(rows[-1].id) if more else None)

    @get("/{withdrawal_id:uuid}", summary="One withdrawal (its organisation or an operator)")
    async def get_withdrawal(self, user: Caller, db: Db, withdrawal_id: FromPath[UUID]) -> WithdrawalOut:
        async with db.read() as session:
            withdrawal = await bank.get_withdrawal(session, withdrawal_id)
        if withdrawal.org_id != user.org_id and not user.is_operator:
            raise Forbidden("this withdrawal belongs to another organisation")
        return withdrawal_out(withdrawal)

    @post("/{withdrawal_id:uuid}/complete", status_code=200, summary="The bank paid it: post the hold (operator)")
    async def complete(
        self, operator: Caller, db: Db, clock: Now, withdrawal_id: FromPath[UUID], data: JSONBody[CompleteWithdrawalIn]
    ) -> WithdrawalOut:
        withdrawal = await db.transaction(
            lambda s: bank.complete_withdrawal(
                s,
                withdrawal_id,
                bank_reference=data.bank_reference,
                paid_on=data.paid_on,
                operator_id=operator.user_id,
                now=clock.now(),
            )
        )
        return withdrawal_out(withdrawal)

    @post("/{withdrawal_id:uuid}/reject", status_code=200, summary="Not paid: void the hold (operator)")
    async def reject(
        self, operator: Caller, db: Db, clock: Now, withdrawal_id: FromPath[UUID], data: JSONBody[RejectWithdrawalIn]
    ) -> WithdrawalOut:
        withdrawal = await db.transaction(
            lambda s: bank.reject_withdrawal(
                s, withdrawal_id, reason=data.reason, operator_id=operator.user_id, now=clock.now()
            )
        )
        return withdrawal_out(withdrawal)


def payment_out(payment: StripePayment, client_secret: str | None) -> PaymentOut:
    return PaymentOut(
        id=payment.id,
        org_id=payment.org_id,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        payment_intent_id=payment.payment_intent_id,
        client_secret=client_secret,
        entry_id=payment.entry_id,
        created_at=payment.created_at,
    )


class PaymentController(Controller):
    path = "/payments"
    tags = ["payments"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
        summary="Top up the wallet by card: a Stripe PaymentIntent in CNY, credited when Stripe reports it paid",
    )
    async def create(
        self,
        trader: Caller,
        data: JSONBody[PaymentIn],
        db: Db,
        clock: Now,
        settings: Config,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PaymentOut]:
        key = required_key(idempotency_key)
        async with stripe_gateway(settings) as gateway:
            payment, secret, replayed = await card.create_payment(
                db, gateway, org_id=trader.org_id, user_id=trader.user_id, amount=data.amount, key=key, now=clock.now
            )
        headers = {REPLAYED_HEADER: "true"} if replayed else {}
        return Response(payment_out(payment, secret), status_code=201, headers=headers)

    @get("/{payment_id:uuid}", summary="A card top-up and its state (its organisation or an operator)")
    async def get_payment(self, user: Caller, db: Db, payment_id: FromPath[UUID]) -> PaymentOut:
        async with db.read() as session:
            payment = await card.get_payment(session, payment_id)
        if payment.org_id != user.org_id and not user.is_operator:
            raise Forbidden("this payment belongs to another organisation")
        return payment_out(payment, None)


@post(
    "/webhooks/stripe",
    status_code=200,
    tags=["payments"],
    summary="Stripe's events: verified by signature, processed once per event id, objects fetched again",
)
async def stripe_webhook(request: Request[Any, Any, Any], db: Db, clock: Now, settings: Config) -> WebhookOut:
    payload = await request.body()
    verify_signature(
        payload,
        request.headers.get("stripe-signature"),
        settings.stripe_webhook_secret,
        clock.now(),
        settings.stripe_webhook_tolerance_seconds,
    )
    async with stripe_gateway(settings) as gateway:
        processed, outcome = await card.handle_event(db, gateway, payload, clock.now)
    log.info("stripe event", processed=processed, outcome=outcome)
    return WebhookOut(received=True, outcome=outcome)


ROUTE_HANDLERS = [BankTransferController, WithdrawalController, PaymentController, stripe_webhook]
