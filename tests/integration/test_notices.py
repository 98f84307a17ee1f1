"""The generic notice machinery as later modules use it, on both databases: a notice of another
kind is opened through the service, and its handler hears of close, suspension, upholding and
dismissal inside the same transaction; trading drives listing transitions through the API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import listings
from kernel.errors import InvalidState
from listings import Actor, NoticeHandler, NoticeKind, ObjectionDecision
from listings.models import ListingTransition
from listings.notices import file_objection, resolve_objection
from tests.helpers import announced_listing, operator, register, verified


class Recorder(NoticeHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, uuid.UUID]] = []

    async def on_closed(self, session, notice, now):
        self.events.append(("closed", notice.subject_id))

    async def on_suspended(self, session, notice, now):
        self.events.append(("suspended", notice.subject_id))

    async def on_upheld(self, session, notice, objection, now):
        self.events.append(("upheld", notice.subject_id))

    async def on_dismissed(self, session, notice, objection, now):
        self.events.append(("dismissed", notice.subject_id))


def as_actor(party, *, is_operator: bool = False) -> Actor:
    return Actor(
        uuid.UUID(party.user_id), uuid.UUID(party.org_id), "某单位", "enterprise", True, True, is_operator, False, True
    )


async def open_deal_notice(app, deal_id: uuid.UUID, **kw):
    ctx = app.state.listings
    return await app.state.db.transaction(
        lambda s: listings.open_notice(
            s,
            ctx,
            kind=NoticeKind.DEAL_RESULT,
            subject_type="deal",
            subject_id=deal_id,
            title="成交公示：固态锂电池制备方法",
            body={"price": 48_000_000, "buyer": "上海某新能源有限公司"},
            now=app.state.clock.now(),
            **kw,
        )
    )


async def test_a_notice_of_another_kind_reports_to_its_handler(app, clock, client):
    recorder = Recorder()
    app.state.listings.hooks.register_notice_handler(NoticeKind.DEAL_RESULT, recorder)
    db = app.state.db
    quiet, contested, upheld = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    n_quiet = await open_deal_notice(app, quiet)
    n_contested = await open_deal_notice(app, contested)
    n_upheld = await open_deal_notice(app, upheld)
    # Default period of a deal result notice: 5 working days (Monday 2 March → end of Monday 9 March).
    assert n_quiet.closes_at.isoformat() == "2026-03-09T16:00:00+00:00"
    assert n_quiet.content.startswith('{"body":{"buyer":"上海某新能源有限公司","price":48000000}')

    objector = as_actor(await register(client))
    against_contested = await db.transaction(
        lambda s: file_objection(s, objector, n_contested.id, "成交价格低于评估值，请核查。", clock.now())
    )
    against_upheld = await db.transaction(
        lambda s: file_objection(s, objector, n_upheld.id, "买方与发明人存在关联关系。", clock.now())
    )
    ops = as_actor(await operator(client, app), is_operator=True)
    await db.transaction(
        lambda s: resolve_objection(
            s, app.state.listings, ops, against_upheld.id, ObjectionDecision.UPHELD, "属实", clock.now()
        )
    )
    assert recorder.events == [("upheld", upheld)]

    clock.advance(timedelta(days=8))
    counts = await app.state.sweeper.run_once(db, clock.now())
    assert counts["notices"] == 2
    assert sorted(recorder.events[1:]) == sorted([("closed", quiet), ("suspended", contested)])
    assert (await app.state.sweeper.run_once(db, clock.now()))["notices"] == 0

    await db.transaction(
        lambda s: resolve_objection(
            s, app.state.listings, ops, against_contested.id, ObjectionDecision.DISMISSED, "", clock.now()
        )
    )
    assert recorder.events[-2:] == [("dismissed", contested), ("closed", contested)]
    async with db.read() as session:
        statuses = {n.subject_id: n.status for n in [await listings.get_notice(session, n_contested.id)]}
    assert statuses == {contested: "closed"}


async def test_a_handler_failure_leaves_the_notice_due_and_others_proceed(app, clock):
    class Failing(NoticeHandler):
        async def on_closed(self, session, notice, now):
            if notice.subject_id == poisoned:
                raise RuntimeError("the deal module is down")

    poisoned, healthy = uuid.uuid4(), uuid.uuid4()
    app.state.listings.hooks.register_notice_handler(NoticeKind.DEAL_RESULT, Failing())
    bad = await open_deal_notice(app, poisoned)
    good = await open_deal_notice(app, healthy)
    clock.advance(timedelta(days=10))
    assert (await app.state.sweeper.run_once(app.state.db, clock.now()))["notices"] == 1
    async with app.state.db.read() as session:
        assert (await listings.get_notice(session, bad.id)).status == "open"  # rolled back, retried next pass
        assert (await listings.get_notice(session, good.id)).status == "closed"


async def test_trading_drives_listing_transitions(app, client, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops, mode="negotiated")
    listing_id = uuid.UUID(announced["id"])
    ctx, db = app.state.listings, app.state.db

    async def negotiate(session, listing, now):
        return listings.ListingStatus.NEGOTIATING

    ctx.hooks.set_close_handler(negotiate)
    clock.set(clock.now().replace(month=4))
    await app.state.sweeper.run_once(db, clock.now())
    await db.transaction(lambda s: listings.form_deal(s, ctx, listing_id, clock.now(), reason="offer accepted"))
    with pytest.raises(InvalidState):
        await db.transaction(lambda s: listings.start_auction(s, ctx, listing_id, clock.now()))
    done = await db.transaction(lambda s: listings.complete_sale(s, ctx, listing_id, clock.now()))
    assert done.status == "sold"
    async with db.read() as session:
        steps = (
            await session.scalars(
                select(ListingTransition.action)
                .where(ListingTransition.listing_id == listing_id)
                .order_by(ListingTransition.id)
            )
        ).all()
        assert steps[-4:] == ["end_announcement", "start_negotiation", "form_deal", "complete_sale"]
        assert await session.scalar(select(func.count()).select_from(ListingTransition)) == len(steps)
