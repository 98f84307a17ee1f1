"""The seller's workspace: my listings, the listing form in steps, one listing in the seller's eyes,
and the sales (negotiations and deals) across listings.

Every action calls the service of the API's route: the form's steps ``service.create_listing``
(``POST /api/v1/listings``) and ``service.edit_listing`` (``PATCH /api/v1/listings/{id}``), the
buttons ``submit_listing`` and ``revise_listing``. The form itself (typed text → the API's body,
refusals → inputs) is ``listing_form``. These pages live with trading because a listing's page
shows its negotiations and deals, and the listings module may not import the exchange.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from exchange.parties import service as parties
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.trading import deals, negotiations
from exchange.trading import listing_form as form
from exchange.trading.routes import DEPENDENCIES, _deals_out
from exchange.trading.views import negotiation_out
from exchange.web.messages import message_for
from kernel.errors import DomainError, NotFound
from kernel.page_actions import done, is_htmx, read_form
from kernel.pagination import Cursor
from listings import notices, queries, service
from listings.domain import (
    Field,
    IpKind,
    LicenseScope,
    ListingStatus,
    ObjectionStatus,
    PricingMode,
    objection_answerable,
)
from listings.errors import InvalidListing
from listings.models import Notice, Objection
from listings.routes import Caller as ActorCaller
from listings.routes import Ctx
from listings.schemas import ListingCreate
from listings.views import listing_out, notice_summary, objection_out, read_out, transition_out

WORK = {"section": "workspace"}
CHOICES = {
    "field": [f.value for f in Field],
    "ip_kind": [k.value for k in IpKind],
    "license_scope": [s.value for s in LicenseScope],
    "pricing_mode": [m.value for m in PricingMode],
    "deal_type": ["transfer", "license", "equity"],
}


def _form_page(
    step: form.Step,
    values: form.Values,
    errors: form.Errors,
    *,
    listing: Any = None,
    status: int = 200,
) -> Template:
    """One step of the form: a new listing's (earlier steps carried) or a draft's."""
    context = {
        **WORK,
        "workspace_tab": "new-listing" if listing is None else "listings",
        "steps": form.STEPS,
        "step": step,
        "values": values,
        "errors": errors,
        "listing": listing,
        "carried": form.carried(form.without_step(values, step)) if listing is None else "",
        "ip_rows": form.rows_shown(values, "ip_assets", form.IP_ROWS_MIN),
        "inventor_rows": form.rows_shown(values, "inventors", form.INVENTOR_ROWS_MIN),
        "choices": CHOICES,
        "creates_draft": listing is None and step.key == form.CREATES_DRAFT,
    }
    return Template("trading/seller_listing_form.html", context=context, status_code=status)


async def _typed(request: Request[Any, Any, Any]) -> dict[str, str]:
    posted = await request.form()
    return {key: str(posted.get(key)) for key in posted}


def _step_named(key: str) -> form.Step:
    if key not in form.STEP_KEYS:
        raise NotFound(f"no step {key!r} in the listing form")
    return form.step_of(key)


def _next(step: form.Step) -> form.Step | None:
    i = form.STEP_KEYS.index(step.key)
    return form.STEPS[i + 1] if i + 1 < len(form.STEPS) else None


def _previous(step: form.Step) -> form.Step:
    return form.STEPS[max(0, form.STEP_KEYS.index(step.key) - 1)]


# ----------------------------------------------------------------------------------------------
# My listings


@get("/workspace/listings", include_in_schema=False, name="seller-listings")
async def my_listings(actor: ActorCaller, db: Db, status: FromQuery[str] = "", cursor: Cursor = None) -> Template:
    """The organisation's listings in every state, newest first, as ``GET /api/v1/listings/mine``."""
    actor.require_seller_kind()
    wanted = ListingStatus(status) if status in set(ListingStatus) else None
    async with db.read() as session:
        rows, next_cursor = await queries.seller_listings(session, actor, status=wanted, limit=20, cursor=cursor)
    return Template(
        "trading/seller_listings.html",
        context={
            **WORK,
            "workspace_tab": "listings",
            "listings": [listing_out(r, actor) for r in rows],
            "deal_types": {r.id: r.deal_type for r in rows},
            "next_cursor": next_cursor,
            "status": wanted.value if wanted else "",
            "statuses": [s.value for s in ListingStatus],
        },
    )


