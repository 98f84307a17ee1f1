"""The buyer's workspace and the pages both parties of a trade share.

- ``/workspace/intents``: the organisation's intents with where each deposit is (held, applied,
  released, forfeited), linking to the listing, its auction, negotiation and deal;
- ``/workspace/purchases``: negotiations and deals where it buys, with what waits for it;
- ``/workspace/negotiations/{id}``: a negotiation offer by offer, for the buyer and the seller:
  counter-offer, accept, decline — the services of the API's negotiation routes;
- ``/workspace/deals/{id}``: a deal for both parties: terms, signatures, the payment schedule, the
  buyer's payment from its wallet (keyed as ``POST /deals/{id}/pay``), the certificate, the settlement.

Every action answers in place with htmx (the answer, and the page's panel swapped out of band) and,
without scripts, redirects back to the page with a fixed ``?notice=``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template
from msgspec import Struct

from exchange.accounting.wallet import cash_of
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.platform.keyed import keyed
from exchange.trading import deals, negotiations, schedule, workspace
from exchange.trading.context import TradingContext
from exchange.trading.domain import Side, negotiation_task
from exchange.trading.pages import new_form_key
from exchange.trading.routes import DEPENDENCIES
from exchange.trading.views import deal_out
from exchange.web.formats import fen_of_yuan
from kernel.page_actions import is_htmx
from kernel.pagination import Cursor
from listings import load_listing

Trading = NamedDependency[TradingContext]
NO_STORE = {"Cache-Control": "no-store"}


def _answered(
    request: Request[Any, Any, Any], page: str, notice: str, template: str, context: dict[str, Any]
) -> Response[Any]:
    """An action's answer: in place for htmx (the answer and the page's panel), else back to the page."""
    if is_htmx(request):
        return Template(template, context={**context, "notice_key": notice}, headers=NO_STORE)
    return Redirect(path=f"{page}?notice={notice}", status_code=303)


# -- intents and purchases ------------------------------------------------------------------------


@get("/workspace/intents", include_in_schema=False, name="workspace-intents")
async def intents_page(user: Caller, db: Db, cursor: Cursor = None) -> Template:
    """The organisation's intents (``GET /api/v1/intents``) and where each deposit is."""
    async with db.read() as session:
        rows, next_cursor = await workspace.intent_rows(session, user, cursor)
        cash = await cash_of(session, user.org_id)
    context = {
        "section": "workspace",
        "workspace_tab": "intents",
        "rows": rows,
        "cash": cash,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
    }
    return Template("trading/workspace/intents.html", context=context)


@get("/workspace/purchases", include_in_schema=False, name="workspace-purchases")
async def purchases_page(user: Caller, db: Db, clock: Now, cursor: Cursor = None) -> Template:
    """Negotiations and deals where the organisation buys, with what each waits for from it."""
    async with db.read() as session:
        threads = await workspace.thread_rows(session, user.org_id, Side.BUYER)
        rows, next_cursor = await workspace.deal_rows(session, user, Side.BUYER, cursor, clock.now())
    context = {
        "section": "workspace",
        "workspace_tab": "purchases",
        "threads": threads,
        "deals": rows,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
    }
    return Template("trading/workspace/purchases.html", context=context)


# -- a negotiation ----------------------------------------------------------------------------------


async def _negotiation_context(session: Any, user: Principal, negotiation_id: uuid.UUID) -> dict[str, Any]:
    thread = await negotiations.visible_thread(session, user, negotiation_id)  # its parties and operators
    offers = await negotiations.offers_of(session, thread.id)
    listing = await load_listing(session, thread.listing_id, check=False)
    side = workspace.side_of(thread, user.org_id)
    standing = workspace.standing_offer(offers)
    task = negotiation_task(thread.status, standing.side if standing else None, side) if side else None
    deal = await workspace.deal_of_thread(session, thread)
    return {
        "section": "workspace",
        "workspace_tab": "purchases" if side is Side.BUYER else "sales",
        "thread": thread,
        "offers": offers,
        "listing": listing,
        "side": side.value if side else None,
        "standing": standing,
        "task": task.value if task else None,
        "deal": deal,
    }


