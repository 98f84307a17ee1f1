"""The listings' pages: the achievement library (科技成果库), and the notice board (公示公告) with
each notice and its objection form.

The library searches the public listings as ``GET /api/v1/listings`` does; the board lists notices
as ``GET /api/v1/notices`` does, a notice is shaped by the API's own view, and an objection is filed
by ``notices.file_objection`` as ``POST /api/v1/notices/{id}/objections`` files it.

A page reads its query itself rather than declaring typed parameters: a shared link carries
what messengers add (``?from=singlemessage&isappinstalled=0``) and what an emptied filter sends
(``field=``), and neither may break it. Known parameters with a value are checked as the API
checks them (a wrong one is a Chinese 4xx page); the rest are ignored.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from kernel.errors import NotFound, msgspec_field
from kernel.page_actions import InvalidForm, done, read_form
from kernel.pagination import DEFAULT_LIMIT
from listings import calendar, notices, service
from listings.context import ListingsContext, UnitOfWork
from listings.domain import (
    PUBLIC_STATUSES,
    Actor,
    DealType,
    Field,
    LicenseScope,
    ListingStatus,
    NoticeKind,
    NoticeStatus,
    NoticeStatusFilter,
    ObjectionDecision,
    ObjectionSide,
    ObjectionStatus,
    PricingMode,
    ReviewDecision,
    objection_window_open,
)
from listings.errors import InvalidRequest
from listings.facts import readable
from listings.labels import LISTING_LABELS
from listings.models import Notice, Objection
from listings.printing import notice_pdf
from listings.queries import SearchQuery, count_listings, search_listings
from listings.routes import Caller, Ctx, Db, Now, Viewer, operator_change
from listings.schemas import DayCorrection
from listings.service import WITHDRAWN_BY_SELLER
from listings.views import listing_summary, notice_out, notice_summary
from listings.workdays import BEIJING

F = TypeVar("F", bound=msgspec.Struct)

PAGE_SIZE = 20
FEN_PER_WAN_YUAN = 1_000_000  # 万元: prices are typed in ten thousands of yuan, as lists show them
MAX_WAN_YUAN = Decimal(10**9)  # the API's ceiling of 10^15 fen


class LibraryQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The search form's fields, as the URL carries them (prices in 万元)."""

    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    field: Field | None = None
    deal_type: DealType | None = None
    license_scope: LicenseScope | None = None
    pricing_mode: PricingMode | None = None
    status: ListingStatus | None = None
    min_wan: str | None = None
    max_wan: str | None = None
    min_maturity: Annotated[int, msgspec.Meta(ge=1, le=9)] | None = None
    seller_kind: Literal["university", "research_institute", "enterprise"] | None = None
    seller_org_id: uuid.UUID | None = None
    order: Literal["relevance", "newest", "closing", "price_asc", "price_desc"] | None = None
    cursor: Annotated[str, msgspec.Meta(max_length=500)] | None = None


def wan_to_fen(text: str | None, field: str) -> int | None:
    """``12.5`` (万元) → 125,000,000 fen; whole fen, never negative."""
    if text is None:
        return None
    try:
        amount = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation as exc:
        raise InvalidRequest("a price is a number of 万元", field=field) from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_WAN_YUAN:
        raise InvalidRequest("a price is between 0 and 10^9 万元", field=field)
    return int(amount * FEN_PER_WAN_YUAN)