# ----------------------------------------------------------------------------------------------
# A new listing: the steps before the draft exists travel with the form


@get("/workspace/listings/new", include_in_schema=False, name="seller-new-listing")
async def new_listing(actor: ActorCaller) -> Template:
    actor.require_seller_kind()
    return _form_page(form.STEPS[0], {}, {})


@post("/workspace/listings/new", include_in_schema=False, status_code=200)
async def new_listing_step(
    request: Request[Any, Any, Any], actor: ActorCaller, db: Db, clock: Now, listings: Ctx
) -> Template | Redirect:
    """A step of a new listing. Before the deal step its values are checked as the API would and
    carried to the next; the deal step creates the draft (``POST /api/v1/listings``)."""
    actor.require_seller_kind()
    typed = await _typed(request)
    step = _step_named(typed.get("step", ""))
    if form.STEP_KEYS.index(step.key) > form.STEP_KEYS.index(form.CREATES_DRAFT):
        raise NotFound("the later steps edit the draft")
    values = {**form.uncarried(typed.get("carried", "")), **form.typed_values(typed, step)}
    if typed.get("go") == "back":
        return _form_page(_previous(step), values, {})
    try:
        form.changes_of(step, values)
        if step.key != form.CREATES_DRAFT:
            following = _next(step)
            assert following is not None
            return _form_page(following, values, {})
        body: ListingCreate = form.create_body(values)
        listing = await db.transaction(
            lambda s: service.create_listing(s, listings, actor, body.content(), None, clock.now())
        )
    except form.RefusedStep as refused:
        return _form_page(refused.step, values, refused.errors, status=422)
    except InvalidListing as refused:
        shown = form.refusal_of(refused, values)
        return _form_page(shown.step, values, shown.errors, status=422)
    except DomainError as refused:
        # Not the content but the caller (an organisation not yet verified…): said above the
        # form, which keeps everything typed.
        words = message_for(refused.problem_type, refused.status, refused.extra)
        return _form_page(step, values, {"form": words}, status=refused.status)
    following = _next(step)
    assert following is not None
    return Redirect(f"/workspace/listings/{listing.id}/edit?step={following.key}&saved=1", status_code=303)


# ----------------------------------------------------------------------------------------------
# A draft, step by step (``PATCH /api/v1/listings/{id}``)


async def _own(db: Db, actor: Any, listing_id: uuid.UUID) -> Any:
    """The caller's organisation's listing; 404 for anyone else, as a draft is to the API."""
    async with db.read() as session:
        listing = await service.load_listing(session, listing_id, viewer=actor)
    if not service.is_seller(listing, actor):
        raise NotFound(f"listing {listing_id} not found")
    return listing


@get("/workspace/listings/{listing_id:uuid}/edit", include_in_schema=False, name="seller-edit-listing")
async def edit_listing_page(
    listing_id: FromPath[uuid.UUID], actor: ActorCaller, db: Db, clock: Now, listings: Ctx, step: FromQuery[str] = ""
) -> Template:
    chosen = _step_named(step or form.STEPS[0].key)
    await _own(db, actor, listing_id)
    confidential = None
    if chosen.key == "confidential":
        # Read as the API reads it: the seller's own reading is logged too (every read is).
        _, confidential, _ = await db.transaction(
            lambda s: service.read_confidential(s, listings, actor, listing_id, clock.now())
        )
    async with db.read() as session:
        shown = listing_out(await service.load_listing(session, listing_id, viewer=actor), actor)
    return _form_page(chosen, form.values_of(shown, confidential), {}, listing=shown)


@post("/workspace/listings/{listing_id:uuid}/edit", include_in_schema=False, status_code=200)
async def edit_listing_step(
    request: Request[Any, Any, Any],
    listing_id: FromPath[uuid.UUID],
    actor: ActorCaller,
    db: Db,
    clock: Now,
    listings: Ctx,
) -> Template | Redirect:
    typed = await _typed(request)
    step = _step_named(typed.get("step", ""))
    listing = await _own(db, actor, listing_id)
    values = form.typed_values(typed, step)
    shown = listing_out(listing, actor)
    try:
        patch = form.changes_of(step, values)
        await db.transaction(
            lambda s: service.edit_listing(
                s,
                listings,
                actor,
                listing_id,
                patch.content_changes(),
                clock.now(),
                confidential_details=patch.confidential_details,
            )
        )
    except form.RefusedStep as refused:
        return _form_page(step, values, refused.errors, listing=shown, status=422)
    except InvalidListing as refused:
        return _form_page(step, values, form.refusal_of(refused, values).errors, listing=shown, status=422)
    following = _next(step)
    if typed.get("go") == "stay" or following is None:
        return Redirect(f"/workspace/listings/{listing_id}?saved=1", status_code=303)
    return Redirect(f"/workspace/listings/{listing_id}/edit?step={following.key}&saved=1", status_code=303)


