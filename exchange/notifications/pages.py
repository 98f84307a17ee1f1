"""The signed-in user's inbox as a page (``/workspace/notifications``): the same items, texts and
links as ``GET /api/v1/notifications`` (``routes.item_out``), and marking them read through the
same ``inbox`` functions. Without scripts an action answers 303 to the inbox; with htmx it answers
the inbox's work area in place."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from exchange.notifications import inbox
from exchange.notifications.routes import Deliverer, item_out
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
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
    if request.headers.get("hx-request") != "true":
        return Redirect(path="/workspace/notifications", status_code=303)
    headers = {"HX-Retarget": "#work", "HX-Reswap": "innerHTML", "Cache-Control": "no-store"}
    return Template(WORK, context=context, headers=headers)


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


PAGE_HANDLERS = [inbox_page, read_one, read_all]