@get("/workspace/negotiations/{negotiation_id:uuid}", include_in_schema=False, name="workspace-negotiation")
async def negotiation_page(negotiation_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    async with db.read() as session:
        context = await _negotiation_context(session, user, negotiation_id)
    return Template("trading/workspace/negotiation.html", context=context)


class OfferForm(Struct):
    price: str = ""  # yuan, as typed
    note: str = ""


def _offer(form: OfferForm) -> dict[str, Any]:
    """The form's offer as the API's ``OfferIn.plain()``: a price, paid in one sum, on the listed terms."""
    return {
        "price": fen_of_yuan(form.price, field="price"),
        "payment_terms": {"kind": "lump_sum"},
        "adjustments": {},
        "note": form.note.strip()[:2000],
        "expires_at": None,
    }


@post(
    "/workspace/negotiations/{negotiation_id:uuid}/offers",
    include_in_schema=False,
    status_code=200,
    dependencies=DEPENDENCIES,
)
async def counter_offer(
    request: Request[Any, Any, Any],
    negotiation_id: FromPath[uuid.UUID],
    data: Annotated[OfferForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    trader: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Response[Any]:
    """A counter-offer (``POST /negotiations/{id}/offers``)."""
    request.state.action = "offer"  # a price that is not yuan is worded as a price (ACTION_MESSAGES)
    offer = _offer(data)
    await db.transaction(lambda s: negotiations.counter(s, trading, trader, negotiation_id, offer, clock.now()))
    async with db.read() as session:
        context = await _negotiation_context(session, trader, negotiation_id)
    page = f"/workspace/negotiations/{negotiation_id}"
    return _answered(request, page, "offer-made", "trading/workspace/negotiation_answer.html", context)


@post(
    "/workspace/negotiations/{negotiation_id:uuid}/offers/{offer_id:uuid}/accept",
    include_in_schema=False,
    status_code=303,
    dependencies=DEPENDENCIES,
)
async def accept_offer(
    negotiation_id: FromPath[uuid.UUID],
    offer_id: FromPath[uuid.UUID],
    trader: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Redirect:
    """Accept the standing offer (``POST /negotiations/{id}/offers/{offer}/accept``): the deal
    forms, and the reader goes to it."""
    deal = await db.transaction(
        lambda s: negotiations.accept(s, trading, trader, negotiation_id, offer_id, clock.now())
    )
    return Redirect(path=f"/workspace/deals/{deal.id}?notice=deal-formed", status_code=303)


@post(
    "/workspace/negotiations/{negotiation_id:uuid}/offers/{offer_id:uuid}/decline",
    include_in_schema=False,
    status_code=303,
    dependencies=DEPENDENCIES,
)
async def decline_offer(
    negotiation_id: FromPath[uuid.UUID],
    offer_id: FromPath[uuid.UUID],
    trader: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Redirect:
    """Decline the standing offer (``…/decline``): the negotiation ends, the buyer's deposit is released."""
    await db.transaction(lambda s: negotiations.decline(s, trading, trader, negotiation_id, offer_id, clock.now()))
    return Redirect(path=f"/workspace/negotiations/{negotiation_id}?notice=offer-declined", status_code=303)


@post("/listings/{listing_id:uuid}/negotiations", include_in_schema=False, status_code=303, dependencies=DEPENDENCIES)
async def open_negotiation(
    request: Request[Any, Any, Any],
    listing_id: FromPath[uuid.UUID],
    data: Annotated[OfferForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    trader: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Redirect:
    """The buyer's opening offer on a negotiated listing (``POST /listings/{id}/negotiations``)."""
    request.state.action = "offer"
    offer = _offer(data)
    thread, _ = await db.transaction(lambda s: negotiations.start(s, trading, trader, listing_id, offer, clock.now()))
    return Redirect(path=f"/workspace/negotiations/{thread.id}?notice=offer-made", status_code=303)


# -- a deal -----------------------------------------------------------------------------------------


async def _deal_context(session: Any, user: Principal, deal_id: uuid.UUID, now: Any) -> dict[str, Any]:
    view = await workspace.deal_view(session, user, deal_id, now)
    cash = await cash_of(session, user.org_id) if view.side is Side.BUYER else None
    return {
        "section": "workspace",
        "workspace_tab": "purchases" if view.side is Side.BUYER else "sales",
        "view": view,
        "deal": view.deal,
        "terms": view.deal.snapshot,
        "side": view.side.value if view.side else None,
        "task": view.task.value if view.task else None,
        "cash": cash,
        "is_admin": user.is_admin,
        "form_key": new_form_key(),
    }


@get("/workspace/deals/{deal_id:uuid}", include_in_schema=False, name="workspace-deal")
async def deal_page(deal_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now) -> Template:
    """A deal for its parties and operators (``GET /api/v1/deals/{id}``; 404 for anyone else)."""
    async with db.read() as session:
        context = await _deal_context(session, user, deal_id, clock.now())
    return Template("trading/workspace/deal.html", context=context)


@post("/workspace/deals/{deal_id:uuid}/sign", include_in_schema=False, status_code=200, dependencies=DEPENDENCIES)
async def sign_deal(
    request: Request[Any, Any, Any],
    deal_id: FromPath[uuid.UUID],
    user: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Response[Any]:
    """Sign (``POST /deals/{id}/sign``): an admin of each party; the certificate is issued with the second."""
    await db.transaction(lambda s: deals.sign(s, trading, user, deal_id, clock.now()))
    async with db.read() as session:
        context = await _deal_context(session, user, deal_id, clock.now())
    return _answered(
        request, f"/workspace/deals/{deal_id}", "deal-signed", "trading/workspace/deal_answer.html", context
    )


class PayForm(Struct):
    key: str = ""  # the form's idempotency key: submitting it twice is one payment


@post("/workspace/deals/{deal_id:uuid}/pay", include_in_schema=False, status_code=200, dependencies=DEPENDENCIES)
async def pay_deal(
    request: Request[Any, Any, Any],
    deal_id: FromPath[uuid.UUID],
    data: Annotated[PayForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    user: Caller,
    db: Db,
    clock: Now,
    trading: Trading,
) -> Response[Any]:
    """Pay the payment due from the wallet, as ``POST /deals/{id}/pay`` with the form's key."""

    async def work(session: Any) -> Any:
        deal = await deals.pay(session, trading, user, deal_id, clock.now())
        payments = await schedule.schedule_of(session, deal.id)
        notes = (await schedule.notifications_of(session, [deal.id])).get(deal.id, [])
        return deal_out(deal, payments, notes)  # the API's answer, stored under the key

    await keyed(
        db,
        clock,
        user,
        data.key or None,
        action="deal-payment",
        request=str(deal_id),
        work=work,
        status=200,
        required=True,
    )
    async with db.read() as session:
        context = await _deal_context(session, user, deal_id, clock.now())
    return _answered(request, f"/workspace/deals/{deal_id}", "deal-paid", "trading/workspace/deal_answer.html", context)


# -- links of notifications (issue 17) to the pages above ------------------------------------------


@get("/deals/{deal_id:uuid}", include_in_schema=False, opt={"public_cache": False})
async def deal_link(deal_id: FromPath[uuid.UUID]) -> Redirect:
    """Notifications about a deal link to ``/deals/{id}``: its page is in the workspace."""
    return Redirect(path=f"/workspace/deals/{deal_id}", status_code=302)


@get("/negotiations/{negotiation_id:uuid}", include_in_schema=False, opt={"public_cache": False})
async def negotiation_link(negotiation_id: FromPath[uuid.UUID]) -> Redirect:
    return Redirect(path=f"/workspace/negotiations/{negotiation_id}", status_code=302)


@get("/intents/{intent_id:uuid}", include_in_schema=False, opt={"public_cache": False})
async def intent_link(intent_id: FromPath[uuid.UUID]) -> Redirect:
    return Redirect(path=f"/workspace/intents#intent-{intent_id}", status_code=302)


PAGE_HANDLERS = [
    intents_page,
    purchases_page,
    negotiation_page,
    counter_offer,
    accept_offer,
    decline_offer,
    open_negotiation,
    deal_page,
    sign_deal,
    pay_deal,
    deal_link,
    negotiation_link,
    intent_link,
]
