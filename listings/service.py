"""Use cases of listings: one function = one business operation, inside the caller's transaction.

Every state change goes through ``next_status`` (the table in domain.py), is written to
``listing_transitions`` and is reported to the registered listing observers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from kernel.db import is_postgres
from kernel.errors import Conflict, Forbidden, NotFound
from kernel.keyring import KeyRing
from kernel.signing import Signer
from kernel.time import rfc3339
from listings import crypto, notices
from listings.calendar import working_calendar
from listings.context import ListingsContext
from listings.domain import (
    CLOSE_OUTCOMES,
    COMPETITIVE_MODES,
    FIELD_LABELS,
    MATERIAL_PARTS,
    PUBLIC_STATUSES,
    SUBJECT_LISTING,
    Action,
    Actor,
    AppraisalOfRecord,
    AppraisalReport,
    DealTerms,
    Field,
    Inventor,
    IpAsset,
    IpKind,
    ListingContent,
    ListingRules,
    ListingStatus,
    NoticeKind,
    Pricing,
    PricingMode,
    ResolvedPricing,
    ReviewDecision,
    auction_opening,
    auction_opening_at_close,
    changed_parts,
    deal_type_of,
    next_status,
    to_plain,
    validate_listing,
)
from listings.errors import InvalidListing, InvalidRequest, NdaRequired
from listings.hooks import Amendment, ListingHooks, NoticeHandler
from listings.models import (
    ConfidentialRead,
    Counter,
    Listing,
    ListingIpAsset,
    ListingNda,
    ListingTransition,
    Notice,
    new_id,
)
from listings.models import Objection as ObjectionRow
from listings.search import listing_index_texts
from listings.workdays import WorkingCalendar, beijing_date

PUBLIC_INSTITUTION_KINDS = frozenset({"university", "research_institute"})
NDA_TERMS_VERSION = "techx-nda-2026-1"
WITHDRAWN_BY_SELLER = "the seller withdrew the listing"  # the end reason of a withdrawn listing's notice


def create_listings(
    rules: ListingRules, signer: Signer, data_keys: KeyRing[bytes], public_url: str = "http://127.0.0.1:8000"
) -> ListingsContext:
    """The module's runtime for one application, with its own announcement handler registered."""
    ctx = ListingsContext(rules=rules, signer=signer, data_keys=data_keys, hooks=ListingHooks(), public_url=public_url)
    ctx.hooks.register_notice_handler(NoticeKind.LISTING_ANNOUNCEMENT, AnnouncementHandler(ctx))
    return ctx


# ----------------------------------------------------------------------------------------------
# Helpers


