"""The organisations' registration pages (成果登记, in the workspaces of universities, institutes and
enterprises): /workspace/registry lists the organisation's registrations with their status, number
and return reason, and opens a draft from one of its listings, one of its disclosures (an
institution) or on its own; /workspace/registry/{id} edits a draft or a returned registration with
the national form's fields and submits it, or corrects or withdraws a registered one with a reason.

Every action calls the service function of the JSON route and answers 303 to its page with
``?notice=``. A refusal naming its fields shows the form again as typed with the Chinese words next
to the input (``page_forms``), nothing written; any other refusal is the error page of the shared
handlers, in Chinese.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.registry import service
from exchange.registry.domain import EDITABLE, Status
from exchange.registry.models import Achievement
from exchange.registry.page_forms import (
    FIELDS,
    WORDS,
    Form,
    achievement_in,
    attempt,
    correction_in,
    open_in,
    stored_values,
    withdrawal_in,
)
from exchange.registry.service import RegistryContext
from exchange.web.forms import typed
from kernel.pagination import Cursor, by_id, keyset_page

Registry = NamedDependency[RegistryContext]
PRIVATE = {"public_cache": False}
PAGE_SIZE = 50
TAB = {"section": "workspace", "workspace_tab": "registry"}


def _status(form: Form) -> int:
    return 422 if form.errors else 200


async def _mine_context(
    session: AsyncSession, registry: RegistryContext, user: Principal, form: Form, cursor: str | None = None
) -> dict[str, Any]:
    rows = await service.list_for(session, user, limit=PAGE_SIZE + 1, cursor=cursor)
    page, next_cursor = keyset_page(rows, PAGE_SIZE, by_id)
    listings, disclosures = await service.sources_of(session, registry, user)
    return {**TAB, "rows": page, "next_cursor": next_cursor, "first_page": cursor is None, "listings": listings,
            "disclosures": disclosures, "f": form, "words": WORDS}  # fmt: skip


@get("/workspace/registry", include_in_schema=False, name="my-registrations", opt=PRIVATE)
async def my_registrations(user: Caller, db: Db, registry: Registry, cursor: Cursor = None) -> Template:
    async with db.read() as session:
        context = await _mine_context(session, registry, user, Form("open"), cursor)
    return Template("registry/mine.html", context=context)


@post("/workspace/registry", include_in_schema=False, opt=PRIVATE, status_code=200)
async def open_registration(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, registry: Registry
) -> Template | Redirect:
    """A draft prefilled from the chosen listing or disclosure, or an empty one (as ``POST …/achievements``)."""
    form = await typed(request, "open", Form)

    async def work() -> Achievement:
        data = open_in(form)
        return await db.transaction(lambda s: service.create_draft(s, registry, user, data, clock.now()))

    made = await attempt(form, work)
    if made is not None:
        return Redirect(f"/workspace/registry/{made.id}?notice=registry-draft-opened", status_code=303)
    async with db.read() as session:
        context = await _mine_context(session, registry, user, form)
    return Template("registry/mine.html", context=context, status_code=_status(form))


def _forms(a: Achievement, refused: Form | None = None) -> dict[str, Form]:
    """The page's forms: the registration's fields (a draft's edit, else the correction's), the
    withdrawal; the one refused as typed."""
    fields = "registration" if Status(a.status) in EDITABLE else "correction"
    made = {"f_fields": Form(fields, stored_values(a)), "withdraw": Form("withdraw")}
    if refused is not None:
        made["withdraw" if refused.key == "withdraw" else "f_fields"] = refused
    return made


async def _registration_page(
    db: Db, user: Principal, achievement_id: uuid.UUID, refused: Form | None = None
) -> Template:
    async with db.read() as session:
        a = await service.get_achievement(session, achievement_id, user)
    service.require_own(user, a)
    context = {**TAB, "a": a, "editable": Status(a.status) in EDITABLE, "words": WORDS, "fields": FIELDS,
               "registered": a.status == Status.REGISTERED.value, "may_change": user.is_admin,
               **_forms(a, refused)}  # fmt: skip
    return Template("registry/registration.html", context=context, status_code=_status(refused or Form("none")))


@get("/workspace/registry/{achievement_id:uuid}", include_in_schema=False, name="my-registration", opt=PRIVATE)
async def my_registration(achievement_id: FromPath[uuid.UUID], user: Caller, db: Db) -> Template:
    return await _registration_page(db, user, achievement_id)


@post("/workspace/registry/{achievement_id:uuid}", include_in_schema=False, opt=PRIVATE, status_code=200)
async def save_registration(
    achievement_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """Save the draft's fields (as ``PUT …/{id}``); with ``act=submit``, save and submit them in one
    transaction (as ``POST …/{id}/submit``): a refusal leaves the stored draft as it was."""
    form = await typed(request, "registration", Form)
    act = form.values.pop("act", "save")

    async def work(session: AsyncSession, data: Any) -> Achievement:
        saved = await service.update_draft(session, user, achievement_id, data, clock.now())
        return await service.submit(session, user, saved.id, clock.now()) if act == "submit" else saved

    async def run() -> Achievement:
        data = achievement_in(form)
        return await db.transaction(lambda s: work(s, data))

    if await attempt(form, run) is not None:
        notice = "registry-submitted" if act == "submit" else "registry-saved"
        return Redirect(f"/workspace/registry/{achievement_id}?notice={notice}", status_code=303)
    return await _registration_page(db, user, achievement_id, form)


@post("/workspace/registry/{achievement_id:uuid}/correct", include_in_schema=False, opt=PRIVATE, status_code=200)
async def correct_registration(
    achievement_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """Correct a registered achievement with a reason (as ``POST …/{id}/correct``): the number stays."""
    form = await typed(request, "correction", Form)

    async def run() -> Achievement:
        data = correction_in(form)
        return await db.transaction(lambda s: service.correct(s, user, achievement_id, data, data.reason, clock.now()))

    if await attempt(form, run) is not None:
        return Redirect(f"/workspace/registry/{achievement_id}?notice=registry-corrected", status_code=303)
    return await _registration_page(db, user, achievement_id, form)


@post("/workspace/registry/{achievement_id:uuid}/withdraw", include_in_schema=False, opt=PRIVATE, status_code=200)
async def withdraw_registration(
    achievement_id: FromPath[uuid.UUID], request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """Withdraw a registered achievement from the library with a reason (as ``POST …/{id}/withdraw``)."""
    form = await typed(request, "withdraw", Form)

    async def run() -> Achievement:
        data = withdrawal_in(form)
        return await db.transaction(lambda s: service.withdraw(s, user, achievement_id, data.reason, clock.now()))

    if await attempt(form, run) is not None:
        return Redirect(f"/workspace/registry/{achievement_id}?notice=registry-withdrawn", status_code=303)
    return await _registration_page(db, user, achievement_id, form)


WORKSPACE_PAGES = [
    my_registrations,
    open_registration,
    my_registration,
    save_registration,
    correct_registration,
    withdraw_registration,
]
