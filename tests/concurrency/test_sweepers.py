"""Two sweepers at once on PostgreSQL: every due announcement is processed exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import msgspec
from sqlalchemy import select

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import load_or_create_keys
from listings import (
    Actor,
    ListingRules,
    ListingStatus,
    NoticeHandler,
    NoticeKind,
    NoticeSweep,
    create_listings,
    open_notice,
)
from listings.domain import ListingContent, ReviewDecision
from listings.models import Listing, ListingTransition, Notice
from listings.service import create_listing, review_listing, submit_listing
from tests.conftest import START, make_settings
from tests.helpers import credit_code, listing_body

LISTINGS = 40


async def test_two_sweepers_process_each_due_announcement_once(pg_backend, keys_dir):
    keys = load_or_create_keys(make_settings(pg_backend, keys_dir))
    ctx = create_listings(ListingRules(), keys.signer, keys.data)
    seen: list[uuid.UUID] = []

    async def slow_close(session, listing, now):
        seen.append(listing.id)
        await asyncio.sleep(0.005)  # hold the claim a while, so the sweepers overlap
        return ListingStatus.UNSOLD

    ctx.hooks.set_close_handler(slow_close)
    setup = Database(create_engine(pg_backend.url, pool_size=2))
    user, org = await setup.transaction(
        lambda s: parties.register(
            s,
            email=f"seller-{uuid.uuid4().hex[:8]}@example.cn",
            password_hash="x",
            display_name="卖方",
            org_name="上海某大学",
            credit_code=credit_code(),
            kind=OrgKind.UNIVERSITY,
            now=START,
            verified=True,
        )
    )
    seller = Actor(user.id, org.id, org.name, "university", True, True, False, True, True)
    ops = Actor(uuid.uuid4(), uuid.uuid4(), "运营", "operator", True, True, True, False, True)
    body = listing_body()
    body.pop("confidential_details")
    content = msgspec.convert(body, ListingContent)

    async def announce(session):
        listing = await create_listing(session, ctx, seller, content, None, START)
        await submit_listing(session, ctx, seller, listing.id, START)
        await review_listing(session, ctx, ops, listing.id, ReviewDecision.APPROVE, "", START)

    for _ in range(LISTINGS):
        await setup.transaction(announce)

    # Notices of another kind, whose handler has no state machine of its own to refuse a repeat.
    class Recorder(NoticeHandler):
        async def on_closed(self, session, notice, now):
            reported.append(notice.subject_id)

    reported: list[uuid.UUID] = []
    ctx.hooks.register_notice_handler(NoticeKind.DEAL_RESULT, Recorder())
    deals = [uuid.uuid4() for _ in range(LISTINGS)]
    for deal in deals:
        await setup.transaction(
            lambda s, deal=deal: open_notice(
                s,
                ctx,
                kind=NoticeKind.DEAL_RESULT,
                subject_type="deal",
                subject_id=deal,
                title="成交公示",
                body={},
                now=START,
            )
        )

    first = Database(create_engine(pg_backend.url, pool_size=3))
    second = Database(create_engine(pg_backend.url, pool_size=3))
    now = START + timedelta(days=60)
    try:
        counts = await asyncio.gather(NoticeSweep(ctx).run(first, now), NoticeSweep(ctx).run(second, now))
    finally:
        await first.dispose()
        await second.dispose()

    assert sum(counts) == 2 * LISTINGS and min(counts) > 0, counts
    assert len(seen) == len(set(seen)) == LISTINGS
    assert sorted(reported) == sorted(deals)
    async with setup.read() as session:
        actions = Counter(
            (await session.scalars(select(ListingTransition.action).where(ListingTransition.action != "create"))).all()
        )
        statuses = set((await session.scalars(select(Listing.status))).all())
        notice_statuses = set((await session.scalars(select(Notice.status))).all())
    await setup.dispose()
    assert actions["end_announcement"] == LISTINGS and actions["close_unsold"] == LISTINGS
    assert statuses == {"unsold"} and notice_statuses == {"closed"}
