"""The achievement library (科技成果库): search the public listings, as ``GET /api/v1/listings`` does.

The page reads its query itself rather than declaring typed parameters: a shared link carries
what messengers add (``?from=singlemessage&isappinstalled=0``) and what an emptied filter sends
(``field=``), and neither may break it. Known parameters with a value are checked as the API
checks them (a wrong one is a Chinese 400 page); the rest are ignored.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from kernel.errors import msgspec_field
from listings.context import UnitOfWork
from listings.domain import PUBLIC_STATUSES, Actor, DealType, Field, LicenseScope, ListingStatus, PricingMode
from listings.errors import InvalidRequest
from listings.queries import SearchQuery, count_listings, search_listings
from listings.views import listing_summary

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


FORM_FIELDS = frozenset(LibraryQuery.__struct_fields__)


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


def read_query(request: Request[Any, Any, Any]) -> LibraryQuery:
    """The known, non-empty parameters of the URL (each once) as the form's fields."""
    given = {key: value.strip() for key, value in request.query_params.items() if key in FORM_FIELDS}
    try:
        return msgspec.convert({k: v for k, v in given.items() if v}, LibraryQuery, strict=False)
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
    form = read_query(request)
    search = search_of(form)
    async with db.read() as session:
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


PAGE_HANDLERS = [library]