async def bump_counter(session: AsyncSession, name: str) -> int:
    """The next value of a named counter; its row stays locked until commit (values in commit order)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return int((await session.execute(statement)).scalar_one())


def is_public_institution(listing: Listing) -> bool:
    return listing.seller_kind in PUBLIC_INSTITUTION_KINDS


def can_view(listing: Listing, viewer: Actor | None) -> bool:
    if listing.status in PUBLIC_STATUSES:
        return True
    return viewer is not None and (viewer.is_operator or viewer.org_id == listing.seller_org_id)


def is_seller(listing: Listing, actor: Actor) -> bool:
    return actor.org_id == listing.seller_org_id


async def load_listing(
    session: AsyncSession, listing_id: uuid.UUID, *, viewer: Actor | None = None, lock: bool = False, check: bool = True
) -> Listing:
    """The listing with its IP assets; 404 when it does not exist or ``viewer`` may not see it."""
    query = select(Listing).where(Listing.id == listing_id).options(selectinload(Listing.ip_assets))
    if lock:
        query = query.with_for_update()
    listing = await session.scalar(query)
    if listing is None or (check and not can_view(listing, viewer)):
        raise NotFound(f"listing {listing_id} not found")
    return listing


async def _seller_listing(session: AsyncSession, actor: Actor, listing_id: uuid.UUID) -> Listing:
    listing = await load_listing(session, listing_id, viewer=actor, lock=True)
    if not is_seller(listing, actor):
        raise Forbidden("only the seller may change this listing")
    return listing


def appraisal_report_of(listing: Listing) -> AppraisalReport | None:
    if listing.appraisal_report_number is None or listing.appraiser is None or listing.appraisal_report_date is None:
        return None
    return AppraisalReport(
        report_number=listing.appraisal_report_number,
        appraiser=listing.appraiser,
        report_date=listing.appraisal_report_date,
    )


def appraisal_of_record(listing: Listing) -> AppraisalOfRecord | None:
    """The appraisal the listing was announced with; none before its first announcement."""
    if listing.first_announced_at is None or listing.appraised_value is None:
        return None
    return AppraisalOfRecord(value=listing.appraised_value, report=appraisal_report_of(listing))


def content_of(listing: Listing) -> ListingContent:
    return ListingContent(
        title=listing.title,
        summary=listing.summary,
        field=Field(listing.field),
        keywords=list(listing.keywords),
        maturity=listing.maturity,
        ip_assets=[
            IpAsset(kind=IpKind(a.kind), number=a.number, title=a.title, expires_on=a.expires_on)
            for a in listing.ip_assets
        ],
        inventors=msgspec.convert(listing.inventors, list[Inventor]),
        deal=msgspec.convert(listing.deal_terms, DealTerms),
        pricing=Pricing(
            mode=PricingMode(listing.pricing_mode),
            asking_price=listing.asking_price,
            appraised_value=listing.appraised_value,
            deposit=listing.deposit,
            increment=listing.increment,
            appraisal_report=appraisal_report_of(listing),
        ),
        inventor_reward_bp=listing.inventor_reward_bp,
    )


def _apply_content(listing: Listing, content: ListingContent, pricing: ResolvedPricing) -> None:
    keywords = list(dict.fromkeys(k.strip() for k in content.keywords))
    listing.title = content.title.strip()
    listing.summary = content.summary
    listing.field = content.field.value
    listing.keywords = keywords
    listing.maturity = content.maturity
    listing.inventors = to_plain(content.inventors)
    listing.deal_type = deal_type_of(content.deal).value
    listing.deal_terms = to_plain(content.deal)
    listing.pricing_mode = pricing.mode.value
    listing.asking_price = pricing.asking_price
    listing.appraised_value = pricing.appraised_value
    report = pricing.appraisal_report
    listing.appraisal_report_number = report.report_number.strip() if report else None
    listing.appraiser = report.appraiser.strip() if report else None
    listing.appraisal_report_date = report.report_date if report else None
    listing.deposit = pricing.deposit
    listing.increment = pricing.increment
    listing.inventor_reward_bp = pricing.inventor_reward_bp
    listing.ip_assets = [
        ListingIpAsset(
            listing_id=listing.id,
            position=i,
            kind=a.kind.value,
            number=a.number.strip(),
            title=a.title.strip(),
            expires_on=a.expires_on,
        )
        for i, a in enumerate(content.ip_assets)
    ]
    listing.search_title, listing.search_body = listing_index_texts(
        listing.title,
        keywords,
        content.summary,
        FIELD_LABELS[content.field],
        [(a.title, a.number) for a in content.ip_assets],
        [i.name for i in content.inventors],
        listing.seller_org_name,
    )


def public_listing(listing: Listing) -> dict[str, Any]:
    """The public fields of a listing: the body of its announcement notice and its open-data row."""
    return {
        "listing_id": str(listing.id),
        "number": listing.number,
        "version": listing.version,
        "status": listing.status,
        "title": listing.title,
        "summary": listing.summary,
        "field": listing.field,
        "keywords": list(listing.keywords),
        "maturity": listing.maturity,
        "ip_assets": [
            {
                "kind": a.kind,
                "number": a.number,
                "title": a.title,
                "expires_on": a.expires_on.isoformat() if a.expires_on else None,
            }
            for a in listing.ip_assets
        ],
        "inventors": [i["name"] for i in listing.inventors],
        "deal": dict(listing.deal_terms),
        "pricing": {
            "mode": listing.pricing_mode,
            "asking_price": listing.asking_price,
            "appraised_value": listing.appraised_value,
            "appraisal_report": to_plain(report) if (report := appraisal_report_of(listing)) else None,
            "deposit": listing.deposit,
            "increment": listing.increment,
        },
        "inventor_reward_bp": listing.inventor_reward_bp,
        "seller": {"org_id": str(listing.seller_org_id), "name": listing.seller_org_name, "kind": listing.seller_kind},
        "announcement": {
            "round": listing.announcement_round,
            "working_days": listing.period_working_days,
            "opens_at": rfc3339(listing.announced_at) if listing.announced_at else None,
            "closes_at": rfc3339(listing.closes_at) if listing.closes_at else None,
            "auction_opens_at": rfc3339(listing.auction_opens_at) if listing.auction_opens_at else None,
        },
    }


async def _touch(session: AsyncSession, listing: Listing, now: datetime) -> None:
    listing.updated_at = now
    listing.feed_seq = await bump_counter(session, "feed")


async def _record(
    session: AsyncSession,
    ctx: ListingsContext,
    listing: Listing,
    action: Action,
    to_status: ListingStatus,
    now: datetime,
    actor: Actor | None,
    reason: str,
) -> ListingTransition:
    row = ListingTransition(
        listing_id=listing.id,
        action=action.value,
        from_status=listing.status,
        to_status=to_status.value,
        actor_user_id=actor.user_id if actor else None,
        actor_org_id=actor.org_id if actor else None,
        reason=reason[:2000],
        created_at=now,
    )
    listing.status = to_status.value
    await _touch(session, listing, now)
    session.add(row)
    await session.flush()
    for observer in ctx.hooks.observers:
        await observer.on_transition(session, listing, row)
    return row


async def transition(
    session: AsyncSession,
    ctx: ListingsContext,
    listing: Listing,
    action: Action,
    now: datetime,
    *,
    actor: Actor | None = None,
    reason: str = "",
) -> ListingTransition:
    """Apply ``action`` through the state machine and record it (409 ``invalid-state`` if illegal)."""
    to_status = next_status(ListingStatus(listing.status), action)
    return await _record(session, ctx, listing, action, to_status, now, actor, reason)


def _validate(
    ctx: ListingsContext, listing: Listing, content: ListingContent, now: datetime, **kw: Any
) -> ResolvedPricing:
    return validate_listing(
        content,
        rules=ctx.rules,
        today=beijing_date(now),
        public_institution=is_public_institution(listing),
        appraisal_of_record=appraisal_of_record(listing),
        **kw,
    )


async def _guard(session: AsyncSession, ctx: ListingsContext, listing: Listing, content: ListingContent) -> None:
    for guard in ctx.hooks.content_guards:  # e.g. an institution's decided floor price
        await guard.check(session, listing, content)


def _schedule_auction(ctx: ListingsContext, calendar: WorkingCalendar, listing: Listing) -> None:
    """Listed and auction modes show from the start when an auction would open (SPEC §3.2)."""
    competitive = PricingMode(listing.pricing_mode) in COMPETITIVE_MODES
    listing.auction_opens_at = (
        auction_opening(calendar, listing.closes_at, ctx.rules.auction_opens_at)
        if competitive and listing.closes_at is not None
        else None
    )


# ----------------------------------------------------------------------------------------------
# Seller operations


async def create_listing(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    content: ListingContent,
    confidential_details: str | None,
    now: datetime,
) -> Listing:
    """A verified seller creates a draft."""
    actor.require_trader()
    actor.require_seller_kind()
    listing = Listing(
        id=new_id(),  # known before insert: it is the associated data of the confidential details
        seller_org_id=actor.org_id,
        seller_org_name=actor.org_name,
        seller_kind=actor.org_kind,
        created_by=actor.user_id,
        status=ListingStatus.DRAFT.value,
        version=1,
        announcement_round=0,
        published_at=now,
        created_at=now,
        updated_at=now,
    )
    pricing = _validate(ctx, listing, content, now)
    listing.number = await bump_counter(session, "listing_number")
    listing.feed_seq = await bump_counter(session, "feed")
    _apply_content(listing, content, pricing)
    if confidential_details:
        listing.confidential_ciphertext = crypto.seal(ctx.data_keys, listing.id, confidential_details)
    session.add(listing)
    await session.flush()
    session.add(
        ListingTransition(
            listing_id=listing.id,
            action="create",
            from_status=None,
            to_status=ListingStatus.DRAFT.value,
            actor_user_id=actor.user_id,
            actor_org_id=actor.org_id,
            reason="",
            created_at=now,
        )
    )
    await session.flush()
    return listing


async def edit_listing(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    listing_id: uuid.UUID,
    changes: dict[str, Any],
    now: datetime,
    *,
    confidential_details: str | msgspec.UnsetType | None = msgspec.UNSET,
) -> Listing:
    """Edit a draft, or amend an announced listing (a material amendment restarts the period).

    ``changes`` maps top-level content fields (``title``, ``pricing``, ``deal``...) to their new
    values; each replaces the old value whole.
    """
    listing = await _seller_listing(session, actor, listing_id)
    actor.require_trader()
    status = ListingStatus(listing.status)
    action = Action.EDIT if status is ListingStatus.DRAFT else Action.AMEND
    next_status(status, action)
    before = content_of(listing)
    after = msgspec.structs.replace(before, **changes)
    if action is Action.AMEND:
        errors = []
        if deal_type_of(after.deal) is not deal_type_of(before.deal):
            errors.append({"field": "deal.type", "message": "the deal type cannot change once announced"})
        if after.pricing.mode is not before.pricing.mode:
            errors.append({"field": "pricing.mode", "message": "the pricing mode cannot change once announced"})
        if errors:
            raise InvalidListing("; ".join(e["message"] for e in errors), errors=errors)
    pricing = _validate(ctx, listing, after, now, relisting=listing.announcement_round > 1)
    await _guard(session, ctx, listing, after)
    # Compared as it will stand (defaults applied, the appraisal of record kept): leaving out what
    # stays the same changes nothing.
    changed = changed_parts(
        before, msgspec.structs.replace(after, pricing=pricing.pricing(), inventor_reward_bp=pricing.inventor_reward_bp)
    )
    if confidential_details is not msgspec.UNSET:
        listing.confidential_ciphertext = (
            crypto.seal(ctx.data_keys, listing.id, confidential_details) if confidential_details else None
        )
    if not changed:
        if confidential_details is not msgspec.UNSET:
            await _touch(session, listing, now)
        return listing
    _apply_content(listing, after, pricing)
    listing.version += 1
    await _touch(session, listing, now)
    if action is Action.AMEND:
        await _amend(session, ctx, actor, listing, changed, now, note=pricing.appraisal_change())
    return listing


async def _amend(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    listing: Listing,
    changed: list[str],
    now: datetime,
    *,
    note: str = "",
) -> None:
    material = any(part in MATERIAL_PARTS for part in changed)
    previous_closes_at = listing.closes_at
    old_notice = await notices.lock_notice(session, listing.notice_id) if listing.notice_id else None
    if material:
        calendar = await working_calendar(session, ctx.calendar)
        listing.announced_at = now
        days = listing.period_working_days or ctx.rules.announcement_working_days
        listing.closes_at = calendar.working_days_end(now, days)
        _schedule_auction(ctx, calendar, listing)
    notice = await _publish(session, ctx, listing, now, supersedes=old_notice)
    what = ", ".join(changed)
    reason = f"material amendment ({what}): the period restarts" if material else f"amendment ({what})"
    reason = f"{reason}; {note}" if note else reason
    await transition(session, ctx, listing, Action.AMEND, now, actor=actor, reason=reason)
    amendment = Amendment(
        listing_id=listing.id,
        version=listing.version,
        material=material,
        changed=tuple(changed),
        previous_notice_id=old_notice.id if old_notice else None,
        notice_id=notice.id,
        previous_closes_at=previous_closes_at,
        closes_at=listing.closes_at,
    )
    for observer in ctx.hooks.observers:
        await observer.on_amended(session, listing, amendment)


async def submit_listing(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, listing_id: uuid.UUID, now: datetime
) -> Listing:
    listing = await _seller_listing(session, actor, listing_id)
    actor.require_trader()
    next_status(ListingStatus(listing.status), Action.SUBMIT)
    _validate(ctx, listing, content_of(listing), now)
    await _guard(session, ctx, listing, content_of(listing))
    await transition(session, ctx, listing, Action.SUBMIT, now, actor=actor)
    return listing


async def withdraw_listing(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, listing_id: uuid.UUID, reason: str, now: datetime
) -> Listing:
    """The seller takes the listing back; its open notice is cancelled and pending objections lapse."""
    listing = await _seller_listing(session, actor, listing_id)
    next_status(ListingStatus(listing.status), Action.WITHDRAW)
    if listing.notice_id is not None:
        notice = await notices.lock_notice(session, listing.notice_id)
        await notices.cancel_notice(session, notice, WITHDRAWN_BY_SELLER, now)
    await transition(session, ctx, listing, Action.WITHDRAW, now, actor=actor, reason=reason)
    return listing


async def revise_listing(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, listing_id: uuid.UUID, now: datetime
) -> Listing:
    """A rejected listing goes back to draft so the seller can correct it and submit again."""
    listing = await _seller_listing(session, actor, listing_id)
    actor.require_trader()
    await transition(session, ctx, listing, Action.REVISE, now, actor=actor)
    return listing


async def relist_listing(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    listing_id: uuid.UUID,
    now: datetime,
    *,
    working_days: int | None = None,
    pricing: Pricing | None = None,
) -> Listing:
    """Announce an unsold listing again, for at least ``relist_working_days`` working days."""
    listing = await _seller_listing(session, actor, listing_id)
    actor.require_trader()
    next_status(ListingStatus(listing.status), Action.RELIST)
    days = working_days if working_days is not None else ctx.rules.relist_working_days
    if not ctx.rules.relist_working_days <= days <= ctx.rules.max_relist_working_days:
        raise InvalidListing(
            f"a relisting runs {ctx.rules.relist_working_days} to {ctx.rules.max_relist_working_days} working days",
            field="working_days",
        )
    content = content_of(listing)
    if pricing is not None:
        if pricing.mode is not content.pricing.mode:
            raise InvalidListing("the pricing mode cannot change on a relisting", field="pricing.mode")
        content = msgspec.structs.replace(content, pricing=pricing)
    resolved = _validate(ctx, listing, content, now, relisting=True)
    await _guard(session, ctx, listing, content)
    if pricing is not None:
        _apply_content(listing, content, resolved)
        listing.version += 1
    await _announce(session, ctx, listing, Action.RELIST, days, now, actor, reason=resolved.appraisal_change())
    return listing


async def _announce(
    session: AsyncSession,
    ctx: ListingsContext,
    listing: Listing,
    action: Action,
    working_days: int,
    now: datetime,
    actor: Actor | None,
    *,
    reason: str = "",
) -> None:
    next_status(ListingStatus(listing.status), action)
    calendar = await working_calendar(session, ctx.calendar)  # 409 calendar-year-missing before any write
    closes_at = calendar.working_days_end(now, working_days)
    listing.announcement_round += 1
    listing.period_working_days = working_days
    listing.announced_at = now
    listing.closes_at = closes_at
    _schedule_auction(ctx, calendar, listing)
    listing.published_at = now
    listing.first_announced_at = listing.first_announced_at or now
    await transition(session, ctx, listing, action, now, actor=actor, reason=reason)
    await _publish(session, ctx, listing, now)


async def _publish(
    session: AsyncSession, ctx: ListingsContext, listing: Listing, now: datetime, *, supersedes: Notice | None = None
) -> Notice:
    """Open the signed announcement notice of the listing as it stands, until its ``closes_at``."""
    assert listing.closes_at is not None
    body = public_listing(listing)
    for declarer in ctx.hooks.announcement_declarers:  # e.g. the brokers the seller engaged; none: as before
        body.update(await declarer.declare(session, listing))
    notice = await notices.open_notice(
        session,
        ctx,
        kind=NoticeKind.LISTING_ANNOUNCEMENT,
        subject_type=SUBJECT_LISTING,
        subject_id=listing.id,
        title=listing.title,
        body=body,
        now=now,
        closes_at=listing.closes_at,
        supersedes=supersedes,
    )
    listing.notice_id = notice.id
    return notice


# ----------------------------------------------------------------------------------------------
# Operator operations


async def review_listing(
    session: AsyncSession,
    ctx: ListingsContext,
    actor: Actor,
    listing_id: uuid.UUID,
    decision: ReviewDecision,
    note: str,
    now: datetime,
) -> Listing:
    """An operator approves (the listing is announced, its notice opens) or rejects it."""
    actor.require_operator()
    listing = await load_listing(session, listing_id, viewer=actor, lock=True)
    if decision is ReviewDecision.REJECT:
        if not note.strip():
            raise InvalidRequest("say why the listing is rejected", field="note")
        await transition(session, ctx, listing, Action.REJECT, now, actor=actor, reason=note)
        return listing
    next_status(ListingStatus(listing.status), Action.APPROVE)
    _validate(ctx, listing, content_of(listing), now)
    await _announce(session, ctx, listing, Action.APPROVE, ctx.rules.announcement_working_days, now, actor)
    return listing


# ----------------------------------------------------------------------------------------------
# Transitions driven by trading (and the announcement handler)

TRADING_ACTIONS = frozenset(
    {
        Action.CLOSE_UNSOLD,
        Action.START_NEGOTIATION,
        Action.START_AUCTION,
        Action.FORM_DEAL,
        Action.CANCEL_DEAL,
        Action.COMPLETE_SALE,
    }
)


async def apply_trading_action(
    session: AsyncSession,
    ctx: ListingsContext,
    listing_id: uuid.UUID,
    action: Action,
    now: datetime,
    *,
    actor: Actor | None = None,
    reason: str = "",
) -> Listing:
    """Move a listing as trading decides: negotiation, auction, deal formed/cancelled, sold, unsold."""
    if action not in TRADING_ACTIONS:
        raise ValueError(f"{action} is not a trading action")
    listing = await load_listing(session, listing_id, lock=True, check=False)
    await transition(session, ctx, listing, action, now, actor=actor, reason=reason)
    return listing


class AnnouncementHandler(NoticeHandler):
    """Moves the listing as its announcement notice closes, is suspended or an objection is upheld."""

    def __init__(self, ctx: ListingsContext) -> None:
        self.ctx = ctx

    async def _listing(self, session: AsyncSession, notice: Notice) -> Listing | None:
        listing = await load_listing(session, notice.subject_id, lock=True, check=False)
        return listing if listing.notice_id == notice.id else None

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        listing = await self._listing(session, notice)
        if listing is None:
            return
        ended = "the announcement period ended"
        if PricingMode(listing.pricing_mode) in COMPETITIVE_MODES and listing.closes_at is not None:
            announced = listing.auction_opens_at
            calendar = await working_calendar(session, self.ctx.calendar)
            listing.auction_opens_at = auction_opening_at_close(
                calendar, announced, listing.closes_at, now, self.ctx.rules.auction_opens_at
            )
            if announced is not None and listing.auction_opens_at != announced:
                ended += (
                    f"; the announced auction opening ({rfc3339(announced)}) had passed: "
                    f"an auction would open at {rfc3339(listing.auction_opens_at)}"
                )
        await transition(session, self.ctx, listing, Action.END_ANNOUNCEMENT, now, reason=ended)
        handler = self.ctx.hooks.close_handler
        outcome = await handler(session, listing, now) if handler else ListingStatus.UNSOLD
        action = CLOSE_OUTCOMES.get(ListingStatus(outcome))
        if action is None:
            raise ValueError(f"the close handler chose {outcome!r}; it may choose unsold, negotiating or auctioning")
        if listing.status == ListingStatus.CLOSING.value:
            reason = "no trading rule decided otherwise" if handler is None else ""
            await transition(session, self.ctx, listing, action, now, reason=reason)

    async def on_suspended(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        listing = await self._listing(session, notice)
        if listing is not None:
            await transition(
                session, self.ctx, listing, Action.SUSPEND, now, reason="an objection was pending when the period ended"
            )

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: ObjectionRow, now: datetime) -> None:
        listing = await self._listing(session, notice)
        if listing is not None:
            reason = f"objection upheld: {objection.resolution_note}".strip().rstrip(":")
            await transition(session, self.ctx, listing, Action.UPHOLD_OBJECTION, now, reason=reason)

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool]:
        """The listing's seller answers objections to its announcements."""
        own = select(Listing.id).where(Listing.seller_org_id == org_id)
        return and_(Notice.subject_type == SUBJECT_LISTING, Notice.subject_id.in_(own))


