"""The version of the exchange's public data: what a cache of public pages and figures is keyed by.

Triggers on every table the public sees (migration 0014) add one to a counter in the same
transaction as the change, so the version a reader sees moves exactly when a committed change
becomes visible: anything computed after reading version ``v`` is at least as new as ``v``, and a
cache entry made under ``v`` is dropped as soon as any reader sees ``v + 1``. Every process reads
the same counters, so several server processes (and the sweeper, and the CLI) stay consistent.

Reading costs one small query. Concurrent readers share it: a caller joins the next read that
starts after it asked (never one already in flight, which might predate a change the caller has
just seen committed), so under load there is one read per batch of requests, not one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from sqlalchemy import BigInteger, SmallInteger, cast, func, select
from sqlalchemy.orm import Mapped, mapped_column

from exchange.platform.db import Database
from exchange.platform.tables import Base


class PublicDataVersion(Base):
    """One shard of the counter (migration 0014 explains the shards); the version is their sum."""

    __tablename__ = "public_data_versions"

    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


_VERSION = select(cast(func.coalesce(func.sum(PublicDataVersion.version), 0), BigInteger))


class PublicData:
    """``await public_data.version()``: the current version, read together with concurrent callers."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._next: asyncio.Future[int] | None = None  # the read that starts next, once the current one ends
        self._reading = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._memo: dict[Hashable, tuple[int, Any]] = {}
        self._computing: dict[tuple[Hashable, int], asyncio.Future[Any]] = {}

    async def version(self) -> int:
        future = self._next
        if future is None:
            future = self._next = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._read(future))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    async def _read(self, future: asyncio.Future[int]) -> None:
        async with self._reading:
            self._next = None  # whoever asks from now on waits for the read after this one
            try:
                row = await self._db.first_row(_VERSION, {})
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: every waiter may have gone
                if not isinstance(exc, Exception):
                    raise
                return
            future.set_result(int(row[0]) if row else 0)

    async def memoized(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """``compute()``'s result, computed again only when public data has changed since (for
        figures that depend on public data alone, such as a year's statistics). Callers asking
        under the same version while it is being computed wait for that computation."""
        version = await self.version()
        kept = self._memo.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        running = self._computing.get((key, version))
        if running is None:
            running = self._computing[(key, version)] = asyncio.ensure_future(compute())
            running.add_done_callback(lambda _: self._computing.pop((key, version), None))
        value = await asyncio.shield(running)
        if len(self._memo) > 256:
            self._memo.clear()
        self._memo[key] = (version, value)
        return value