def read_query(request: Request[Any, Any, Any], form: type[F]) -> F:
    """The known, non-empty parameters of the URL (each once) as the form's fields."""
    fields = frozenset(form.__struct_fields__)
    given = {key: value.strip() for key, value in request.query_params.items() if key in fields}
    try:
        return msgspec.convert({k: v for k, v in given.items() if v}, form, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(str(exc), field=msgspec_field(str(exc))) from exc


def search_of(form: LibraryQuery) -> SearchQuery:
    min_fen, max_fen = wan_to_fen(form.min_wan, "min_wan"), wan_to_fen(form.max_wan, "max_wan")
    return SearchQuery(
        q=form.q,
        field=form.field,
        deal_type=form.deal_type,
        license_scope=form.license_scope,
        pricing_mode=form.pricing_mode,
        status=form.status,
        min_price=min_fen or 0,
        max_price=max_fen,
        min_maturity=form.min_maturity,
        seller_kind=form.seller_kind,
        seller_org_id=form.seller_org_id,
        order=form.order or ("relevance" if form.q else "newest"),
        limit=PAGE_SIZE,
        cursor=form.cursor,
    )


def link_of(form: LibraryQuery, **changes: Any) -> str:
    """``/listings?…`` with the form's non-empty fields (and ``changes``): the shareable address."""
    values = {name: getattr(form, name) for name in LibraryQuery.__struct_fields__} | changes
    pairs = [(k, str(getattr(v, "value", v))) for k, v in values.items() if v not in (None, "")]
    return "/listings" + ("?" + urlencode(pairs) if pairs else "")


@get("/listings", include_in_schema=False, name="library")
async def library(
    request: Request[Any, Any, Any], db: NamedDependency[UnitOfWork], viewer: NamedDependency[Actor | None]
) -> Template:
    form = read_query(request, LibraryQuery)
    search = search_of(form)
    async with db.replica() as session:
        rows, next_cursor = await search_listings(session, search, viewer)
        total = await count_listings(session, search, viewer)
    context = {
        "section": "listings",
        "form": form,
        "order": search.order,
        "items": [listing_summary(row) for row in rows],
        "total": total,
        "first_page": form.cursor is None,
        "first_link": link_of(form, cursor=None),
        "next_link": link_of(form, cursor=next_cursor) if next_cursor else None,
        # The states a visitor may filter by: the public ones (operators search the others in the API).
        "statuses": sorted((s.value for s in PUBLIC_STATUSES), key=list(ListingStatus).index),
    }
    return Template("listings/library.html", context=context)


# ----------------------------------------------------------------------------------------------
# The notice board

KIND_NAMES = {kind: LISTING_LABELS["notice_kind"][kind.value] for kind in NoticeKind}
STATUS_NAMES = {status: LISTING_LABELS["notice_status"][status.value] for status in NoticeStatus}
STATUS_FILTER_NAMES = {
    NoticeStatusFilter.ALL: "全部",
    **{NoticeStatusFilter(s.value): n for s, n in STATUS_NAMES.items()},
}
STATUS_BADGES = {
    NoticeStatus.OPEN: "open",
    NoticeStatus.SUSPENDED: "bad",
    NoticeStatus.CLOSED: "closed",
    NoticeStatus.CANCELLED: "closed",
}
FIELD_NAMES = {field: LISTING_LABELS["field"][field.value] for field in Field}
BOARD_PAGE_SIZE = DEFAULT_LIMIT  # the API's default page


class BoardQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The board's filter form, as the URL carries it (empty fields are "any")."""

    kind: NoticeKind | None = None
    field: Field | None = None
    status: NoticeStatusFilter = NoticeStatusFilter.ALL
    opened_from: date | None = None
    opened_to: date | None = None
    cursor: Annotated[str, msgspec.Meta(max_length=500)] | None = None


def board_link(form: BoardQuery, **changes: Any) -> str:
    """``/notices?…`` with the form's chosen filters (and ``changes``): the shareable address."""
    values = {name: getattr(form, name) for name in BoardQuery.__struct_fields__} | changes
    if values["status"] is NoticeStatusFilter.ALL:
        values["status"] = None  # the default needs no word in the address
    pairs = [(k, str(getattr(v, "value", v))) for k, v in values.items() if v not in (None, "")]
    return "/notices" + ("?" + urlencode(pairs) if pairs else "")


@get("/notices", include_in_schema=False, name="notice-board")
async def notice_board(request: Request[Any, Any, Any], db: Db, clock: Now, listings: Ctx) -> Template:
    """The board: every kind and status by default, the latest to close first (so running notices
    lead); the filters are a plain GET form, so a filtered board is a link one can share."""
    form = read_query(request, BoardQuery)
    now = clock.now()
    async with db.replica() as session:
        rows, next_cursor = await notices.list_notices(
            session,
            status=form.status.status(),
            kind=form.kind,
            subject_id=None,
            field=form.field,
            opened_from=form.opened_from,
            opened_to=form.opened_to,
            limit=BOARD_PAGE_SIZE,
            cursor=form.cursor,
        )
        counts = await notices.objection_counts(session, [n.id for n in rows])
        days = await notices.working_days_left(session, listings, rows, now)
    first_link = board_link(form, cursor=None)
    context = {
        "section": "notices",
        "items": [notice_summary(n, counts.get(n.id, (0, 0)), now) for n in rows],
        "days_left": days,
        "form": form,
        "filtered": first_link != "/notices",
        "first_page": form.cursor is None,
        "first_url": first_link,
        "next_url": board_link(form, cursor=next_cursor) if next_cursor else None,
        **_names(),
    }
    return Template("listings/notices.html", context=context)


def _names() -> dict[str, Any]:
    return {
        "kind_names": KIND_NAMES,
        "status_names": STATUS_NAMES,
        "status_filter_names": STATUS_FILTER_NAMES,
        "status_badges": STATUS_BADGES,
        "field_names": FIELD_NAMES,
    }


# ----------------------------------------------------------------------------------------------
# A notice


@get("/notices/{notice_id:uuid}", include_in_schema=False, name="notice")
async def notice_page(
    request: Request[Any, Any, Any], notice_id: FromPath[uuid.UUID], db: Db, clock: Now, listings: Ctx, viewer: Viewer
) -> Template:
    context = await _notice_context(
        request, db, clock, listings, notice_id, mine=await _own_objections(db, listings, viewer, notice_id)
    )
    return Template("listings/notice.html", context=context)


async def _own_objections(
    db: Db, listings: ListingsContext, viewer: Actor | None, notice_id: uuid.UUID
) -> list[Objection]:
    """The objections the signed-in reader filed against this notice (``GET /objections?notice_id=``
    as its objector), each with the place to attach its evidence. Operators resolve them in the console."""
    if viewer is None or viewer.is_operator:
        return []
    async with db.read() as session:
        rows, _ = await notices.list_objections(
            session,
            listings,
            viewer,
            status=None,
            notice_id=notice_id,
            limit=PAGE_SIZE,
            cursor=None,
            side=ObjectionSide.OBJECTOR,
        )
    return list(rows)


@get("/notices/{notice_id:uuid}/pdf", include_in_schema=False, name="notice-pdf")
async def notice_pdf_page(
    request: Request[Any, Any, Any], notice_id: FromPath[uuid.UUID], db: Db, clock: Now, listings: Ctx
) -> Response[bytes]:
    """The notice page's "下载 PDF": the API's PDF of the notice."""
    return await notice_pdf(request, db, clock.now(), listings, notice_id)


async def _notice_context(
    request: Request[Any, Any, Any], db: Db, clock: Now, listings: Ctx, notice_id: uuid.UUID, **more: Any
) -> dict[str, Any]:
    now = clock.now()
    async with db.replica() as session:
        notice = await notices.get_notice(session, notice_id)
        counts = await notices.objection_counts(session, [notice.id])
        days = await notices.working_days_left(session, listings, [notice], now)
    shaped = notice_out(notice, counts.get(notice.id, (0, 0)), now)
    return {
        "section": "notices",
        "notice": shaped,
        "days_left": days.get(notice.id),
        "ending": _ending(notice),
        "facts": readable(shaped.content),
        "objections_open": objection_window_open(NoticeStatus(notice.status), notice.closes_at, now),
        "signed_in": request.state.get("principal") is not None,
        "site": str(request.base_url).rstrip("/"),
        "answer": None,
        "mine": [],
        **_names(),
        **more,
    }


def _ending(notice: Notice) -> dict[str, Any] | None:
    """How an ended or suspended notice reads at the top of its page: what happened, and where to go."""
    if notice.superseded_by_id is not None:
        return {"text": "此公示已被新版本取代，以新版本为准。", "newer": notice.superseded_by_id, "reason": ""}
    if notice.status == NoticeStatus.CANCELLED.value:
        upheld = notices.cancelled_on_objection(notice)
        text = "此公示因异议成立已撤销。" if upheld else "此公示已撤回。"
        return {
            "text": text,
            "newer": None,
            "reason": "" if upheld else END_REASONS.get(notice.end_reason, notice.end_reason),
        }
    if notice.status == NoticeStatus.CLOSED.value:
        return {"text": "此公示期已满，公示已结束。", "newer": None, "reason": ""}
    if notice.status == NoticeStatus.SUSPENDED.value:
        text = "公示期已满，因有异议尚待处理，公示暂停；交易所处理后公示结束或撤销。"
        return {"text": text, "newer": None, "reason": ""}
    return None


# The reasons the exchange itself gives for withdrawing a notice, in Chinese; any other (an
# operator's own words when a voucher claim is rejected) is shown as written.
END_REASONS = {WITHDRAWN_BY_SELLER: "转让方撤回了挂牌。"}


# ----------------------------------------------------------------------------------------------
# Objections


class ObjectionForm(msgspec.Struct):
    reason: str = ""


@post("/notices/{notice_id:uuid}/objections", include_in_schema=False, status_code=200, name="notice-objection")
async def object_to_notice(
    request: Request[Any, Any, Any],
    notice_id: FromPath[uuid.UUID],
    data: Annotated[ObjectionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    actor: Caller,
    db: Db,
    clock: Now,
    listings: Ctx,
) -> Template:
    """File an objection as ``POST /api/v1/notices/{id}/objections`` does. htmx gets the answer
    alone, in place of the form's answer; a browser without scripts gets the notice page with it.
    A refusal is raised to the pages' error handler, which words it in Chinese (for htmx: in place)."""
    request.state.action = "objection"  # refusals read in the objection's words (exchange/web/messages.py)
    objection = await db.transaction(
        lambda s: notices.file_objection(s, actor, notice_id, data.reason, clock.now(), listings)
    )
    async with db.read() as session:
        notice = await notices.get_notice(session, notice_id)
    answer = {"filed_at": objection.filed_at, "closes_at": notice.closes_at, "objection_id": objection.id}
    if request.headers.get("hx-request") == "true":
        return Template("listings/objection_answer.html", context={"answer": answer})
    mine = [o for o in await _own_objections(db, listings, actor, notice_id) if o.id != objection.id]
    context = await _notice_context(request, db, clock, listings, notice_id, answer=answer, mine=mine)
    return Template("listings/notice.html", context=context)


# -- the operators' console: listings to review, objections to resolve, the working-day calendar -------
# Each calls what the API's operator routes call, with the same refusals (``require_operator`` first,
# so that a member of another organisation learns nothing of the queues).

CONSOLE = {"section": "workspace"}


class ReviewForm(msgspec.Struct):
    decision: ReviewDecision
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ResolveForm(msgspec.Struct):
    decision: ObjectionDecision
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class DayForm(msgspec.Struct):
    day: date
    kind: Literal["off", "workday", "normal"]
    notice: str = ""
    reason: str = ""
    name: str = ""  # checked as the API checks them, by ``read_correction``


@get("/console/reviews", include_in_schema=False, name="console-reviews")
async def review_queue(request: Request[Any, Any, Any], actor: Caller, db: Db) -> Template:
    """Listings submitted for review: ``GET /api/v1/listings?status=under_review`` as an operator."""
    actor.require_operator()
    cursor = request.query_params.get("cursor") or None
    search = SearchQuery(status=ListingStatus.UNDER_REVIEW, order="newest", limit=PAGE_SIZE, cursor=cursor)
    async with db.read() as session:
        rows, next_cursor = await search_listings(session, search, actor)
    context = {"listings": [listing_summary(r) for r in rows], "next_cursor": next_cursor}
    return Template("listings/console_reviews.html", context={**context, **CONSOLE, "workspace_tab": "reviews"})


@post("/console/reviews/{listing_id:uuid}", include_in_schema=False, status_code=200)
async def review(
    request: Request[Any, Any, Any], listing_id: FromPath[uuid.UUID], actor: Caller, db: Db, clock: Now, listings: Ctx
) -> Template | Redirect:
    """Approve (the announcement is signed and published) or reject, as ``POST …/review`` does."""
    form = await read_form(request, ReviewForm)
    await db.transaction(
        lambda s: service.review_listing(s, listings, actor, listing_id, form.decision, form.note, clock.now())
    )
    notice = "listing-approved" if form.decision is ReviewDecision.APPROVE else "listing-rejected"
    return done(request, notice, "/console/reviews")


@get("/console/objections", include_in_schema=False, name="console-objections")
async def objection_queue(request: Request[Any, Any, Any], actor: Caller, db: Db, listings: Ctx) -> Template:
    """Pending objections, oldest first (``GET /api/v1/objections?status=pending`` as an operator),
    each with the notice it is against."""
    actor.require_operator()
    cursor = request.query_params.get("cursor") or None
    async with db.read() as session:
        rows, next_cursor = await notices.list_objections(
            session, listings, actor, status=ObjectionStatus.PENDING, notice_id=None, limit=PAGE_SIZE, cursor=cursor
        )
        about = {o.notice_id: await notices.get_notice(session, o.notice_id) for o in rows}
    context = {"objections": rows, "notices": about, "next_cursor": next_cursor}
    return Template("listings/console_objections.html", context={**context, **CONSOLE, "workspace_tab": "objections"})


@post("/console/objections/{objection_id:uuid}/resolve", include_in_schema=False, status_code=200)
async def resolve(
    request: Request[Any, Any, Any],
    objection_id: FromPath[uuid.UUID],
    actor: Caller,
    db: Db,
    clock: Now,
    listings: Ctx,
) -> Template | Redirect:
    """Uphold (the notice is cancelled, its subject stopped) or dismiss, as ``POST …/resolve`` does."""
    form = await read_form(request, ResolveForm)
    await db.transaction(
        lambda s: notices.resolve_objection(s, listings, actor, objection_id, form.decision, form.note, clock.now())
    )
    notice = "objection-upheld" if form.decision is ObjectionDecision.UPHELD else "objection-dismissed"
    return done(request, notice, "/console/objections")


@get("/console/calendar", include_in_schema=False, name="console-calendar")
async def calendar_page(request: Request[Any, Any, Any], actor: Caller, db: Db, clock: Now) -> Template:
    """The working-day calendar as ``GET /api/v1/calendar/years…`` shows it, its change log, and the
    form of ``PUT /api/v1/calendar/days/{day}``. ``?year=`` picks the year (default: this one)."""
    actor.require_operator()
    this_year = clock.now().astimezone(BEIJING).year
    year = read_query(request, CalendarQuery).year or this_year
    async with db.read() as session:
        years = await calendar.list_years(session, limit=20)
        try:
            loaded, days = await calendar.get_year(session, year)
        except NotFound:
            loaded, days = None, []
        log = await calendar.changes(session, year=year, after=None, limit=20)
    context = {
        "year": year,
        "years": [{"year": row.year, "days_off": off, "make_up_workdays": worked} for row, off, worked in years],
        "loaded": loaded,
        "days": days,
        "changes": log[:20],
    }
    return Template("listings/console_calendar.html", context={**context, **CONSOLE, "workspace_tab": "calendar"})


class CalendarQuery(msgspec.Struct, forbid_unknown_fields=True):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)] | None = None