# ----------------------------------------------------------------------------------------------
# Confidential details


async def accept_nda(
    session: AsyncSession, actor: Actor, listing_id: uuid.UUID, now: datetime
) -> tuple[ListingNda, bool]:
    """A verified buyer accepts the listing's NDA (once per organisation); True when newly recorded."""
    actor.require_trader()
    listing = await load_listing(session, listing_id, viewer=actor)
    if is_seller(listing, actor):
        raise Conflict("the seller needs no non-disclosure agreement for its own listing")
    if listing.status not in PUBLIC_STATUSES:
        raise NotFound(f"listing {listing_id} not found")
    existing = await session.scalar(
        select(ListingNda).where(ListingNda.listing_id == listing.id, ListingNda.org_id == actor.org_id)
    )
    if existing is not None:
        return existing, False
    nda = ListingNda(
        listing_id=listing.id,
        org_id=actor.org_id,
        user_id=actor.user_id,
        terms_version=NDA_TERMS_VERSION,
        accepted_at=now,
    )
    session.add(nda)
    await session.flush()
    return nda, True


async def confidential_basis(session: AsyncSession, listing: Listing, actor: Actor | None) -> str:
    """Why ``actor`` may read the listing's confidential details (and its confidential documents):
    ``seller``, ``operator`` or ``nda``; NdaRequired for anyone else (the public too)."""
    if actor is not None and is_seller(listing, actor):
        return "seller"
    if actor is not None and actor.is_operator:
        return "operator"
    nda = None
    if actor is not None:
        nda = await session.scalar(
            select(ListingNda.id).where(ListingNda.listing_id == listing.id, ListingNda.org_id == actor.org_id)
        )
    if nda is None:
        raise NdaRequired(f"accept the NDA with POST /api/v1/listings/{listing.id}/nda first")
    return "nda"


