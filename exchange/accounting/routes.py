"""The ledger's HTTP API for operators: thin controllers over ``ledger.service`` (SPEC §5, §7.1).

Operators read and write the ledger; writes need an ``Idempotency-Key`` header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIHeader, OpenAPIType, Operation, Parameter, Schema
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

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
from exchange.platform.http import Db, Now
from ledger import adjustments, seal, service
from ledger.errors import IdempotencyKeyRequired
from ledger.views import AdjustmentView, BatchResult, EntryView, TrialBalance

SECURITY = [{"BearerToken": []}]
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

Dependency = NamedDependency[Any]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=KEY_HEADER,
        min_length=1,
        max_length=255,
        description="Required. The same key with the same request returns the original result.",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="items per page (1–100)")]
Cursor = Annotated[str | None, QueryParameter(min_length=1, max_length=500, description="next_cursor of a page")]
AsOfParam = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, description="an RFC 3339 time or an entry id: the state just after it"),
]
REPLAY_DOC = [ResponseHeader(name=REPLAYED_HEADER, documentation_only=True, description="'true' on a replay")]


@dataclass
class KeyedWrite(Operation):
    """The OpenAPI operation of a ledger write: its Idempotency-Key header is a required string.

    The handler takes it as optional so that a missing key gets the ledger's own problem
    (``idempotency-key-required``) rather than a generic validation error.
    """

    def __post_init__(self) -> None:
        for parameter in self.parameters or []:
            if isinstance(parameter, Parameter) and parameter.name.lower() == KEY_HEADER.lower():
                parameter.required = True
                parameter.schema = Schema(type=OpenAPIType.STRING, min_length=1, max_length=255)
        for response in (self.responses or {}).values():
            for name, header in (getattr(response, "headers", None) or {}).items():
                if name == REPLAYED_HEADER and isinstance(header, OpenAPIHeader):
                    header.schema = Schema(type=OpenAPIType.STRING, enum=["true"])


@dataclass(frozen=True)
class Keyed:
    """A keyed ledger write in the making: the unit of work, the clock, the caller and its key."""

    db: Any
    clock: Any
    caller: Any
    key: str

    async def run(self, write: Callable[[Any, datetime, str], Awaitable[Any]], status: int = 201) -> Response[Any]:
        """``write(session, now, key)`` in one transaction; the answer says whether it was a replay."""
        result = await self.db.transaction(lambda s: write(s, self.clock.now(), self.key))
        out = {EntryView: EntryOut.of, BatchResult: BatchOut.of, AdjustmentView: AdjustmentOut.of}[type(result)]
        headers = {REPLAYED_HEADER: "true"} if result.replayed else None
        return Response(out(result), status_code=status, headers=headers)


async def provide_keyed(db: Db, clock: Now, operator: Caller, idempotency_key: IdempotencyKey = None) -> Keyed:
    if not idempotency_key or not idempotency_key.strip():
        raise IdempotencyKeyRequired(f"ledger writes need an {KEY_HEADER} header", field=KEY_HEADER)
    # Each caller's keys apart from other callers' and from the keys modules use in-process.
    return Keyed(db, clock, operator, f"http:{operator.user_id}:{idempotency_key}")


Write = NamedDependency[Keyed]


class LedgerController(Controller):
    path = "/ledger"
    tags = ["ledger"]
    security = SECURITY
    dependencies = {"keyed": Provide(provide_keyed)}

    # -- accounts ---------------------------------------------------------------------------------

    @post("/accounts", status_code=201, summary="Create an account")
    async def create_account(self, data: JSONBody[AccountIn], db: Db, clock: Now, operator: Caller) -> AccountOut:
        account = await db.transaction(
            lambda s: service.create_account(
                s, code=data.code, unit=data.unit, type=data.type, no_overdraft=data.no_overdraft, now=clock.now()
            )
        )
        return AccountOut.of(account)

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
        return AccountPage([AccountOut.of(a) for a in page.items], page.next_cursor)

    @get("/accounts/{account_id:uuid}", summary="An account, now or as of an entry or a time")
    async def show_account(
        self, account_id: FromPath[UUID], db: Db, operator: Caller, as_of: AsOfParam = None
    ) -> AccountOut:
        moment = service.parse_as_of(as_of) if as_of else None
        async with db.read() as s:
            return AccountOut.of(await service.get_account(s, account_id, as_of=moment))

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
        return AccountOut.of(await db.transaction(lambda s: service.close_account(s, account_id, now=clock.now())))

    # -- entries ----------------------------------------------------------------------------------

    @post(
        "/entries",
        status_code=201,
        summary="Record an entry (posted, or pending with an optional timeout)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def create_entry(self, data: JSONBody[EntryIn], keyed: Write) -> Response[EntryOut]:
        spec = data.spec()
        return await keyed.run(lambda s, now, key: service.post_entry(s, spec, now=now, idempotency_key=key))

    @post(
        "/entries/batch",
        status_code=201,
        summary="Record up to 1,000 entries, all or nothing (atomic) or each on its own",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def create_batch(self, data: JSONBody[BatchIn], keyed: Write) -> Response[BatchOut]:
        specs = [e.spec() for e in data.entries]
        return await keyed.run(
            lambda s, now, key: service.post_batch(s, specs, atomic=data.atomic, now=now, idempotency_key=key)
        )

    @get("/entries/{entry_id:uuid}", summary="An entry with its postings and current status")
    async def show_entry(self, entry_id: FromPath[UUID], db: Db, operator: Caller) -> EntryOut:
        async with db.read() as s:
            return EntryOut.of(await service.get_entry(s, entry_id))

    @post(
        "/entries/{entry_id:uuid}/post",
        status_code=201,
        summary="Post a pending entry, all of it or part (the rest is released)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def post_hold(
        self, entry_id: FromPath[UUID], keyed: Write, data: JSONBody[PostIn | None] = None
    ) -> Response[EntryOut]:
        body = data or PostIn()
        return await keyed.run(
            lambda s, now, key: service.post_hold(
                s, entry_id, amount=body.amount, description=body.description, now=now, idempotency_key=key
            )
        )

    @post(
        "/entries/{entry_id:uuid}/void",
        status_code=201,
        summary="Void a pending entry",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def void_hold(
        self, entry_id: FromPath[UUID], keyed: Write, data: JSONBody[VoidIn | None] = None
    ) -> Response[EntryOut]:
        body = data or VoidIn()
        return await keyed.run(
            lambda s, now, key: service.void_hold(
                s, entry_id, description=body.description, now=now, idempotency_key=key
            )
        )

    @post(
        "/entries/{entry_id:uuid}/reverse",
        status_code=201,
        summary="Reverse a posted entry (at most once)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def reverse(
        self, entry_id: FromPath[UUID], keyed: Write, data: JSONBody[ReverseIn | None] = None
    ) -> Response[EntryOut]:
        body = data or ReverseIn()
        return await keyed.run(
            lambda s, now, key: service.reverse(s, entry_id, description=body.description, now=now, idempotency_key=key)
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
    async def propose_adjustment(self, data: JSONBody[AdjustmentIn], keyed: Write) -> Response[AdjustmentOut]:
        spec = data.entry.spec()
        return await keyed.run(
            lambda s, now, key: adjustments.propose_adjustment(
                s, spec, reason=data.reason, maker_id=keyed.caller.user_id, now=now, idempotency_key=key
            )
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
    async def approve_adjustment(self, adjustment_id: FromPath[UUID], keyed: Write) -> Response[AdjustmentOut]:
        return await keyed.run(
            lambda s, now, key: adjustments.approve_adjustment(
                s, adjustment_id, checker_id=keyed.caller.user_id, now=now, idempotency_key=key
            ),
            status=200,
        )
