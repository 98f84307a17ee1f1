"""HTTP controllers of the achievement registry. Thin: parse, authorise, call one service function in
one transaction, shape the answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter

from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Db, Now
from exchange.registry import feed, imports, service
from exchange.registry.domain import Action
from exchange.registry.models import Achievement, ImportRun
from exchange.registry.schemas import (
    AchievementIn,
    AchievementOut,
    AchievementPage,
    CorrectionIn,
    DecisionIn,
    ImportRunOut,
)
from exchange.registry.service import RegistryContext
from kernel.pagination import Cursor, Limit, by_id, keyset_page
from kernel.shapes import shaped
from listings.domain import Field

Registry = NamedDependency[RegistryContext]
Viewer = NamedDependency[Principal | None]
JSONL = "application/x-ndjson"


def achievement_out(a: Achievement) -> AchievementOut:
    return shaped(AchievementOut, a, keywords=list(a.keywords), project_numbers=list(a.project_numbers))


class AchievementController(Controller):
    path = "/registry/achievements"
    tags = ["registry"]

    @post("/", security=BEARER, summary="Open a registration (科技成果登记), prefilled from a listing or a disclosure")
    async def create(
        self, data: JSONBody[AchievementIn], user: Caller, db: Db, clock: Now, registry: Registry
    ) -> AchievementOut:
        return achievement_out(
            await db.transaction(lambda s: service.create_draft(s, registry, user, data, clock.now()))
        )

    @get("/", summary="The library: registered achievements, searched by keyword and field; ?mine lists the caller's")
    async def index(
        self,
        db: Db,
        principal: Viewer,
        q: Annotated[
            str, QueryParameter(max_length=100, description="words of the title, keywords, number or organisation")
        ] = "",
        field: Annotated[Field | None, QueryParameter(description="only this field")] = None,
        mine: Annotated[
            bool, QueryParameter(description="the caller's own registrations, every status (operators: all)")
        ] = False,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> AchievementPage:
        async with db.read() as session:
            if mine and principal is not None:
                rows = await service.list_for(session, principal, limit=limit + 1, cursor=cursor)
                page, next_cursor = keyset_page(rows, limit, by_id)
            else:
                page, next_cursor = await service.library(
                    session, q=q, field=field.value if field else None, cursor=cursor, limit=limit
                )
        return AchievementPage([achievement_out(a) for a in page], next_cursor)

    @get("/{achievement_id:uuid}", summary="A registered achievement (drafts: its organisation and operators)")
    async def show(self, achievement_id: FromPath[uuid.UUID], principal: Viewer, db: Db) -> AchievementOut:
        async with db.read() as session:
            return achievement_out(await service.get_achievement(session, achievement_id, principal))

    @put(
        "/{achievement_id:uuid}", security=BEARER, summary="Edit a draft or a returned registration (its organisation)"
    )
    async def edit(
        self, achievement_id: FromPath[uuid.UUID], data: JSONBody[AchievementIn], user: Caller, db: Db, clock: Now
    ) -> AchievementOut:
        return achievement_out(
            await db.transaction(lambda s: service.update_draft(s, user, achievement_id, data, clock.now()))
        )

    @post("/{achievement_id:uuid}/submit", status_code=200, security=BEARER, summary="Submit for the operator's check")
    async def submit(self, achievement_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> AchievementOut:
        return achievement_out(await db.transaction(lambda s: service.submit(s, user, achievement_id, clock.now())))

    async def _decide(
        self,
        user: Principal,
        db: Db,
        clock: Now,
        registry: RegistryContext,
        achievement_id: uuid.UUID,
        action: Action,
        reason: str,
    ) -> AchievementOut:
        return achievement_out(
            await db.transaction(
                lambda s: service.decide(s, registry, user, achievement_id, action, reason, clock.now())
            )
        )

    @post(
        "/{achievement_id:uuid}/register",
        status_code=200,
        security=BEARER,
        summary="Register: numbered and published (operators)",
    )
    async def register(
        self, achievement_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, registry: Registry
    ) -> AchievementOut:
        return await self._decide(user, db, clock, registry, achievement_id, Action.REGISTER, "")

    @post(
        "/{achievement_id:uuid}/return",
        status_code=200,
        security=BEARER,
        summary="Return to the organisation with a reason (operators)",
    )
    async def send_back(
        self,
        achievement_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        user: Caller,
        db: Db,
        clock: Now,
        registry: Registry,
    ) -> AchievementOut:
        return await self._decide(user, db, clock, registry, achievement_id, Action.RETURN, data.reason)

    @post(
        "/{achievement_id:uuid}/correct",
        status_code=200,
        security=BEARER,
        summary="Correct a registered achievement, with a reason: an event of the feed",
    )
    async def correct(
        self, achievement_id: FromPath[uuid.UUID], data: JSONBody[CorrectionIn], user: Caller, db: Db, clock: Now
    ) -> AchievementOut:
        return achievement_out(
            await db.transaction(lambda s: service.correct(s, user, achievement_id, data, data.reason, clock.now()))
        )

    @post(
        "/{achievement_id:uuid}/withdraw",
        status_code=200,
        security=BEARER,
        summary="Withdraw from the library, with a reason: an event of the feed",
    )
    async def withdraw(
        self, achievement_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now
    ) -> AchievementOut:
        return achievement_out(
            await db.transaction(lambda s: service.withdraw(s, user, achievement_id, data.reason, clock.now()))
        )


@dataclass
class FeedOperation(Operation):
    """Documents the feed's body: JSON Lines, a signed header line first."""

    def __post_init__(self) -> None:
        responses = dict(self.responses or {})
        ok = responses.get("200")
        if ok is not None:
            ok.content = {JSONL: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
            ok.description = (
                "A signed batch: a header line (schema, since, last, count, sha256, key_id, signature), then one"
                " event per line; X-Next-Cursor continues the sync (docs/registry.md)"
            )
        self.responses = responses


@get(
    "/registry/feed",
    tags=["registry"],
    summary="The registry's events since a cursor, in a signed batch of JSON Lines, for the national system",
    media_type=JSONL,
    operation_class=FeedOperation,
)
async def registry_feed(
    db: Db,
    clock: Now,
    registry: Registry,
    since: FromQuery[
        Annotated[int, Parameter(ge=0, le=10**15, description="the last cursor applied (0: from the start)")]
    ] = 0,
    limit: FromQuery[Annotated[int, Parameter(ge=1, le=feed.MAX_BATCH, description="events in the batch")]] = 500,
) -> Response[bytes]:
    async with db.read() as session:
        batch = await feed.batch(session, registry, since, limit, clock.now())
    return Response(batch.body, media_type=JSONL, headers={"X-Next-Cursor": str(batch.last)})


@get("/registry/imports", tags=["registry"], security=BEARER, summary="Bulk import runs and their progress (operators)")
async def import_runs(operator: Caller, db: Db) -> list[ImportRunOut]:
    operator.require_operator()
    async with db.read() as session:
        runs: list[ImportRun] = await imports.list_runs(session)
    return [shaped(ImportRunOut, r) for r in runs]


ROUTE_HANDLERS = [AchievementController, registry_feed, import_runs]