async def read_confidential(
    session: AsyncSession, ctx: ListingsContext, actor: Actor, listing_id: uuid.UUID, now: datetime
) -> tuple[Listing, str | None, str]:
    """The confidential details and the basis of access (seller, operator, nda); every read is logged."""
    listing = await load_listing(session, listing_id, viewer=actor)
    basis = await confidential_basis(session, listing, actor)
    session.add(
        ConfidentialRead(listing_id=listing.id, user_id=actor.user_id, org_id=actor.org_id, basis=basis, read_at=now)
    )
    text = (
        crypto.unseal(ctx.data_keys, listing.id, listing.confidential_ciphertext)
        if listing.confidential_ciphertext
        else None
    )
    return listing, text, basis


async def reseal_confidential_details(
    session: AsyncSession, ctx: ListingsContext, *, after: uuid.UUID | None, limit: int
) -> tuple[int, int, uuid.UUID | None]:
    """One batch of moving confidential details to the current data key: the next ``limit``
    listings holding details, in id order after ``after``; each not on the current key is sealed
    again with it. Returns (listings looked at, listings moved, the last id looked at).

    The write is conditional on the stored bytes being those read, so details a seller changed in
    the meantime are left as they were written (and looked at again by the next run).
    """
    query = (
        select(Listing.id, Listing.confidential_ciphertext)
        .where(Listing.confidential_ciphertext.is_not(None))
        .order_by(Listing.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Listing.id > after)
    rows = (await session.execute(query)).all()
    moved = 0
    for listing_id, stored in rows:
        resealed = crypto.reseal(ctx.data_keys, listing_id, stored)
        if resealed is None:
            continue
        written = await session.execute(
            update(Listing)
            .where(Listing.id == listing_id, Listing.confidential_ciphertext == stored)
            .values(confidential_ciphertext=resealed)
        )
        moved += written.rowcount
    return len(rows), moved, rows[-1][0] if rows else None


__all__ = [
    "PUBLIC_INSTITUTION_KINDS",
    "TRADING_ACTIONS",
    "AnnouncementHandler",
    "accept_nda",
    "apply_trading_action",
    "appraisal_of_record",
    "appraisal_report_of",
    "can_view",
    "confidential_basis",
    "content_of",
    "create_listing",
    "create_listings",
    "edit_listing",
    "load_listing",
    "public_listing",
    "read_confidential",
    "relist_listing",
    "reseal_confidential_details",
    "review_listing",
    "revise_listing",
    "submit_listing",
    "transition",
    "withdraw_listing",
]