@post("/workspace/listings/{listing_id:uuid}/submit", include_in_schema=False, status_code=303)
async def submit_listing(
    listing_id: FromPath[uuid.UUID], actor: ActorCaller, db: Db, clock: Now, listings: Ctx
) -> Redirect | Template:
    """Submit the draft for review, as ``POST /api/v1/listings/{id}/submit``; a rule the draft now
    breaks (a right expired since) is shown on its step."""
    try:
        await db.transaction(lambda s: service.submit_listing(s, listings, actor, listing_id, clock.now()))
    except InvalidListing as refused:
        async with db.read() as session:
            shown = listing_out(await service.load_listing(session, listing_id, viewer=actor), actor)
        values = form.values_of(shown, None)
        found = form.refusal_of(refused, values)
        return _form_page(found.step, values, found.errors, listing=shown, status=422)
    return Redirect(f"/workspace/listings/{listing_id}", status_code=303)


@post("/workspace/listings/{listing_id:uuid}/revise", include_in_schema=False, status_code=303)
async def revise_listing(
    listing_id: FromPath[uuid.UUID], actor: ActorCaller, db: Db, clock: Now, listings: Ctx
) -> Redirect:
    """A rejected listing back to draft, as ``POST /api/v1/listings/{id}/revise``."""
    await db.transaction(lambda s: service.revise_listing(s, listings, actor, listing_id, clock.now()))
    return Redirect(f"/workspace/listings/{listing_id}/edit", status_code=303)


# ----------------------------------------------------------------------------------------------
# One listing in the seller's eyes


