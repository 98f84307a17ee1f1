"""The signed-in user's inbox as a page (``/workspace/notifications``): the same items, texts and
links as ``GET /api/v1/notifications`` (``routes.item_out``), and marking them read through the
same ``inbox`` functions. Without scripts an action answers 303 to the inbox; with htmx it answers
the inbox's work area in place.

Beside it, the preferences (``/workspace/notifications/preferences``): the language and, per kind,
the inbox and email switches of ``GET``/``PUT /api/v1/notifications/preferences``, as a form."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from exchange.notifications import inbox
from exchange.notifications.domain import CATALOGUE, SWITCHABLE
from exchange.notifications.routes import Deliverer, item_out, preferences_out, switches_of
from exchange.notifications.schemas import PreferencesIn
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from kernel.page_actions import WORK_AREA, checked, done, in_work_area, is_htmx
from kernel.pagination import Cursor

PAGE_SIZE = 30
WORK = "notifications/inbox_work.html"


async def inbox_context(
    db: Db, user: Any, notifier: Any, *, unread: bool, cursor: str | None, done: str = ""
) -> dict[str, Any]:
    async with db.read() as session:
        language = await inbox.language_of(session, user.user_id)
        rows, next_cursor = await inbox.list_items(session, user.user_id, unread=unread, limit=PAGE_SIZE, cursor=cursor)
        unread_total = await inbox.unread_count(session, user.user_id)
    return {
        "section": "workspace",
        "workspace_tab": "notifications",
        "items": [item_out(notifier, language, item, event) for item, event in rows],
        "unread_only": unread,
        "unread_total": unread_total,
        "next_cursor": next_cursor,
        "done": done,
    }


@get("/workspace/notifications", include_in_schema=False, name="workspace-notifications")
async def inbox_page(
    user: Caller, db: Db, notifier: Deliverer, unread: FromQuery[bool] = False, cursor: Cursor = None
) -> Template:
    context = await inbox_context(db, user, notifier, unread=unread, cursor=cursor)
    return Template("notifications/inbox.html", context=context)


def _answer(request: Request[Any, Any, Any], context: dict[str, Any]) -> Template | Redirect:
    return in_work_area(request, "/workspace/notifications", WORK, context)


@post("/workspace/notifications/{item_id:uuid}/read", include_in_schema=False, status_code=200)
async def read_one(
    request: Request[Any, Any, Any], item_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, notifier: Deliverer
) -> Template | Redirect:
    """``POST /api/v1/notifications/{id}/read``: another user's item is the API's 404."""
    await db.transaction(lambda s: inbox.mark_read(s, user.user_id, item_id, clock.now()))
    return _answer(request, await inbox_context(db, user, notifier, unread=False, cursor=None, done="已标为已读。"))


@post("/workspace/notifications/read-all", include_in_schema=False, status_code=200)
async def read_all(
    request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, notifier: Deliverer
) -> Template | Redirect:
    """``POST /api/v1/notifications/read-all``."""
    count = await db.transaction(lambda s: inbox.mark_all_read(s, user.user_id, clock.now()))
    done = f"已将 {count} 条通知标为已读。"
    return _answer(request, await inbox_context(db, user, notifier, unread=False, cursor=None, done=done))


# -- preferences -------------------------------------------------------------------------------------

PREFERENCES_WORK = "notifications/preferences_work.html"


async def preferences_context(db: Db, user: Any, notice: str = "") -> dict[str, Any]:
    """The preferences as ``GET /api/v1/notifications/preferences`` shows them: the kinds that may be
    switched off as a form, those that may not (money, accounts, the operators' work) as a list."""
    async with db.read() as session:
        shown = preferences_out(*await inbox.get_preferences(session, user.user_id))
    # The operators' kinds concern only operators: the others would never get them.
    kinds = [k for k in shown.kinds if k.audience != "operators" or user.is_operator]
    return {
        "section": "workspace",
        "workspace_tab": "notifications",
        "language": shown.language.value,
        "switchable": [k for k in kinds if not k.mandatory],
        "mandatory": [k for k in kinds if k.mandatory],
        "notice": notice,
    }


@get("/workspace/notifications/preferences", include_in_schema=False, name="workspace-notification-preferences")
async def preferences_page(user: Caller, db: Db) -> Template:
    return Template("notifications/preferences.html", context=await preferences_context(db, user))


def preferences_of(posted: Any) -> PreferencesIn:
    """The form as the API's body: every kind that may be switched off, each of its channels on when
    its box is ticked (a form sends only the ticked boxes: ``inbox=<kind>``, ``email=<kind>``)."""
    ticked = {channel: set(posted.getall(channel.value, [])) for channel in SWITCHABLE}
    kinds = {
        kind: {c.value: kind in ticked[c] for c in SWITCHABLE if c in entry.channels}
        for kind, entry in CATALOGUE.items()
        if not entry.mandatory
    }
    return checked(PreferencesIn, {"language": posted.get("language") or None, "kinds": kinds}, {"language": "语言"})


@post("/workspace/notifications/preferences", include_in_schema=False, status_code=200)
async def save_preferences(request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now) -> Template | Redirect:
    """``PUT /api/v1/notifications/preferences`` with every switchable kind named."""
    data = preferences_of(await request.form())
    await db.transaction(
        lambda s: inbox.set_preferences(
            s,
            user.user_id,
            language=data.language.value if data.language else None,
            switches=switches_of(data),
            now=clock.now(),
        )
    )
    if not is_htmx(request):
        return done(request, "preferences-saved", "/workspace/notifications/preferences")
    context = await preferences_context(db, user, notice="preferences-saved")
    return Template(PREFERENCES_WORK, context=context, headers=WORK_AREA)


PAGE_HANDLERS = [inbox_page, read_one, read_all, preferences_page, save_preferences]
