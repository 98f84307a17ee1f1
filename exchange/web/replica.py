"""Public reads answered from the read replica, and what their answers say about it.

``ReplicaReadMiddleware``, put by the composition root on the pages' router and the API's router
beside the public cache (``exchange/web/caching.py``), marks an anonymous GET of a public route
as a public read (``exchange.platform.db.replica_reads``): inside it, and nowhere else,
``Database.replica()`` may answer from the replica. A signed-in reader reads the primary: what
they just wrote is there, and what they read may decide their next bid or payment.

An answer that read the replica says so: JSON carries ``X-Data-Staleness-Seconds`` (how old its
data may be, whole seconds rounded up) and a page a line under its content (``replica_note``, a
global of the templates: "数据来自只读副本，截至 HH:MM:SS（北京时间），可能滞后至多 N 秒").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from exchange.platform.db import replica_reads, replica_use
from exchange.platform.staleness import staleness_seconds
from exchange.web.caching import is_anonymous

STALENESS_HEADER = "x-data-staleness-seconds"


class ReplicaReadMiddleware:
    """``covers(scope)`` says whether a route's GETs are public reads (the public cache's rule)."""

    def __init__(self, app: ASGIApp, *, covers: Callable[[Scope], bool], session_cookie: str) -> None:
        self.app = app
        self.covers = covers
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not self.covers(scope)
            or not is_anonymous(Headers.from_scope(scope), self.session_cookie)
            or scope["litestar_app"].state.db.read_replica is None
        ):
            await self.app(scope, receive, send)
            return
        clock = scope["litestar_app"].state.clock
        with replica_reads() as use:

            async def stated(message: Message) -> None:
                if message["type"] == "http.response.start" and use.as_of is not None:
                    headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
                    headers[STALENESS_HEADER] = str(math.ceil(staleness_seconds(use.as_of, clock.now())))
                await send(message)

            await self.app(scope, receive, stated)


def replica_note() -> dict[str, Any] | None:
    """For the layout: when this page read the replica, the time its data is complete as of and
    the bound it was served under; None when it read the primary."""
    use = replica_use()
    if use is None or use.as_of is None:
        return None
    return {"as_of": use.as_of, "max_lag": f"{use.max_lag:g}"}
