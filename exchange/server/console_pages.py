"""The operators' console pages that watch the whole exchange rather than one module's work: the
ledger's seals and verification, and the sweeper's failing rows (``/console/ledger``,
``/console/sweeps``). They read what ``/metrics``, ``GET /api/v1/ledger/checkpoints/latest``,
``techx ledger verify`` and ``/api/v1/ops/sweep-failures`` read, with the same functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.accounting.jobs import verify_and_record
from exchange.accounting.verifications import VerificationSource, last_verification
from exchange.parties.domain import Principal
from exchange.parties.service import user_names
from exchange.platform.http import Db, Now
from exchange.platform.keys import Keys
from exchange.platform.sweeper import list_failures, request_retry
from exchange.server.sweep_failures import failure_out
from kernel.errors import NotFound
from kernel.page_actions import done, is_htmx
from ledger.seal import latest_block, unsealed_backlog

Operator = NamedDependency[Principal]


def _age_seconds(now: datetime, since: datetime | None) -> int:
    return max(0, int((now - since).total_seconds())) if since is not None else 0


async def _ledger_context(db: Any, now: datetime) -> dict[str, Any]:
    async with db.read() as session:
        unsealed, oldest = await unsealed_backlog(session)
        try:
            block = await latest_block(session)
        except NotFound:  # nothing sealed yet
            block = None
        last = await last_verification(session)
        names = await user_names(session, [last.by_user_id] if last is not None else [])
    return {
        "last": last,
        "last_by": names.get(last.by_user_id, "") if last is not None and last.by_user_id else "",
        "unsealed": unsealed,
        "oldest_unsealed_at": oldest,
        "seal_lag_seconds": _age_seconds(now, oldest),
        "block": block,
        "section": "workspace",
        "workspace_tab": "ledger",
    }


@get("/console/ledger", include_in_schema=False, name="console-ledger")
async def ledger_page(operator: Operator, db: Db, clock: Now) -> Template:
    """The seal lag (entries not yet in a signed block, and the oldest one's age), the latest signed
    checkpoint, and a button that verifies the whole ledger as ``techx ledger verify`` does."""
    context = await _ledger_context(db, clock.now())
    return Template("console/ledger.html", context={**context, "report": None})


@post("/console/ledger/verify", include_in_schema=False, status_code=200)
async def verify(
    request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now, keyring: NamedDependency[Keys]
) -> Template:
    """Recompute every hash, root, chain link, signature and balance on one snapshot, as
    ``techx ledger verify`` does; the outcome is kept as the last verification, with who ran it."""
    report = await verify_and_record(db, keyring, clock, VerificationSource.CONSOLE, operator.user_id)
    verified = {"report": report, "verified_at": clock.now()}
    if is_htmx(request):
        return Template("console/ledger_report.html", context=verified)
    context = await _ledger_context(db, clock.now())
    return Template("console/ledger.html", context={**context, **verified})


@get("/console/sweeps", include_in_schema=False, name="console-sweeps")
async def sweeps_page(
    request: Request[Any, Any, Any], operator: Operator, db: Db, state: State, clock: Now
) -> Template:
    """The sweeper's steps and when each last finished a pass, and the rows it failed to process —
    backing off, or set aside after ``TECHX_SWEEP_MAX_ATTEMPTS`` — with a retry for each."""
    cursor = request.query_params.get("cursor") or None
    async with db.read() as session:
        rows, next_cursor = await list_failures(session, set_aside=None, step=None, limit=50, cursor=cursor)
    sweeper = state.sweeper
    steps = [{"name": name, "last_pass": sweeper.last_pass.get(name)} for name in sweeper.step_names]
    context = {
        "failures": [failure_out(r) for r in rows],
        "next_cursor": next_cursor,
        "steps": steps,
        "section": "workspace",
        "workspace_tab": "sweeps",
    }
    return Template("console/sweeps.html", context=context)


@post("/console/sweeps/{failure_id:uuid}/retry", include_in_schema=False, status_code=200)
async def retry(
    request: Request[Any, Any, Any], failure_id: FromPath[UUID], operator: Operator, db: Db
) -> Template | Redirect:
    """Try the row again on the next pass, as ``POST /api/v1/ops/sweep-failures/{id}/retry`` does."""
    await db.transaction(lambda s: request_retry(s, failure_id))
    return done(request, "retry-requested", "/console/sweeps")


PAGE_HANDLERS = [ledger_page, verify, sweeps_page, retry]
