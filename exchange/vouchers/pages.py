"""The voucher pages: programs (``/vouchers``) and the service catalogue with its providers'
public records (``/services``), from the same queries as ``GET /voucher-programs``,
``GET /services`` and ``GET /service-providers``."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Template

from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.vouchers import orders, programs
from exchange.vouchers.domain import Category
from exchange.vouchers.printing import redemption_pdf
from exchange.vouchers.schemas import ProviderOut, ServiceOut
from exchange.vouchers.workspace_pages import WORKSPACE_PAGE_HANDLERS
from kernel.errors import BadRequest
from kernel.pagination import Cursor, by_id, id_after, keyset_page
from kernel.shapes import shaped
from listings import ListingsContext

PAGE_SIZE = 100  # a catalogue page: every service of a small exchange, grouped by category


@get("/vouchers", include_in_schema=False, name="vouchers")
async def vouchers_page(db: Db, clock: Now, cursor: Cursor = None) -> Template:
    async with db.read() as session:
        rows = await programs.list_programs(session, limit=PAGE_SIZE + 1, after=id_after(cursor))
    rows, next_cursor = keyset_page(rows, PAGE_SIZE, by_id)
    now = clock.now()
    context = {
        "section": "vouchers",
        "programs": [programs.program_out(p, now) for p in rows],
        "next_cursor": next_cursor,
    }
    return Template("vouchers/programs.html", context=context)


def chosen_category(category: str | None) -> Category | None:
    """The category of the filter form; its "all categories" choice sends an empty value."""
    if not category:
        return None
    try:
        return Category(category)
    except ValueError:
        raise BadRequest(f"{category!r} is not a service category", field="category") from None


@get("/services", include_in_schema=False, name="services")
async def services_page(
    db: Db,
    category: FromQuery[Annotated[str | None, Parameter(max_length=40)]] = None,
    cursor: Cursor = None,
) -> Template:
    chosen = chosen_category(category)
    async with db.read() as session:
        rows = await orders.list_services(
            session, category=chosen, provider_id=None, limit=PAGE_SIZE + 1, after=id_after(cursor)
        )
        rows, next_cursor = keyset_page(rows, PAGE_SIZE, by_id)
        providers = list(dict.fromkeys(s.provider_org_id for s in rows))  # in the catalogue's order
        records = await orders.provider_records(session, providers)
    by_category: dict[Category, list[ServiceOut]] = defaultdict(list)
    for service in rows:
        by_category[Category(service.category)].append(shaped(ServiceOut, service))
    context = {
        "section": "services",
        "categories": list(Category),
        "chosen": chosen,
        # The categories in the order the programs name them, each with its services, newest first.
        "groups": [(c, by_category[c]) for c in Category if by_category.get(c)],
        "providers": {r.org_id: shaped(ProviderOut, r) for r in records},
        "next_cursor": next_cursor,
    }
    return Template("vouchers/services.html", context=context)


@get(
    "/redemptions/{redemption_id:uuid}/pdf",
    include_in_schema=False,
    name="redemption-pdf",
    opt={"public_cache": False},  # its provider, the program's administrators and operators only
)
async def redemption_pdf_page(
    request: Request[Any, Any, Any],
    redemption_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    listings: NamedDependency[ListingsContext],
) -> Response[bytes]:
    """A redemption's PDF for a signed-in reader (the provider's and program's pages link to it)."""
    return await redemption_pdf(request, db, user, listings, redemption_id, clock.now())


# The workspaces of providers, enterprises and program administrators (``workspace_pages``).
PAGE_HANDLERS = [vouchers_page, services_page, redemption_pdf_page, *WORKSPACE_PAGE_HANDLERS]
