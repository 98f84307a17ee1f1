"""HTTP controllers of technology brokers. Thin: parse, authorise, call one service function in one
transaction, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.brokers import service
from exchange.brokers.domain import BrokerAction, BrokerStatus, EngagementAction, basis_text
from exchange.brokers.models import Broker, Engagement
from exchange.brokers.schemas import (
    BrokerIn,
    BrokerList,
    BrokerOut,
    CreditOut,
    DecisionIn,
    EarnedOnDeal,
    EngagementIn,
    EngagementList,
    EngagementOut,
    RecordOut,
)
from exchange.brokers.service import BrokersContext
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.parties.models import Org
from exchange.platform.http import BEARER, Db, Now

Brokers = NamedDependency[BrokersContext]
Viewer = NamedDependency[Principal | None]


def broker_out(broker: Broker, org: Org) -> BrokerOut:
    return BrokerOut(
        id=broker.id, org_id=broker.org_id, org_name=org.name, name=broker.name,
        credential_number=broker.credential_number, issuing_body=broker.issuing_body, contact=broker.contact,
        status=broker.status, reason=broker.reason, verified_by=broker.verified_by, verified_at=broker.verified_at,
        created_at=broker.created_at,
    )  # fmt: skip


def engagement_out(e: Engagement, earned: int = 0) -> EngagementOut:
    return EngagementOut(
        id=e.id, broker_id=e.broker_id, broker_org_id=e.broker_org_id, subject_kind=e.subject_kind,
        subject_id=e.subject_id, listing_id=e.listing_id, seller_org_id=e.seller_org_id, buyer_org_id=e.buyer_org_id,
        engaged_by_org_id=e.engaged_by_org_id, owed_by=e.side, commission_bp=e.commission_bp,
        commission_fen=e.commission_fen, basis=basis_text(e.commission_bp, e.commission_fen), note=e.note,
        status=e.status, reason=e.reason, deal_id=e.deal_id, commission=e.commission, earned=earned,
        created_at=e.created_at, answered_at=e.answered_at,
    )  # fmt: skip


async def shown(session: AsyncSession, broker: Broker) -> BrokerOut:
    org = await session.get(Org, broker.org_id)
    assert org is not None
    return broker_out(broker, org)


async def record_out(
    session: AsyncSession, ctx: BrokersContext, broker_id: uuid.UUID, viewer: Principal | None
) -> RecordOut:
    record = await service.record(session, ctx, broker_id, viewer)
    return RecordOut(
        broker=broker_out(record.broker, record.org),
        engagements=record.engagements,
        deals=record.deals,
        deals_closed=record.deals_closed,
        earned=record.earned,
        earned_by_deal=[EarnedOnDeal(deal_id=d, earned=amount) for d, amount in record.earned_deals],
        ratings=None,
        credit=CreditOut(
            grade=record.credit.grade, score=record.credit.score, ratings=record.credit.ratings,
            demonstration=record.credit.demonstration,
        ),
    )  # fmt: skip


class BrokerController(Controller):
    path = "/brokers"
    tags = ["brokers"]

    @post("/", security=BEARER, summary="Register a broker of the caller's service-provider organisation (its admins)")
    async def register(self, data: JSONBody[BrokerIn], user: Caller, db: Db, clock: Now) -> BrokerOut:
        async def work(session: AsyncSession) -> BrokerOut:
            return await shown(session, await service.register(session, user, data, clock.now()))

        return await db.transaction(work)

    @get("/", summary="Brokers: the verified ones; operators see every status, an organisation its own")
    async def index(
        self,
        principal: Viewer,
        db: Db,
        status: Annotated[BrokerStatus | None, QueryParameter(description="only brokers in this status")] = None,
        org_id: Annotated[uuid.UUID | None, QueryParameter(description="only this organisation's brokers")] = None,
    ) -> BrokerList:
        async with db.read() as session:
            rows = await service.list_brokers(session, principal, status, org_id)
            return BrokerList([await shown(session, b) for b in rows])

    @get("/{broker_id:uuid}", summary="A broker (pending and rejected ones: its organisation and operators)")
    async def show(self, broker_id: FromPath[uuid.UUID], principal: Viewer, db: Db) -> BrokerOut:
        async with db.read() as session:
            return await shown(session, await service.get_broker(session, broker_id, principal))

    @get("/{broker_id:uuid}/record", summary="A broker's record: engagements, deals closed, commission earned")
    async def record(self, broker_id: FromPath[uuid.UUID], principal: Viewer, db: Db, brokers: Brokers) -> RecordOut:
        async with db.read() as session:
            return await record_out(session, brokers, broker_id, principal)

    async def _decide(
        self, user: Principal, db: Db, clock: Now, broker_id: uuid.UUID, action: BrokerAction, reason: str
    ) -> BrokerOut:
        async def work(session: AsyncSession) -> BrokerOut:
            broker = await service.decide(session, user, broker_id, action, reason, clock.now())
            return await shown(session, broker)

        return await db.transaction(work)

    @post(
        "/{broker_id:uuid}/verify", status_code=200, security=BEARER, summary="Verify a broker's credential (operators)"
    )
    async def verify(self, broker_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> BrokerOut:
        return await self._decide(user, db, clock, broker_id, BrokerAction.VERIFY, "")

    @post(
        "/{broker_id:uuid}/reject",
        status_code=200,
        security=BEARER,
        summary="Reject a broker, with a reason (operators)",
    )
    async def reject(
        self, broker_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now
    ) -> BrokerOut:
        return await self._decide(user, db, clock, broker_id, BrokerAction.REJECT, data.reason)

    @post(
        "/{broker_id:uuid}/suspend",
        status_code=200,
        security=BEARER,
        summary="Suspend a broker, with a reason (operators)",
    )
    async def suspend(
        self, broker_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now
    ) -> BrokerOut:
        return await self._decide(user, db, clock, broker_id, BrokerAction.SUSPEND, data.reason)

    @post(
        "/{broker_id:uuid}/reinstate",
        status_code=200,
        security=BEARER,
        summary="Reinstate a suspended broker (operators)",
    )
    async def reinstate(self, broker_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> BrokerOut:
        return await self._decide(user, db, clock, broker_id, BrokerAction.REINSTATE, "")


class EngagementController(Controller):
    path = "/broker-engagements"
    tags = ["brokers"]

    @post(
        "/",
        security=BEARER,
        summary="Engage a verified broker on a listing, demand, negotiation or deal (a party's admins)",
    )
    async def engage(
        self, data: JSONBody[EngagementIn], user: Caller, db: Db, clock: Now, brokers: Brokers
    ) -> EngagementOut:
        async def work(session: AsyncSession) -> EngagementOut:
            return engagement_out(await service.engage(session, brokers, user, data, clock.now()))

        return await db.transaction(work)

    @get("/", summary="Engagements the caller may see (accepted ones on a listing: anyone)")
    async def index(
        self,
        principal: Viewer,
        db: Db,
        broker_id: Annotated[uuid.UUID | None, QueryParameter(description="of this broker")] = None,
        listing_id: Annotated[uuid.UUID | None, QueryParameter(description="on this listing")] = None,
        deal_id: Annotated[uuid.UUID | None, QueryParameter(description="bound to this deal")] = None,
        subject_id: Annotated[uuid.UUID | None, QueryParameter(description="on this subject (e.g. a demand)")] = None,
    ) -> EngagementList:
        async with db.read() as session:
            rows = await service.list_engagements(
                session, principal, broker_id=broker_id, listing_id=listing_id, deal_id=deal_id, subject_id=subject_id
            )
            earned = await service.earned_by(session, rows)
        return EngagementList([engagement_out(e, earned.get(e.id, 0)) for e in rows])

    @get("/{engagement_id:uuid}", summary="An engagement (its parties, the broker's organisation, operators)")
    async def show(self, engagement_id: FromPath[uuid.UUID], principal: Viewer, db: Db) -> EngagementOut:
        async with db.read() as session:
            engagement = await service.get_engagement(session, engagement_id, principal)
            earned = await service.earned_by(session, [engagement])
        return engagement_out(engagement, earned.get(engagement.id, 0))

    async def _answer(
        self, user: Principal, db: Db, clock: Now, brokers: BrokersContext, engagement_id: uuid.UUID,
        action: EngagementAction, reason: str,
    ) -> EngagementOut:  # fmt: skip
        async def work(session: AsyncSession) -> EngagementOut:
            return engagement_out(
                await service.answer(session, brokers, user, engagement_id, action, reason, clock.now())
            )

        return await db.transaction(work)

    @post(
        "/{engagement_id:uuid}/accept", status_code=200, security=BEARER, summary="Accept (the broker's organisation)"
    )
    async def accept(
        self, engagement_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, brokers: Brokers
    ) -> EngagementOut:
        return await self._answer(user, db, clock, brokers, engagement_id, EngagementAction.ACCEPT, "")

    @post(
        "/{engagement_id:uuid}/decline",
        status_code=200,
        security=BEARER,
        summary="Decline with a reason (the broker's organisation)",
    )
    async def decline(
        self, engagement_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], user: Caller, db: Db, clock: Now,
        brokers: Brokers,
    ) -> EngagementOut:  # fmt: skip
        return await self._answer(user, db, clock, brokers, engagement_id, EngagementAction.DECLINE, data.reason)

    @post(
        "/{engagement_id:uuid}/withdraw",
        status_code=200,
        security=BEARER,
        summary="Withdraw before it is bound to a deal (the engaging party)",
    )
    async def withdraw(
        self, engagement_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, brokers: Brokers
    ) -> EngagementOut:
        return await self._answer(user, db, clock, brokers, engagement_id, EngagementAction.WITHDRAW, "")


BROKER_ROUTES = [BrokerController, EngagementController]
