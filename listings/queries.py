"""Reads: search, a seller's listings, transition and access logs, open data and statistics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import BigInteger, Float, Select, case, exists, func, literal, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from kernel.columns import UTCDateTime
from kernel.db import is_postgres
from kernel.errors import Forbidden
from kernel.pagination import (
    by_id,
    cursor_int,
    cursor_time,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    id_after,
    keyset_page,
)
from kernel.time import rfc3339
from listings.domain import (
    MAX_FEN,
    PUBLIC_STATUSES,
    Actor,
    DealType,
    Field,
    IpKind,
    LicenseScope,
    ListingStatus,
    PricingMode,
)
from listings.errors import InvalidRequest
from listings.models import ConfidentialRead, Listing, ListingIpAsset, ListingTransition
from listings.search import fts5_query, query_words
from listings.service import is_seller, load_listing, public_listing
from listings.workdays import BEIJING

MAX_OFFSET = 10_000
RELEVANCE_WINDOW = 1_000
# What a page of results loads: the IP assets, not the search words or the sealed details.
PAGE_LOAD = (
    selectinload(Listing.ip_assets),
    defer(Listing.search_title),
    defer(Listing.search_body),
    defer(Listing.confidential_ciphertext),
)


# The orders of a search. ``relevance`` needs words (without them it is ``newest``); ``closing``
# puts the listings whose announcement still runs first, the soonest to close first, then the rest
# by the end of their last period; the price orders break ties by id.
ORDERS = ("relevance", "newest", "closing", "price_asc", "price_desc")
# A listing with no period end sorts after every real one in the ``closing`` order (no NULLs to page over).
NO_CLOSE = datetime(9999, 12, 31, tzinfo=BEIJING)


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    field: Field | None = None
    deal_type: DealType | None = None
    license_scope: LicenseScope | None = None  # licences only: exclusive, sole or non-exclusive
    pricing_mode: PricingMode | None = None
    status: ListingStatus | None = None
    min_price: int = 0
    max_price: int | None = None
    min_maturity: int | None = None  # technology readiness level 1-9, at least
    seller_kind: str | None = None  # university | research_institute | enterprise
    seller_org_id: uuid.UUID | None = None  # one organisation's listings (its public profile)
    ip_kind: IpKind | None = None
    order: str = "relevance"  # one of ORDERS
    limit: int = 20
    cursor: str | None = None


def _filters(query: Select[Any], search: SearchQuery, viewer: Actor | None) -> Select[Any] | None:
    if search.status is not None:
        if search.status not in PUBLIC_STATUSES and not (viewer and viewer.is_operator):
            return None  # the public sees no listing in that state
        query = query.where(Listing.status == search.status.value)
    else:
        query = query.where(Listing.status.in_([s.value for s in PUBLIC_STATUSES]))
    if search.field is not None:
        query = query.where(Listing.field == search.field.value)
    if search.deal_type is not None:
        query = query.where(Listing.deal_type == search.deal_type.value)
    if search.pricing_mode is not None:
        query = query.where(Listing.pricing_mode == search.pricing_mode.value)
    if search.license_scope is not None:
        # Only a licence has a scope (transfers and equity have none): deal_terms is its LicenseTerms.
        scope = Listing.deal_terms["scope"].as_string()
        query = query.where(Listing.deal_type == DealType.LICENSE.value, scope == search.license_scope.value)
    if search.min_maturity is not None:
        query = query.where(Listing.maturity >= search.min_maturity)
    if search.seller_kind is not None:
        query = query.where(Listing.seller_kind == search.seller_kind)
    if search.seller_org_id is not None:
        query = query.where(Listing.seller_org_id == search.seller_org_id)
    if search.min_price:
        query = query.where(Listing.asking_price >= search.min_price)
    if search.max_price is not None:
        query = query.where(Listing.asking_price <= search.max_price)
    if search.ip_kind is not None:
        query = query.where(
            exists().where(ListingIpAsset.listing_id == Listing.id, ListingIpAsset.kind == search.ip_kind.value)
        )
    return query


def _narrowed(search: SearchQuery) -> bool:
    """Whether filters beyond the public states narrow the search."""
    return bool(
        search.field
        or search.deal_type
        or search.license_scope
        or search.pricing_mode
        or search.ip_kind
        or search.status
        or search.seller_kind
        or search.seller_org_id
        or search.min_maturity is not None
    ) or bool(search.min_price or search.max_price is not None)


@dataclass(frozen=True)
class _Keyset:
    """A non-relevance order: its sort columns and how a cursor names a position in it."""

    order_by: tuple[Any, ...]
    position: Callable[[Listing], dict[str, Any]]
    after: Callable[[dict[str, Any]], Any]  # the WHERE clause of the rows after a position


_OPEN = ListingStatus.ANNOUNCED.value
_open_rank = case((Listing.status == _OPEN, 0), else_=1)
_closes = func.coalesce(Listing.closes_at, literal(NO_CLOSE, UTCDateTime))


def _after_newest(p: dict[str, Any]) -> Any:
    at, key = cursor_time(p, "published_at"), cursor_uuid(p, "id")
    return (Listing.published_at < at) | ((Listing.published_at == at) & (Listing.id < key))


def _after_price(descending: bool) -> Callable[[dict[str, Any]], Any]:
    def after(p: dict[str, Any]) -> Any:
        price, key = cursor_int(p, "price", maximum=MAX_FEN), cursor_uuid(p, "id")
        if descending:
            return (Listing.asking_price < price) | ((Listing.asking_price == price) & (Listing.id < key))
        return (Listing.asking_price > price) | ((Listing.asking_price == price) & (Listing.id > key))

    return after


def _after_closing(p: dict[str, Any]) -> Any:
    rank, at, key = cursor_int(p, "open", maximum=1), cursor_time(p, "closes_at"), cursor_uuid(p, "id")
    # Open announcements run soonest-first, the others latest-first: the comparison follows the group.
    later = _closes > at if rank == 0 else _closes < at
    return (_open_rank > rank) | ((_open_rank == rank) & (later | ((_closes == at) & (Listing.id > key))))


def _closing_position(item: Listing) -> dict[str, Any]:
    return {
        "open": 0 if item.status == _OPEN else 1,
        "closes_at": (item.closes_at or NO_CLOSE).isoformat(),
        "id": str(item.id),
    }


KEYSETS: dict[str, _Keyset] = {
    "newest": _Keyset(
        (Listing.published_at.desc(), Listing.id.desc()),
        lambda item: {"published_at": item.published_at.isoformat(), "id": str(item.id)},
        _after_newest,
    ),
    "closing": _Keyset(
        (
            _open_rank,
            case((_open_rank == 0, _closes)).asc(),
            case((_open_rank == 1, _closes)).desc(),
            Listing.id,
        ),
        _closing_position,
        _after_closing,
    ),
    "price_asc": _Keyset(
        (Listing.asking_price, Listing.id),
        lambda item: {"price": item.asking_price, "id": str(item.id)},
        _after_price(descending=False),
    ),
    "price_desc": _Keyset(
        (Listing.asking_price.desc(), Listing.id.desc()),
        lambda item: {"price": item.asking_price, "id": str(item.id)},
        _after_price(descending=True),
    ),
}
CURSOR_KEYS = {
    "newest": ("published_at", "id"),
    "closing": ("open", "closes_at", "id"),
    "price_asc": ("price", "id"),
    "price_desc": ("price", "id"),
}


def _check_range(search: SearchQuery) -> None:
    if search.max_price is not None and search.min_price > search.max_price:
        raise InvalidRequest("max_price must not be below min_price", field="max_price")
    if search.order not in ORDERS:
        raise InvalidRequest(f"order must be one of {', '.join(ORDERS)}", field="order")


async def _matches(
    session: AsyncSession, search: SearchQuery, viewer: Actor | None, words: list[str], *, window: int | None
) -> tuple[Select[Any] | None, Any]:
    """The ids (and, on PostgreSQL, search vectors; on SQLite, bm25 scores) of the listings that
    match, and the tsquery of the words. ``window``: SQLite's unfiltered relevance reads only that
    many of the most recent matches (None: every match, as a count or another order needs)."""
    postgres = is_postgres(session)
    if postgres and words:
        # Plan each search for its own words: a prepared statement's generic plan cannot tell a word
        # in a third of the catalogue from a rare one, and picks one plan for both.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    tsquery = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
    vector = literal_column("listings.search_vector")
    matches = _filters(
        select(Listing.id.label("id"), vector.label("vector") if postgres else Listing.id), search, viewer
    )
    if matches is None or not words:
        return matches, tsquery
    if postgres:
        return matches.where(vector.op("@@")(tsquery)), tsquery
    # SQLite: unfiltered relevance ranks the most recent matches (rowid = listing number, in
    # creation order), which FTS5 reads newest first and stops; filters need every match.
    sql = (
        "SELECT rowid AS number, bm25(listing_search, 10.0, 1.0) AS score "
        "FROM listing_search WHERE listing_search MATCH :match"
    )
    params: dict[str, Any] = {"match": fts5_query(words)}
    if window is not None and not _narrowed(search):
        sql += " ORDER BY rowid DESC LIMIT :window"
        params["window"] = window
    fts = text(sql).bindparams(**params).columns(number=BigInteger, score=Float).subquery("fts")
    return matches.join(fts, fts.c.number == Listing.number).add_columns((-fts.c.score).label("score")), tsquery


async def count_listings(session: AsyncSession, search: SearchQuery, viewer: Actor | None) -> int:
    """How many listings the search matches in all (every page together), whatever the order."""
    _check_range(search)
    words = query_words(search.q) if search.q else []
    if search.q and not words:
        return 0
    matches, _ = await _matches(session, search, viewer, words, window=None)
    if matches is None:
        return 0
    return int(await session.scalar(select(func.count()).select_from(matches.subquery("matches"))) or 0)


async def search_listings(
    session: AsyncSession, search: SearchQuery, viewer: Actor | None
) -> tuple[list[Listing], str | None]:
    """Public listings matching the words of ``q`` and the filters, in one of ``ORDERS``.

    Relevance ranks the ``RELEVANCE_WINDOW`` most recent matches (a deeper page widens the
    window): a common word matches a large part of the catalogue, and ranking every match would
    cost time in proportion to it, while the most recent matches are found by walking an index.
    Its cursor is an offset; every other order pages by keyset (the last row's sort key and id).
    """
    _check_range(search)
    words = query_words(search.q) if search.q else []
    if search.q and not words:
        return [], None  # nothing searchable in the query (only punctuation)
    relevance = bool(words) and search.order == "relevance"
    limit = search.limit
    if relevance:
        position = decode_cursor(search.cursor, "offset")
        offset = cursor_int(position, "offset", maximum=MAX_OFFSET) if position else 0
        window = max(RELEVANCE_WINDOW, offset + limit + 1)
        matches, tsquery = await _matches(session, search, viewer, words, window=window)
        if matches is None:
            return [], None
        if is_postgres(session):
            candidates = matches.order_by(*KEYSETS["newest"].order_by).limit(window).subquery("candidates")
            rank = func.ts_rank(candidates.c.vector, tsquery)
        else:
            candidates = matches.subquery("candidates")
            rank = candidates.c.score
        # Rank and cut the page before joining back for the full rows: a page joins 21 rows, not 1,000.
        ranked = (
            select(candidates.c.id, rank.label("rank"))
            .order_by(rank.desc(), candidates.c.id.desc())
            .offset(offset)
            .limit(limit + 1)
            .subquery("ranked")
        )
        query = (
            select(Listing).join(ranked, ranked.c.id == Listing.id).order_by(ranked.c.rank.desc(), Listing.id.desc())
        )
        rows = list((await session.scalars(query.options(*PAGE_LOAD))).all())
        more = len(rows) > limit and offset + limit < MAX_OFFSET
        return rows[:limit], encode_cursor({"offset": offset + limit}) if more else None

    order = "newest" if search.order == "relevance" else search.order  # relevance without words
    keyset = KEYSETS[order]
    position = decode_cursor(search.cursor, *CURSOR_KEYS[order])
    matches, _ = await _matches(session, search, viewer, words, window=None)
    if matches is None:
        return [], None
    if position:
        matches = matches.where(keyset.after(position))
    page = matches.order_by(*keyset.order_by).limit(limit + 1).subquery("page")
    query = select(Listing).join(page, page.c.id == Listing.id).order_by(*keyset.order_by)
    rows = (await session.scalars(query.options(*PAGE_LOAD))).all()
    return keyset_page(rows, limit, keyset.position)


async def seller_listings(
    session: AsyncSession, actor: Actor, *, status: ListingStatus | None, limit: int, cursor: str | None
) -> tuple[list[Listing], str | None]:
    """The caller's organisation's listings in every state, newest first."""
    query = select(Listing).options(selectinload(Listing.ip_assets)).where(Listing.seller_org_id == actor.org_id)
    if status is not None:
        query = query.where(Listing.status == status.value)
    return await _by_id_desc(session, query, Listing.id, limit, cursor)


async def _by_id_desc(session: AsyncSession, query: Select[Any], column: Any, limit: int, cursor: str | None) -> Any:
    if (before := id_after(cursor)) is not None:
        query = query.where(column < before)
    return keyset_page((await session.scalars(query.order_by(column.desc()).limit(limit + 1))).all(), limit, by_id)


async def _by_id_asc(session: AsyncSession, query: Select[Any], column: Any, limit: int, cursor: str | None) -> Any:
    if (after := id_after(cursor)) is not None:
        query = query.where(column > after)
    return keyset_page((await session.scalars(query.order_by(column).limit(limit + 1))).all(), limit, by_id)


async def _seller_or_operator(session: AsyncSession, actor: Actor, listing_id: uuid.UUID) -> Listing:
    listing = await load_listing(session, listing_id, viewer=actor)
    if not (is_seller(listing, actor) or actor.is_operator):
        raise Forbidden("only the seller and exchange operators see this")
    return listing


async def listing_transitions(
    session: AsyncSession, actor: Actor, listing_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[ListingTransition], str | None]:
    """The transition log, oldest first: seller and operators only."""
    listing = await _seller_or_operator(session, actor, listing_id)
    query = select(ListingTransition).where(ListingTransition.listing_id == listing.id)
    return await _by_id_asc(session, query, ListingTransition.id, limit, cursor)


async def confidential_reads(
    session: AsyncSession, actor: Actor, listing_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[ConfidentialRead], str | None]:
    """Who read the confidential details and when: seller and operators only."""
    listing = await _seller_or_operator(session, actor, listing_id)
    query = select(ConfidentialRead).where(ConfidentialRead.listing_id == listing.id)
    return await _by_id_asc(session, query, ConfidentialRead.id, limit, cursor)


# ----------------------------------------------------------------------------------------------
# Open data (SPEC §2.5): every listing that has ever been announced, in change order


def open_data_row(listing: Listing) -> dict[str, Any]:
    """Public fields of a listing; one no longer public (withdrawn, rejected) appears as a tombstone."""
    base = {
        "cursor": listing.feed_seq,
        "listing_id": str(listing.id),
        "number": listing.number,
        "status": listing.status,
        "public": listing.status in PUBLIC_STATUSES,
        "updated_at": rfc3339(listing.updated_at),
        "first_announced_at": rfc3339(listing.first_announced_at) if listing.first_announced_at else None,
    }
    if listing.status in PUBLIC_STATUSES:
        base.update(public_listing(listing))
    return base


async def open_data(session: AsyncSession, *, since: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Rows changed after cursor ``since`` (oldest change first) and the cursor to continue from."""
    rows = (
        await session.scalars(
            select(Listing)
            .options(selectinload(Listing.ip_assets))
            .where(Listing.first_announced_at.is_not(None), Listing.feed_seq > since)
            .order_by(Listing.feed_seq)
            .limit(limit)
        )
    ).all()
    items = [open_data_row(row) for row in rows]
    return items, (rows[-1].feed_seq if rows else since)


# ----------------------------------------------------------------------------------------------
# Statistics (SPEC §2.5): listing figures of a year, counted by first announcement, Beijing time


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(datetime(year, 1, 1).date(), time(0), tzinfo=BEIJING)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(0), tzinfo=BEIJING)
    return start, end


