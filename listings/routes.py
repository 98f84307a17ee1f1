"""HTTP controllers of listings, notices, objections and open data. Thin: parse, call, shape.

Dependencies come by name from the host application: ``db`` (unit of work), ``clock``,
``listings`` (the ``ListingsContext``), ``actor`` (the authenticated caller as an ``Actor``) and
``viewer`` (the caller, or None for the public).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from kernel.exports import XLSX_MEDIA_TYPE
from kernel.pagination import Cursor, Limit, by_id, cursor_int, decode_cursor, id_after, keyset_page
from kernel.printing import PDF
from kernel.shapes import shaped
from listings import calendar, notices, queries, service
from listings.context import ListingsContext, UnitOfWork
from listings.domain import (
    Actor,
    DealType,
    Field,
    IpKind,
    LicenseScope,
    ListingStatus,
    NoticeKind,
    NoticeStatusFilter,
    ObjectionSide,
    ObjectionStatus,
    PricingMode,
)
from listings.exports import open_data_export
from listings.printing import notice_pdf
from listings.schemas import (
    AnswerRequest,
    CalendarChangeOut,
    CalendarChangePage,
    CalendarDayOut,
    CalendarNotificationOut,
    CalendarNotificationPage,
    CalendarYearDetail,
    CalendarYearOut,
    CalendarYearPage,
    ConfidentialOut,
    ConfidentialReadPage,
    DayCorrection,
    ListingCreate,
    ListingOut,
    ListingPage,
    ListingPatch,
    ListingSearchPage,
    NdaOut,
    NoticeOut,
    NoticePage,
    ObjectionOut,
    ObjectionPage,
    ObjectionRequest,
    RelistRequest,
    ResolveRequest,
    ReviewRequest,
    TransitionPage,
    WithdrawRequest,
)
from listings.views import (
    listing_out,
    listing_summary,
    notice_out,
    notice_summary,
    objection_out,
    read_out,
    transition_out,
)
from listings.workdays import DayKind, YearSchedule, check_schedule

BEARER = [{"BearerToken": []}]


@runtime_checkable
class ClockLike(Protocol):
    def now(self) -> datetime: ...


Db = NamedDependency[UnitOfWork]
Now = NamedDependency[ClockLike]
Ctx = NamedDependency[ListingsContext]
Caller = NamedDependency[Actor]
Viewer = NamedDependency[Actor | None]
ListingId = FromPath[uuid.UUID]


class ListingController(Controller):
    path = "/listings"
    tags = ["listings"]

    @post("/", status_code=201, security=BEARER, summary="Create a draft listing (verified sellers)")
    async def create(
        self, data: JSONBody[ListingCreate], actor: Caller, db: Db, clock: Now, listings: Ctx
    ) -> ListingOut:
        listing = await db.transaction(
            lambda s: service.create_listing(s, listings, actor, data.content(), data.confidential_details, clock.now())
        )
        return listing_out(listing, actor)

    @get("/", summary="Search public listings (Chinese-aware full text, filters, orders, cursor pages, total)")
    async def search(
        self,
        db: Db,
        viewer: Viewer,
        q: FromQuery[Annotated[str | None, Parameter(max_length=200, description="words to find")]] = None,
        field: FromQuery[Field | None] = None,
        deal_type: FromQuery[DealType | None] = None,
        license_scope: FromQuery[
            Annotated[LicenseScope | None, Parameter(description="licences of this scope (implies deal_type=license)")]
        ] = None,
        pricing_mode: FromQuery[PricingMode | None] = None,
        status: FromQuery[ListingStatus | None] = None,
        min_price: FromQuery[Annotated[int, Parameter(ge=0, le=10**15, description="fen")]] = 0,
        max_price: FromQuery[Annotated[int, Parameter(ge=0, le=10**15, description="fen")]] = 10**15,
        min_maturity: FromQuery[
            Annotated[int | None, Parameter(ge=1, le=9, description="technology readiness level, at least")]
        ] = None,
        seller_kind: FromQuery[Literal["university", "research_institute", "enterprise"] | None] = None,
        seller_org_id: FromQuery[Annotated[uuid.UUID | None, Parameter(description="one seller's listings")]] = None,
        ip_kind: FromQuery[IpKind | None] = None,
        order: FromQuery[
            Annotated[
                Literal["relevance", "newest", "closing", "price_asc", "price_desc"],
                Parameter(
                    description="relevance (with q; else newest), newest, closing (open announcements soonest to "
                    "close first, then the rest by their last period's end, latest first), price_asc, price_desc"
                ),
            ]
        ] = "relevance",
        count: FromQuery[
            Annotated[bool, Parameter(description="also count every match (total); costs a second query")]
        ] = False,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ListingSearchPage:
        search = queries.SearchQuery(
            q=q,
            field=field,
            deal_type=deal_type,
            license_scope=license_scope,
            pricing_mode=pricing_mode,
            status=status,
            min_price=min_price,
            max_price=max_price if max_price < 10**15 else None,
            min_maturity=min_maturity,
            seller_kind=seller_kind,
            seller_org_id=seller_org_id,
            ip_kind=ip_kind,
            order=order,
            limit=limit,
            cursor=cursor,
        )
        async with db.replica() as session:
            rows, next_cursor = await queries.search_listings(session, search, viewer)
            total = await queries.count_listings(session, search, viewer) if count else None
            return ListingSearchPage(items=[listing_summary(r) for r in rows], next_cursor=next_cursor, total=total)

    @get("/mine", security=BEARER, summary="The listings of the caller's organisation, in every state")
    async def mine(
        self,
        actor: Caller,
        db: Db,
        status: FromQuery[ListingStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ListingPage:
        async with db.read() as session:
            rows, next_cursor = await queries.seller_listings(session, actor, status=status, limit=limit, cursor=cursor)
            return ListingPage(items=[listing_summary(r) for r in rows], next_cursor=next_cursor)

    @get("/{listing_id:uuid}", summary="A listing (public once announced; drafts to the seller and operators)")
    async def show(self, listing_id: ListingId, db: Db, viewer: Viewer) -> ListingOut:
        async with db.replica() as session:
            return listing_out(await service.load_listing(session, listing_id, viewer=viewer), viewer)

    @patch(
        "/{listing_id:uuid}",
        security=BEARER,
        summary="Edit a draft, or amend an announced listing (a material change restarts the period)",
    )
    async def edit(
        self, listing_id: ListingId, data: JSONBody[ListingPatch], actor: Caller, db: Db, clock: Now, listings: Ctx
    ) -> ListingOut:
        listing = await db.transaction(
            lambda s: service.edit_listing(
                s,
                listings,
                actor,
                listing_id,
                data.content_changes(),
                clock.now(),
                confidential_details=data.confidential_details,
            )
        )
        return listing_out(listing, actor)

    @post("/{listing_id:uuid}/submit", status_code=200, security=BEARER, summary="Submit a draft for review")
    async def submit(self, listing_id: ListingId, actor: Caller, db: Db, clock: Now, listings: Ctx) -> ListingOut:
        listing = await db.transaction(lambda s: service.submit_listing(s, listings, actor, listing_id, clock.now()))
        return listing_out(listing, actor)

    @post("/{listing_id:uuid}/withdraw", status_code=200, security=BEARER, summary="Withdraw a listing (seller)")
    async def withdraw(
        self,
        listing_id: ListingId,
        actor: Caller,
        db: Db,
        clock: Now,
        listings: Ctx,
        data: JSONBody[WithdrawRequest | None] = None,
    ) -> ListingOut:
        reason = data.reason if data else ""
        listing = await db.transaction(
            lambda s: service.withdraw_listing(s, listings, actor, listing_id, reason, clock.now())
        )
        return listing_out(listing, actor)

    @post("/{listing_id:uuid}/revise", status_code=200, security=BEARER, summary="Reopen a rejected listing as a draft")
    async def revise(self, listing_id: ListingId, actor: Caller, db: Db, clock: Now, listings: Ctx) -> ListingOut:
        listing = await db.transaction(lambda s: service.revise_listing(s, listings, actor, listing_id, clock.now()))
        return listing_out(listing, actor)

    @post("/{listing_id:uuid}/relist", status_code=200, security=BEARER, summary="Announce an unsold listing again")
    async def relist(
        self,
        listing_id: ListingId,
        actor: Caller,
        db: Db,
        clock: Now,
        listings: Ctx,
        data: JSONBody[RelistRequest | None] = None,
    ) -> ListingOut:
        request = data or RelistRequest()
        listing = await db.transaction(
            lambda s: service.relist_listing(
                s,
                listings,
                actor,
                listing_id,
                clock.now(),
                working_days=request.working_days,
                pricing=request.pricing,
            )
        )
        return listing_out(listing, actor)

    @post("/{listing_id:uuid}/review", status_code=200, security=BEARER, summary="Approve or reject (operators)")
    async def review(
        self, listing_id: ListingId, data: JSONBody[ReviewRequest], actor: Caller, db: Db, clock: Now, listings: Ctx
    ) -> ListingOut:
        listing = await db.transaction(
            lambda s: service.review_listing(s, listings, actor, listing_id, data.decision, data.note, clock.now())
        )
        return listing_out(listing, actor)

    @get("/{listing_id:uuid}/transitions", security=BEARER, summary="Who moved the listing, when, from, to, why")
    async def transitions(
        self, listing_id: ListingId, actor: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> TransitionPage:
        async with db.read() as session:
            rows, next_cursor = await queries.listing_transitions(
                session, actor, listing_id, limit=limit, cursor=cursor
            )
        return TransitionPage(items=[transition_out(r) for r in rows], next_cursor=next_cursor)

    @post("/{listing_id:uuid}/nda", status_code=201, security=BEARER, summary="Accept the listing's NDA (buyers)")
    async def nda(self, listing_id: ListingId, actor: Caller, db: Db, clock: Now) -> NdaOut:
        nda, _ = await db.transaction(lambda s: service.accept_nda(s, actor, listing_id, clock.now()))
        return shaped(NdaOut, nda)

    @get(
        "/{listing_id:uuid}/confidential",
        security=BEARER,
        summary="Confidential details: seller, operators, and buyers who accepted the NDA (every read is logged)",
    )
    async def confidential(
        self, listing_id: ListingId, actor: Caller, db: Db, clock: Now, listings: Ctx
    ) -> ConfidentialOut:
        listing, details, basis = await db.transaction(
            lambda s: service.read_confidential(s, listings, actor, listing_id, clock.now())
        )
        return ConfidentialOut(listing_id=listing.id, confidential_details=details, access=basis)  # type: ignore[arg-type]

    @get(
        "/{listing_id:uuid}/confidential/reads",
        security=BEARER,
        summary="The access log of the confidential details (seller and operators)",
    )
    async def confidential_reads(
        self, listing_id: ListingId, actor: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> ConfidentialReadPage:
        async with db.read() as session:
            rows, next_cursor = await queries.confidential_reads(session, actor, listing_id, limit=limit, cursor=cursor)
        return ConfidentialReadPage(items=[read_out(r) for r in rows], next_cursor=next_cursor)


class NoticeController(Controller):
    path = "/notices"
    tags = ["notices"]

    @get(
        "/",
        summary="The public board: notices with countdown and objections, filtered by status, kind, field and day",
        description=(
            "`status` is one status (default `open`) or `all`. Open and suspended notices come soonest to close"
            " first; closed, cancelled and `all` the latest to close first. `field` keeps the notices about a"
            " listing of that technical field (its announcements, its deal's negotiated-price and result"
            " notices; voucher redemptions have none). `opened_from` and `opened_to` are Beijing days, both"
            " included."
        ),
    )
    async def board(
        self,
        db: Db,
        clock: Now,
        status: FromQuery[NoticeStatusFilter] = NoticeStatusFilter.OPEN,
        kind: FromQuery[NoticeKind | None] = None,
        field: FromQuery[Field | None] = None,
        opened_from: FromQuery[date | None] = None,
        opened_to: FromQuery[date | None] = None,
        subject_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> NoticePage:
        async with db.replica() as session:
            rows, next_cursor = await notices.list_notices(
                session,
                status=status.status(),
                kind=kind,
                subject_id=subject_id,
                field=field,
                opened_from=opened_from,
                opened_to=opened_to,
                limit=limit,
                cursor=cursor,
            )
            counts = await notices.objection_counts(session, [n.id for n in rows])
        now = clock.now()
        return NoticePage(
            items=[notice_summary(n, counts.get(n.id, (0, 0)), now) for n in rows], next_cursor=next_cursor
        )

    @get("/{notice_id:uuid}", summary="A notice with its signed content (verify with GET /api/v1/keys)")
    async def show(self, notice_id: FromPath[uuid.UUID], db: Db, clock: Now) -> NoticeOut:
        async with db.replica() as session:
            notice = await notices.get_notice(session, notice_id)
            counts = await notices.objection_counts(session, [notice.id])
        return notice_out(notice, counts.get(notice.id, (0, 0)), clock.now())

    @get(
        "/{notice_id:uuid}/pdf",
        media_type=PDF,
        summary="A notice printed as PDF: its content in Chinese, its signature and a QR code of its page",
    )
    async def pdf(
        self, request: Request[Any, Any, Any], notice_id: FromPath[uuid.UUID], db: Db, clock: Now, listings: Ctx
    ) -> Response[bytes]:
        return await notice_pdf(request, db, clock.now(), listings, notice_id)

    @post(
        "/{notice_id:uuid}/objections",
        status_code=201,
        security=BEARER,
        summary="Object to an open notice (any logged-in user; the objector is never shown publicly)",
    )
    async def object(
        self,
        notice_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionRequest],
        actor: Caller,
        db: Db,
        clock: Now,
        listings: Ctx,
    ) -> ObjectionOut:
        objection = await db.transaction(
            lambda s: notices.file_objection(s, actor, notice_id, data.reason, clock.now(), listings)
        )
        return objection_out(objection)


class ObjectionController(Controller):
    path = "/objections"
    tags = ["notices"]

    @get(
        "/",
        security=BEARER,
        summary="Objections: the operators' queue, or the caller's own and those against its organisation's notices",
    )
    async def index(
        self,
        actor: Caller,
        db: Db,
        listings: Ctx,
        status: FromQuery[ObjectionStatus | None] = None,
        notice_id: FromQuery[uuid.UUID | None] = None,
        side: FromQuery[ObjectionSide | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ObjectionPage:
        async with db.read() as session:
            rows, next_cursor = await notices.list_objections(
                session, listings, actor, status=status, notice_id=notice_id, side=side, limit=limit, cursor=cursor
            )
        return ObjectionPage(items=[objection_out(o) for o in rows], next_cursor=next_cursor)

    @get("/{objection_id:uuid}", security=BEARER, summary="An objection (its objector, the seller's side, operators)")
    async def show(self, objection_id: FromPath[uuid.UUID], actor: Caller, db: Db, listings: Ctx) -> ObjectionOut:
        async with db.read() as session:
            return objection_out(await notices.get_objection(session, listings, actor, objection_id))

    @post(
        "/{objection_id:uuid}/answer",
        status_code=200,
        security=BEARER,
        summary="The seller's side answers a pending objection, once (forwarded to the objector and operators)",
    )
    async def answer(
        self,
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerRequest],
        actor: Caller,
        db: Db,
        clock: Now,
        listings: Ctx,
    ) -> ObjectionOut:
        objection = await db.transaction(
            lambda s: notices.answer_objection(s, listings, actor, objection_id, data.answer, clock.now())
        )
        return objection_out(objection)

    @post(
        "/{objection_id:uuid}/resolve",
        status_code=200,
        security=BEARER,
        summary="Uphold (notice cancelled, subject stopped) or dismiss (subject proceeds): operators, resolving side",
    )
    async def resolve(
        self,
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[ResolveRequest],
        actor: Caller,
        db: Db,
        clock: Now,
        listings: Ctx,
    ) -> ObjectionOut:
        objection = await db.transaction(
            lambda s: notices.resolve_objection(s, listings, actor, objection_id, data.decision, data.note, clock.now())
        )
        return objection_out(objection)


# ----------------------------------------------------------------------------------------------
# Open data

JSONL = "application/x-ndjson"


@dataclass
class OpenDataOperation(Operation):
    """Documents the export formats of the open-data endpoint."""

    def __post_init__(self) -> None:
        responses = dict(self.responses or {})
        ok = responses.get("200")
        if ok is not None:
            text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            binary = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
            ok.content = {JSONL: text, "text/csv": text, XLSX_MEDIA_TYPE: binary}
            ok.description = (
                "One listing per JSON line, or a spreadsheet (CSV with a UTF-8 BOM, or xlsx) with a header row;"
                " X-Next-Cursor continues the sync"
            )
        self.responses = responses


@get(
    "/open-data/listings",
    tags=["open data"],
    summary="Export announced and past listings incrementally (JSON lines, CSV or xlsx) for achievement databases",
    media_type=JSONL,
    operation_class=OpenDataOperation,
)
async def open_data_listings(
    db: Db,
    since: FromQuery[Annotated[int, Parameter(ge=0, le=10**15, description="X-Next-Cursor of the last export")]] = 0,
    format: FromQuery[
        Annotated[
            Literal["jsonl", "csv", "xlsx"],
            Parameter(description="jsonl (default), csv (UTF-8 with a BOM, for Excel) or xlsx"),
        ]
    ] = "jsonl",
    limit: FromQuery[Annotated[int, Parameter(ge=1, le=10_000)]] = 1000,
) -> Response[bytes]:
    async with db.replica() as session:
        rows, next_since = await queries.open_data(session, since=since, limit=limit)
    cursor = {"X-Next-Cursor": str(next_since)}
    if format != "jsonl":
        return open_data_export(rows, since).response(format, headers=cursor)
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    return Response(body, media_type=JSONL, headers=cursor)


# ----------------------------------------------------------------------------------------------
# The working-day calendar (listings/calendar.py): public to read, operators change it


def operator_change(actor: Actor) -> calendar.ChangedBy:
    actor.require_operator()
    return calendar.ChangedBy(f"operator {actor.user_id} ({actor.org_name})", actor.user_id)


def _year_out(row: Any, off: int, worked: int) -> CalendarYearOut:
    return shaped(CalendarYearOut, row, days_off=off, make_up_workdays=worked)


def _day_out(day: Any) -> CalendarDayOut:
    return CalendarDayOut(date=day.day.isoformat(), kind=day.kind, name=day.name, notice=day.notice)


async def _year_detail(session: Any, year: int) -> CalendarYearDetail:
    row, days = await calendar.get_year(session, year)
    off = sum(d.kind == DayKind.OFF.value for d in days)
    return shaped(
        CalendarYearDetail, row, days_off=off, make_up_workdays=len(days) - off, days=[_day_out(d) for d in days]
    )


class CalendarController(Controller):
    path = "/calendar"
    tags = ["calendar"]

    @post(
        "/years",
        status_code=201,
        security=BEARER,
        summary="Load a year's working-day schedule (operators; ?replace=true to replace a loaded year)",
    )
    async def import_year(
        self,
        data: JSONBody[YearSchedule],
        actor: Caller,
        db: Db,
        clock: Now,
        replace: FromQuery[bool] = False,
    ) -> CalendarYearDetail:
        by = operator_change(actor)
        checked = check_schedule(data)

        async def work(session: Any) -> CalendarYearDetail:
            await calendar.import_year(session, checked, by, clock.now(), replace=replace)
            return await _year_detail(session, checked.year)

        return await db.transaction(work)

    @get("/years", summary="The years the working-day calendar has data for, newest first")
    async def years(self, db: Db, limit: Limit = 20, cursor: Cursor = None) -> CalendarYearPage:
        position = decode_cursor(cursor, "year")
        before = cursor_int(position, "year", maximum=9999) if position else None
        async with db.read() as session:
            rows = await calendar.list_years(session, before=before, limit=limit)
        items, next_cursor = keyset_page(rows, limit, lambda r: {"year": r[0].year})
        return CalendarYearPage(items=[_year_out(*r) for r in items], next_cursor=next_cursor)

    @get("/years/{year:int}", summary="A year of the working-day calendar: its days off and make-up working days")
    async def year(self, year: FromPath[Annotated[int, Parameter(ge=2000, le=2100)]], db: Db) -> CalendarYearDetail:
        async with db.read() as session:
            return await _year_detail(session, year)

    @put(
        "/days/{day:date}",
        status_code=200,
        security=BEARER,
        summary="Correct one day (operators): a day off, a make-up working day, or an ordinary day",
    )
    async def correct_day(
        self, day: FromPath[date], data: JSONBody[DayCorrection], actor: Caller, db: Db, clock: Now
    ) -> CalendarDayOut:
        by = operator_change(actor)
        row = await db.transaction(
            lambda s: calendar.correct_day(s, day, data.kind, data.name, data.notice, data.reason, by, clock.now())
        )
        if row is None:
            return CalendarDayOut(date=day.isoformat(), kind="normal", name="", notice=data.notice)
        return _day_out(row)

    @get("/changes", security=BEARER, summary="Every change to the calendar: who, when, what (operators)")
    async def changes(
        self,
        actor: Caller,
        db: Db,
        year: FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> CalendarChangePage:
        actor.require_operator()
        async with db.read() as session:
            rows = await calendar.changes(session, year=year, after=id_after(cursor), limit=limit)
        items, next_cursor = keyset_page(rows, limit, by_id)
        return CalendarChangePage(items=[shaped(CalendarChangeOut, r) for r in items], next_cursor=next_cursor)

    @get("/notifications", security=BEARER, summary="What operators were told about the calendar (operators)")
    async def notifications(self, actor: Caller, db: Db) -> CalendarNotificationPage:
        actor.require_operator()
        async with db.read() as session:
            rows = await calendar.notifications(session)
        return CalendarNotificationPage(items=[shaped(CalendarNotificationOut, r) for r in rows])


ROUTE_HANDLERS = [ListingController, NoticeController, ObjectionController, CalendarController, open_data_listings]
