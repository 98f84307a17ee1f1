"""HTTP routes of payments: bank transfers, withdrawals, card top-ups, the Stripe webhook, reconciliations."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.http import Caller
from exchange.payments import bank, card, reconciliation
from exchange.payments.domain import Provider, StripeEventStatus
from exchange.payments.exports import reconciliation_export
from exchange.payments.gateway import stripe_gateway, verify_signature
from exchange.payments.models import (
    BankTransfer,
    Reconciliation,
    ReconciliationLine,
    Resolution,
    StripeEvent,
    StripePayment,
    Withdrawal,
)
from exchange.payments.payers import PayersDependency as Payers
from exchange.payments.providers import run_reconciliation
from exchange.payments.schemas import (
    AccountPayerOut,
    AccountPayerPage,
    BankTransferIn,
    BankTransferOut,
    CompleteWithdrawalIn,
    OutcomeTotals,
    PayerAccountOut,
    PayerAccountPage,
    PaymentIn,
    PaymentOut,
    ReconciliationIn,
    ReconciliationOut,
    ReconciliationPage,
    RejectWithdrawalIn,
    ResolutionIn,
    ResolutionOut,
    StripeEventOut,
    StripeEventPage,
    WebhookOut,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPage,
)
from exchange.platform.http import BEARER, Config, Db, Now
from exchange.platform.keyed import (
    REPLAY_DOC,
    IdempotencyKey,
    KeyedWrite,
    Outcome,
    answer,
    key_scope,
    keyed,
    required_key,
)
from kernel.errors import Forbidden
from kernel.exports import ExportOperation
from kernel.pagination import Cursor, Limit
from kernel.shapes import shaped

log = structlog.get_logger("techx.payments")


def transfer_out(t: BankTransfer) -> BankTransferOut:
    return shaped(BankTransferOut, t)


def withdrawal_out(w: Withdrawal) -> WithdrawalOut:
    return shaped(WithdrawalOut, w)


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
        async def work(session: AsyncSession) -> BankTransferOut:
            transfer = await bank.record_transfer(
                session, **msgspec.structs.asdict(data), operator_id=operator.user_id, now=clock.now()
            )
            return transfer_out(transfer)

        return await keyed(db, clock, operator, idempotency_key, action="bank-transfer", request=data, work=work)


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
        self,
        trader: Caller,
        data: JSONBody[WithdrawalIn],
        db: Db,
        clock: Now,
        payers: Payers,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[WithdrawalOut]:
        if data.payer is None:
            trader.require_admin()  # money leaves the organisation on its admins' word (SPEC §1)

        async def work(session: AsyncSession) -> WithdrawalOut:
            payer = None if data.payer is None else await payers.resolve(session, trader, data.payer, draw=True)
            withdrawal = await bank.request_withdrawal(
                session,
                org_id=trader.org_id,
                amount=data.amount,
                payee=data.payee,
                user_id=trader.user_id,
                now=clock.now(),
                payer=payer,
            )
            return withdrawal_out(withdrawal)

        return await keyed(
            db, clock, trader, idempotency_key, action="withdrawal", request=data, work=work, required=True
        )

    @get(
        "/",
        summary="Withdrawals: an operator sees all (optionally by status), others their organisation's wallet's;"
        " `payer` lists one payer account's (an inventor's) to whoever sees that account",
    )
    async def list_withdrawals(
        self,
        user: Caller,
        db: Db,
        payers: Payers,
        status: Annotated[str | None, QueryParameter(pattern="^(requested|completed|rejected)$")] = None,
        payer: Annotated[str | None, QueryParameter(max_length=100, description="`inventor:<id>`")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> WithdrawalPage:
        org_id = None if user.is_operator else user.org_id
        async with db.read() as session:
            if payer is not None:
                payer = (await payers.resolve(session, user, payer, draw=False)).ref
            rows, next_cursor = await bank.list_withdrawals(
                session, org_id=org_id, status=status, limit=limit, cursor=cursor, payer=payer
            )
        return WithdrawalPage([withdrawal_out(w) for w in rows], next_cursor)

    @get("/{withdrawal_id:uuid}", summary="One withdrawal (its organisation or payer account, or an operator)")
    async def get_withdrawal(
        self, user: Caller, db: Db, payers: Payers, withdrawal_id: FromPath[UUID]
    ) -> WithdrawalOut:
        async with db.read() as session:
            withdrawal = await bank.get_withdrawal(session, withdrawal_id)
            if withdrawal.payer is not None and not user.is_operator:
                await payers.resolve(session, user, withdrawal.payer, draw=False)  # 404 unless it is seen
                return withdrawal_out(withdrawal)
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
    return shaped(PaymentOut, payment, client_secret=client_secret)


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
                db,
                gateway,
                org_id=trader.org_id,
                user_id=trader.user_id,
                amount=data.amount,
                scope=key_scope(trader),
                key=key,
                now=clock.now,
            )
        return answer(Outcome(201, payment_out(payment, secret), replayed))

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


def event_out(event: StripeEvent) -> StripeEventOut:
    return shaped(StripeEventOut, event)


@get(
    "/webhooks/stripe/events",
    tags=["payments"],
    security=BEARER,
    summary="Stripe events received, newest first; ?status=unmatched: about objects the exchange does not know",
)
async def stripe_events(
    operator: Caller,
    db: Db,
    status: Annotated[StripeEventStatus | None, QueryParameter(description="processed, ignored or unmatched")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> StripeEventPage:
    async with db.read() as session:
        events, next_cursor = await card.list_events(session, status=status, limit=limit, cursor=cursor)
    return StripeEventPage([event_out(e) for e in events], next_cursor)


@get(
    "/orgs/{org_id:uuid}/bank-accounts",
    tags=["payments"],
    security=BEARER,
    summary="The bank accounts an organisation pays from, as its recorded transfers name the payer (operators)",
)
async def org_bank_accounts(
    operator: Caller, db: Db, org_id: FromPath[UUID], limit: Limit = 20, cursor: Cursor = None
) -> PayerAccountPage:
    async with db.read() as session:
        rows, next_cursor = await bank.payer_accounts(session, org_id, limit=limit, cursor=cursor)
    return PayerAccountPage([shaped(PayerAccountOut, r._mapping) for r in rows], next_cursor)


@get(
    "/bank-accounts",
    tags=["payments"],
    security=BEARER,
    summary="Which organisations paid from a bank account: match a transfer's payer (operators)",
)
async def bank_account_payers(
    operator: Caller,
    db: Db,
    account: Annotated[
        str,
        QueryParameter(
            min_length=1, max_length=64, pattern=r"^[0-9A-Za-z \-]+$", description="the payer's account number"
        ),
    ],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AccountPayerPage:
    async with db.read() as session:
        rows, next_cursor = await bank.orgs_paying_from(session, account, limit=limit, cursor=cursor)
    return AccountPayerPage([shaped(AccountPayerOut, r._mapping) for r in rows], next_cursor)


def reconciliation_out(
    run: Reconciliation, lines: list[ReconciliationLine], unmatched: list[StripeEvent] | None = None
) -> ReconciliationOut:
    totals = msgspec.json.decode(run.totals, type=dict[str, OutcomeTotals])
    return shaped(
        ReconciliationOut,
        run,
        clean=run.status == "completed" and all(t.count == 0 for k, t in totals.items() if k != "matched"),
        totals=totals,
        row_errors=msgspec.json.decode(run.row_errors),
        differences=lines,
        unmatched_events=[event_out(e) for e in unmatched or []],
    )


async def run_report(session: AsyncSession, reconciliation_id: UUID) -> ReconciliationOut:
    """A run's report as ``GET /reconciliations/{id}`` answers it: the console's page and the
    spreadsheets (the API's and the page's download) are made of it."""
    run, lines = await reconciliation.get_run(session, reconciliation_id)
    unmatched = await reconciliation.unmatched_events(session, run)
    return reconciliation_out(run, lines, unmatched)


def resolution_out(r: Resolution) -> ResolutionOut:
    return shaped(ResolutionOut, r)


class ReconciliationController(Controller):
    path = "/reconciliations"
    tags = ["reconciliation"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        response_headers=REPLAY_DOC,
        summary="Reconcile a provider's records for a period with the ledger (operator)",
    )
    async def create(
        self,
        operator: Caller,
        data: JSONBody[ReconciliationIn],
        db: Db,
        clock: Now,
        settings: Config,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReconciliationOut]:
        key = required_key(idempotency_key) if idempotency_key is not None else None
        run, replayed = await run_reconciliation(
            db,
            settings,
            clock,
            provider=Provider(data.provider),
            period_from=data.period_from,
            period_to=data.period_to,
            statement=reconciliation.Statement.from_text(data.statement) if data.statement is not None else None,
            scope=key_scope(operator),
            key=key,
            operator_id=operator.user_id,
        )
        async with db.read() as session:
            run, lines = await reconciliation.get_run(session, run.id)
            unmatched = await reconciliation.unmatched_events(session, run)
        return answer(Outcome(201, reconciliation_out(run, lines, unmatched), replayed))

    @get("/", summary="Reconciliation runs, newest first (operator)")
    async def list_runs(self, operator: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None) -> ReconciliationPage:
        async with db.read() as session:
            runs, next_cursor = await reconciliation.list_runs(session, limit=limit, cursor=cursor)
        return ReconciliationPage(items=[reconciliation_out(r, []) for r in runs], next_cursor=next_cursor)

    @get(
        "/{reconciliation_id:uuid}",
        summary="A run's report: totals per outcome and every difference (JSON, or a spreadsheet with ?format)",
        operation_class=ExportOperation,
    )
    async def report(
        self,
        operator: Caller,
        db: Db,
        reconciliation_id: FromPath[UUID],
        format: Annotated[
            Literal["json", "csv", "xlsx"],
            QueryParameter(description="json (default), csv (UTF-8 with a BOM, for Excel) or xlsx"),
        ] = "json",
    ) -> Response[ReconciliationOut]:
        async with db.read() as session:
            report = await run_report(session, reconciliation_id)
            if format != "json":
                return (await reconciliation_export(session, report)).response(format)
        return Response(report)

    @post(
        "/{reconciliation_id:uuid}/resolutions",
        status_code=201,
        summary="Propose the adjustment that resolves one difference; a second operator approves it",
    )
    async def propose(
        self, operator: Caller, db: Db, clock: Now, reconciliation_id: FromPath[UUID], data: JSONBody[ResolutionIn]
    ) -> ResolutionOut:
        resolution = await db.transaction(
            lambda s: reconciliation.propose_resolution(
                s,
                reconciliation_id,
                reference=data.reference,
                counter_account=data.counter_account,
                reason=data.reason,
                maker_id=operator.user_id,
                now=clock.now(),
            )
        )
        return resolution_out(resolution)

    @get("/{reconciliation_id:uuid}/resolutions", summary="The resolutions proposed for a run")
    async def resolutions(self, operator: Caller, db: Db, reconciliation_id: FromPath[UUID]) -> list[ResolutionOut]:
        async with db.read() as session:
            await reconciliation.get_run(session, reconciliation_id)
            return [resolution_out(r) for r in await reconciliation.list_resolutions(session, reconciliation_id)]

    @post(
        "/{reconciliation_id:uuid}/resolutions/{resolution_id:uuid}/approve",
        status_code=200,
        summary="Approve a resolution: its adjustment is posted (a different operator than the one who proposed it)",
    )
    async def approve(
        self,
        operator: Caller,
        db: Db,
        clock: Now,
        reconciliation_id: FromPath[UUID],
        resolution_id: FromPath[UUID],
    ) -> ResolutionOut:
        resolution = await db.transaction(
            lambda s: reconciliation.approve_resolution(
                s, reconciliation_id, resolution_id, checker_id=operator.user_id, now=clock.now()
            )
        )
        return resolution_out(resolution)


ROUTE_HANDLERS = [
    BankTransferController,
    WithdrawalController,
    PaymentController,
    stripe_webhook,
    stripe_events,
    org_bank_accounts,
    bank_account_payers,
    ReconciliationController,
]
