"""The organisation's matches in the workspace (/workspace/matches): for each of its published
demands the achievements that could answer it, for each of its listings the public demands it
could answer — each with why (the shared words, the IPC codes, every fit) and the buttons that mark
it relevant or not, which move the organisation's later rankings (``POST /matching/feedback``).
The daily digest links here."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.demands import matches
from exchange.matching.domain import DocKind, MatchingRuleBroken
from exchange.matching.routes import Matching
from exchange.matching.schemas import match_out
from exchange.matching.service import FeedbackIn, record_feedback
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now

PRIVATE = {"public_cache": False}
PER_DOCUMENT = 5  # matches shown under each of the organisation's documents


@get("/workspace/matches", include_in_schema=False, name="my-matches", opt=PRIVATE)
async def my_matches(user: Caller, db: Db, matching: Matching) -> Template:
    async with db.read() as session:
        ranked = await matches.own_matches(session, matching, user.org_id, PER_DOCUMENT)
    # fits alone are no reason to call: only matches that share words or an IPC code are shown
    groups = [{"doc": own, "matches": [match_out(m) for m in found if matches.is_related(m)]} for own, found in ranked]
    return Template(
        "demands/matches.html",
        context={"section": "workspace", "workspace_tab": "matches", "groups": groups},
    )


def _uuid(values: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(values.get(name, "")))
    except ValueError:
        raise MatchingRuleBroken(f"{name} is not an id", field=name) from None


def _kind(values: dict[str, Any], name: str) -> DocKind:
    try:
        return DocKind(str(values.get(name, "")))
    except ValueError:
        raise MatchingRuleBroken(f"{name} is neither a demand nor a listing", field=name) from None


@post("/workspace/matches/feedback", include_in_schema=False, opt=PRIVATE)
async def mark(request: Request[Any, Any, Any], user: Caller, db: Db, clock: Now, matching: Matching) -> Redirect:
    values = dict(await request.form())
    data = FeedbackIn(
        query_kind=_kind(values, "query_kind"),
        query_id=_uuid(values, "query_id"),
        doc_kind=_kind(values, "doc_kind"),
        doc_id=_uuid(values, "doc_id"),
        relevant=values.get("relevant") == "1",
        contacted=values.get("contacted") == "1",
        note=str(values.get("note", ""))[:2000],
    )

    async def work(session: AsyncSession) -> None:
        await record_feedback(session, matching, org_id=user.org_id, user_id=user.user_id, data=data, now=clock.now())

    await db.transaction(work)
    return Redirect(f"/workspace/matches?notice=match-marked#doc-{data.query_id}", status_code=303)


MATCH_PAGES = [my_matches, mark]