async def _org_names(session: Any, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return {org_id: (await parties.get_org(session, org_id)).name for org_id in org_ids}


@get("/workspace/listings/{listing_id:uuid}", include_in_schema=False, name="seller-listing", dependencies=DEPENDENCIES)
async def seller_listing(
    listing_id: FromPath[uuid.UUID],
    actor: ActorCaller,
    user: Caller,
    db: Db,
    clock: Now,
    listings: Ctx,
    saved: FromQuery[str] = "",
) -> Template:
    """The status and the review's remarks (the transition log), the announcement's and the deals'
    notices with their objections (each one's reason and the seller's answer, never the objector),
    the confidential details' access log, negotiations and deals."""
    now = clock.now()
    async with db.read() as session:
        listing = await service.load_listing(session, listing_id, viewer=actor)
        if not service.is_seller(listing, actor):
            raise NotFound(f"listing {listing_id} not found")
        transitions, _ = await queries.listing_transitions(session, actor, listing_id, limit=100, cursor=None)
        deal_rows, _ = await deals.list_deals(session, user, listing_id, 50, None)
        deal_list = await _deals_out(session, deal_rows)
        # The listing's announcements and its deals' notices (negotiated price, result).
        rounds = await notices.notices_about(session, [listing.id, *(d.id for d in deal_rows)])
        counts = await notices.objection_counts(session, [n.id for n in rounds])
        objections = await notices.seller_objections(session, listings, actor, [n.id for n in rounds])
        reads, _ = await queries.confidential_reads(session, actor, listing_id, limit=100, cursor=None)
        threads = await negotiations.threads_on(session, listing, user)
        names = await _org_names(
            session,
            {r.org_id for r in reads} | {t.buyer_org_id for t, _ in threads} | {d.buyer_org_id for d in deal_list},
        )
    shown = listing_out(listing, actor)
    notice_of = {n.id: n for n in rounds}
    return Template(
        "trading/seller_listing.html",
        context={
            **WORK,
            "workspace_tab": "listings",
            "listing": shown,
            "deal_type": listing.deal_type,
            "saved": bool(saved),
            "transitions": [transition_out(t) for t in transitions],
            "notices": [notice_summary(n, counts.get(n.id, (0, 0)), now) for n in rounds],
            "objections": [_objection_item(o, notice_of[o.notice_id]) for o in objections],
            "listing_id": listing.id,
            "reads": [read_out(r) for r in reads],
            "negotiations": [negotiation_out(t, offers) for t, offers in threads],
            "deals": deal_list,
            "names": names,
            "public": shown.status.value not in ("draft", "under_review", "rejected", "withdrawn"),
        },
    )


# ----------------------------------------------------------------------------------------------
# The seller's answer to an objection (``POST /api/v1/objections/{id}/answer``)


def _objection_item(objection: Objection, notice: Notice, *, answered_now: bool = False) -> dict[str, Any]:
    """An objection as the seller sees it: the API's view (no objector), the notice it is against,
    and whether the answer form is shown."""
    return {
        "objection": objection_out(objection),
        "notice": notice,
        "answerable": objection_answerable(ObjectionStatus(objection.status), objection.answer is not None),
        "answered_now": answered_now,
    }


class AnswerForm(msgspec.Struct):
    answer: str = ""  # its length is the domain's rule, refused in its words ("answer:invalid-request")


@post(
    "/workspace/listings/{listing_id:uuid}/objections/{objection_id:uuid}/answer",
    include_in_schema=False,
    status_code=200,
    name="seller-answer-objection",
)
async def answer_objection(
    request: Request[Any, Any, Any],
    listing_id: FromPath[uuid.UUID],
    objection_id: FromPath[uuid.UUID],
    actor: ActorCaller,
    db: Db,
    clock: Now,
    listings: Ctx,
) -> Template | Redirect:
    """Answer an objection as ``POST /api/v1/objections/{id}/answer`` does. htmx: the objection is
    shown again in place, answered; without scripts, back to the listing's page."""
    request.state.action = "answer"  # refusals read in the answer's words (exchange/web/messages.py)
    form = await read_form(request, AnswerForm)
    objection = await db.transaction(
        lambda s: notices.answer_objection(s, listings, actor, objection_id, form.answer, clock.now())
    )
    if not is_htmx(request):
        return done(request, "objection-answered", f"/workspace/listings/{listing_id}")
    async with db.read() as session:
        notice = await notices.get_notice(session, objection.notice_id)
    # The form's refusals land beside it; the answer replaces the whole objection, form and all.
    headers = {"HX-Retarget": f"#objection-{objection_id}", "HX-Reswap": "outerHTML"}
    return Template(
        "trading/_seller_objection.html",
        context={"item": _objection_item(objection, notice, answered_now=True), "listing_id": listing_id},
        headers=headers,
    )


# ----------------------------------------------------------------------------------------------
# Sales across listings


@get("/workspace/sales", include_in_schema=False, name="seller-sales", dependencies=DEPENDENCIES)
async def sales(actor: ActorCaller, user: Caller, db: Db) -> Template:
    """Negotiations and deals of the organisation's listings, what waits for the seller first:
    an offer of the buyer to answer, a deal to sign; settled deals with their settlement."""
    actor.require_seller_kind()
    async with db.read() as session:
        threads = await negotiations.seller_threads(session, user)
        deal_rows, _ = await deals.list_deals(session, user, None, 100, None)
        deal_list = [d for d in await _deals_out(session, deal_rows) if d.seller_org_id == user.org_id]
        titles = {
            listing_id: (await service.load_listing(session, listing_id, viewer=actor)).title
            for listing_id in {t.listing_id for t, _ in threads} | {d.listing_id for d in deal_list}
        }
        names = await _org_names(session, {t.buyer_org_id for t, _ in threads} | {d.buyer_org_id for d in deal_list})
    return Template(
        "trading/seller_sales.html",
        context={
            **WORK,
            "workspace_tab": "sales",
            "negotiations": [negotiation_out(t, offers) for t, offers in threads],
            "deals": deal_list,
            "titles": titles,
            "names": names,
        },
    )


PAGE_HANDLERS = [
    my_listings,
    new_listing,
    new_listing_step,
    edit_listing_page,
    edit_listing_step,
    submit_listing,
    revise_listing,
    seller_listing,
    answer_objection,
    sales,
]