def stats_year(year: int | None, now: datetime) -> int:
    """The year asked for, or the current year in Beijing."""
    if year is None:
        return now.astimezone(BEIJING).year
    if not 2000 <= year <= 2100:
        raise InvalidRequest("year must be between 2000 and 2100", field="year")
    return year


async def listing_figures(session: AsyncSession, year: int) -> dict[str, Any]:
    start, end = _year_bounds(year)
    in_year = (Listing.first_announced_at >= start, Listing.first_announced_at < end)
    total, value = (
        await session.execute(select(func.count(), func.coalesce(func.sum(Listing.asking_price), 0)).where(*in_year))
    ).one()

    async def by(column: Any, keys: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(keys, 0)
        for key, count in await session.execute(select(column, func.count()).where(*in_year).group_by(column)):
            counts[str(key)] = int(count)
        return counts

    if is_postgres(session):
        month = func.extract("month", func.timezone("Asia/Shanghai", Listing.first_announced_at))
    else:
        month = func.strftime("%m", Listing.first_announced_at, "+8 hours")
    months = dict.fromkeys(range(1, 13), 0)
    for key, count in await session.execute(select(month, func.count()).where(*in_year).group_by(month)):
        months[int(key)] = int(count)
    return {
        "announced": int(total),
        "asking_value": int(value),
        "by_deal_type": await by(Listing.deal_type, [d.value for d in DealType]),
        "by_pricing_mode": await by(Listing.pricing_mode, [m.value for m in PricingMode]),
        "by_field": await by(Listing.field, [f.value for f in Field]),
        "by_seller_kind": await by(Listing.seller_kind, ["university", "research_institute", "enterprise"]),
        "by_status": await by(Listing.status, sorted(s.value for s in PUBLIC_STATUSES | {ListingStatus.WITHDRAWN})),
        "by_month": [{"month": f"{year}-{m:02d}", "count": n} for m, n in months.items()],
    }