@post("/console/calendar/days", include_in_schema=False, status_code=200)
async def correct_day(request: Request[Any, Any, Any], actor: Caller, db: Db, clock: Now) -> Template | Redirect:
    """Make a day a holiday, a make-up working day or an ordinary day, with the notice behind it and
    the reason, as ``PUT /api/v1/calendar/days/{day}`` does (recorded in the change log)."""
    by = operator_change(actor)
    form = await read_form(request, DayForm)
    checked = read_correction(form)
    await db.transaction(
        lambda s: calendar.correct_day(
            s, form.day, checked.kind, checked.name, checked.notice, checked.reason, by, clock.now()
        )
    )
    return done(request, "day-corrected", f"/console/calendar?year={form.day.year}")


def read_correction(form: DayForm) -> DayCorrection:
    """The API's body of the correction, checked as the API checks it (the notice and reason required)."""
    fields = {"kind": form.kind, "notice": form.notice, "reason": form.reason, "name": form.name}
    try:
        return msgspec.convert(fields, DayCorrection)
    except msgspec.ValidationError as exc:
        raise InvalidForm(str(exc), field=msgspec_field(str(exc))) from exc


PAGE_HANDLERS = [
    library,
    notice_board,
    notice_page,
    notice_pdf_page,
    object_to_notice,
    review_queue,
    review,
    objection_queue,
    resolve,
    calendar_page,
    correct_day,
]
