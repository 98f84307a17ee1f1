"""The ledger's HTTP API for operators: thin controllers over ``ledger.service`` (SPEC §5, §7.1).

Operators read and write the ledger; writes need an ``Idempotency-Key`` header. Direct writes keep
off the exchange's chart of accounts (``direct``): those move by the services or by an adjustment
that a second operator approves.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import direct
from exchange.accounting.schemas import (
    AccountIn,
    AccountOut,
    AccountPage,
    AdjustmentIn,
    AdjustmentOut,
    BatchIn,
    BatchOut,
    CheckpointOut,
    EntryIn,
    EntryOut,
    PostIn,
    ProofOut,
    ReverseIn,
    StatementPage,
    VoidIn,
)
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from exchange.platform.keyed import REPLAY_DOC, IdempotencyKey, KeyedWrite, keyed
from kernel.pagination import Cursor, Limit
from kernel.shapes import shaped
from ledger import adjustments, seal, service
from ledger.views import TrialBalance

AsOfParam = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, description="an RFC 3339 time or an entry id: the state just after it"),
]


class LedgerController(Controller):
    path = "/ledger"
    tags = ["ledger"]
    security = BEARER

    # -- accounts ---------------------------------------------------------------------------------

    @post("/accounts", status_code=201, summary="Create an account")
    async def create_account(self, data: JSONBody[AccountIn], db: Db, clock: Now, operator: Caller) -> AccountOut:
        direct.check_code(data.code)
        account = await db.transaction(
            lambda s: service.create_account(
                s, code=data.code, unit=data.unit, type=data.type, no_overdraft=data.no_overdraft, now=clock.now()
            )
        )
        return shaped(AccountOut, account)

    @get("/accounts", summary="Accounts, in code order")
    async def list_accounts(
        self,
        db: Db,
        operator: Caller,
        limit: Limit = 20,
        cursor: Cursor = None,
        unit: Annotated[str | None, QueryParameter(min_length=1, max_length=8)] = None,
        code_prefix: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
    ) -> AccountPage:
        async with db.read() as s:
            page = await service.list_accounts(s, limit=limit, cursor=cursor, unit=unit, code_prefix=code_prefix)
        return AccountPage([shaped(AccountOut, a) for a in page.items], page.next_cursor)

    @get("/accounts/{account_id:uuid}", summary="An account, now or as of an entry or a time")
    async def show_account(
        self, account_id: FromPath[UUID], db: Db, operator: Caller, as_of: AsOfParam = None
    ) -> AccountOut:
        moment = service.parse_as_of(as_of) if as_of else None
        async with db.read() as s:
            return shaped(AccountOut, await service.get_account(s, account_id, as_of=moment))

    @get("/accounts/{account_id:uuid}/entries", summary="An account's statement, newest first")
    async def statement(
        self,
        account_id: FromPath[UUID],
        db: Db,
        operator: Caller,
        limit: Limit = 20,
        cursor: Cursor = None,
        as_of: AsOfParam = None,
    ) -> StatementPage:
        moment = service.parse_as_of(as_of) if as_of else None
        async with db.read() as s:
            page = await service.statement(s, account_id, limit=limit, cursor=cursor, as_of=moment)
        return StatementPage(page.items, page.next_cursor)

    @post("/accounts/{account_id:uuid}/close", status_code=200, summary="Close an account to new postings")
    async def close_account(self, account_id: FromPath[UUID], db: Db, clock: Now, operator: Caller) -> AccountOut:
        return shaped(AccountOut, await db.transaction(lambda s: service.close_account(s, account_id, now=clock.now())))

    # -- entries ----------------------------------------------------------------------------------

    @post(
        "/entries",
        status_code=201,
        summary="Record an entry (posted, or pending with an optional timeout)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def create_entry(
        self, data: JSONBody[EntryIn], db: Db, clock: Now, operator: Caller, idempotency_key: IdempotencyKey = None
    ) -> Response[EntryOut]:
        spec = data.spec()

        async def work(s: AsyncSession) -> EntryOut:
            await direct.check_entries(s, [spec])
            return shaped(EntryOut, await service.post_entry(s, spec, now=clock.now()))

        # Optimistic: a replay is rare, and the entry's work is undone whole when its key is taken.
        return await keyed(
            db,
            clock,
            operator,
            idempotency_key,
            action="ledger-entry",
            request=data,
            work=work,
            required=True,
            optimistic=True,
        )

    @post(
        "/entries/batch",
        status_code=201,
        summary="Record up to 1,000 entries, all or nothing (atomic) or each on its own",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def create_batch(
        self, data: JSONBody[BatchIn], db: Db, clock: Now, operator: Caller, idempotency_key: IdempotencyKey = None
    ) -> Response[BatchOut]:
        specs = [e.spec() for e in data.entries]

        async def work(s: AsyncSession) -> BatchOut:
            await direct.check_entries(s, specs, batch=True)
            return shaped(BatchOut, await service.post_batch(s, specs, atomic=data.atomic, now=clock.now()))

        return await keyed(
            db, clock, operator, idempotency_key, action="ledger-batch", request=data, work=work, required=True
        )

    @get("/entries/{entry_id:uuid}", summary="An entry with its postings and current status")
    async def show_entry(self, entry_id: FromPath[UUID], db: Db, operator: Caller) -> EntryOut:
        async with db.read() as s:
            return shaped(EntryOut, await service.get_entry(s, entry_id))

    @post(
        "/entries/{entry_id:uuid}/post",
        status_code=201,
        summary="Post a pending entry, all of it or part (the rest is released)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def post_hold(
        self,
        entry_id: FromPath[UUID],
        db: Db,
        clock: Now,
        operator: Caller,
        data: JSONBody[PostIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[EntryOut]:
        body = data or PostIn()

        async def work(s: AsyncSession) -> EntryOut:
            await direct.check_entry(s, entry_id)
            view = await service.post_hold(
                s, entry_id, amount=body.amount, description=body.description, now=clock.now()
            )
            return shaped(EntryOut, view)

        request = [str(entry_id), body]
        return await keyed(
            db, clock, operator, idempotency_key, action="ledger-post", request=request, work=work, required=True
        )

    @post(
        "/entries/{entry_id:uuid}/void",
        status_code=201,
        summary="Void a pending entry",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def void_hold(
        self,
        entry_id: FromPath[UUID],
        db: Db,
        clock: Now,
        operator: Caller,
        data: JSONBody[VoidIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[EntryOut]:
        body = data or VoidIn()

        async def work(s: AsyncSession) -> EntryOut:
            await direct.check_entry(s, entry_id)
            return shaped(EntryOut, await service.void_hold(s, entry_id, description=body.description, now=clock.now()))

        request = [str(entry_id), body]
        return await keyed(
            db, clock, operator, idempotency_key, action="ledger-void", request=request, work=work, required=True
        )

    @post(
        "/entries/{entry_id:uuid}/reverse",
        status_code=201,
        summary="Reverse a posted entry (at most once)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def reverse(
        self,
        entry_id: FromPath[UUID],
        db: Db,
        clock: Now,
        operator: Caller,
        data: JSONBody[ReverseIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[EntryOut]:
        body = data or ReverseIn()

        async def work(s: AsyncSession) -> EntryOut:
            await direct.check_entry(s, entry_id)
            return shaped(EntryOut, await service.reverse(s, entry_id, description=body.description, now=clock.now()))

        request = [str(entry_id), body]
        return await keyed(
            db, clock, operator, idempotency_key, action="ledger-reverse", request=request, work=work, required=True
        )

    # -- seals ------------------------------------------------------------------------------------

    @get("/entries/{entry_id:uuid}/proof", summary="Inclusion proof of a sealed entry, with its signed checkpoint")
    async def proof(self, entry_id: FromPath[UUID], db: Db, operator: Caller) -> ProofOut:
        async with db.read() as s:
            return ProofOut.of(await seal.inclusion_proof(s, entry_id))

    @get("/checkpoints/latest", summary="The latest signed checkpoint")
    async def latest_checkpoint(self, db: Db, operator: Caller) -> CheckpointOut:
        async with db.read() as s:
            return CheckpointOut.of(await seal.latest_block(s))

    @get("/trial-balance", summary="Debits and credits per unit and per account type")
    async def trial_balance(self, db: Db, operator: Caller) -> TrialBalance:
        async with db.read() as s:
            return await service.trial_balance(s)

    # -- adjustments ------------------------------------------------------------------------------

    @post(
        "/adjustments",
        status_code=201,
        summary="Propose a manual entry; a second operator approves it",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def propose_adjustment(
        self, data: JSONBody[AdjustmentIn], db: Db, clock: Now, operator: Caller, idempotency_key: IdempotencyKey = None
    ) -> Response[AdjustmentOut]:
        spec = data.entry.spec()

        async def work(s: AsyncSession) -> AdjustmentOut:
            proposed = await adjustments.propose_adjustment(
                s, spec, reason=data.reason, maker_id=operator.user_id, now=clock.now()
            )
            return AdjustmentOut.of(proposed)

        return await keyed(
            db, clock, operator, idempotency_key, action="ledger-adjustment", request=data, work=work, required=True
        )

    @get("/adjustments/{adjustment_id:uuid}", summary="An adjustment and its approval")
    async def show_adjustment(self, adjustment_id: FromPath[UUID], db: Db, operator: Caller) -> AdjustmentOut:
        async with db.read() as s:
            return AdjustmentOut.of(await adjustments.get_adjustment(s, adjustment_id))

    @post(
        "/adjustments/{adjustment_id:uuid}/approve",
        status_code=200,
        summary="Approve and post an adjustment (not by the operator who proposed it)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def approve_adjustment(
        self,
        adjustment_id: FromPath[UUID],
        db: Db,
        clock: Now,
        operator: Caller,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AdjustmentOut]:
        async def work(s: AsyncSession) -> AdjustmentOut:
            approved = await adjustments.approve_adjustment(
                s, adjustment_id, checker_id=operator.user_id, now=clock.now()
            )
            return AdjustmentOut.of(approved)

        request = str(adjustment_id)
        return await keyed(
            db,
            clock,
            operator,
            idempotency_key,
            action="ledger-approve",
            request=request,
            work=work,
            status=200,
            required=True,
        )
