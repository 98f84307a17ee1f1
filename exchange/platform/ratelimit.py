"""Rate limits, counted where every server process sees them, and the client address they count.

The counting is the ``limits`` package's moving window: in Redis (``TECHX_RATE_LIMIT_BACKEND=redis``,
at ``TECHX_REDIS_URL``) so that N processes allow what one allows, or in this process's memory
(the embedded default, one process). Windows run on real time, not on the exchange's clock: a
limit is about how fast requests arrive, and the test clock's jumps over notice periods must not
empty it.

The client address is the socket peer, unless the peer is a configured proxy
(``TECHX_TRUSTED_PROXIES``): then it is the right-most ``X-Forwarded-For`` entry that no trusted
proxy added, since everything to its left was written by the client itself.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from kernel.errors import DomainError, RateLimited

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

KEY_PREFIX = "techx-limits"


class LimiterUnavailable(DomainError):
    problem_type = "rate-limit-unavailable"
    status = 503
    title = "The rate limit store does not answer"


@dataclass(frozen=True)
class Limit:
    """``amount`` events per ``seconds`` for each key; ``name`` is what a refusal says ran out."""

    name: str
    amount: int
    seconds: int
    events: str  # "failed logins": how the refusal's message counts

    @property
    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)


class RateLimiter:
    def __init__(self, backend: str, redis_url: str, trusted_proxies: Iterable[str] = ()) -> None:
        self.proxies = trusted_networks(trusted_proxies)
        if backend == "redis":
            # redis-py (already a dependency) rather than limits' default coredis client
            uri = "async+" + redis_url
            storage = storage_from_string(uri, implementation="redispy", key_prefix=KEY_PREFIX, wrap_exceptions=True)
        else:
            storage = storage_from_string("async+memory://")
        self._storage: Any = storage
        self._limiter = MovingWindowRateLimiter(storage)

    def client_of(self, request: Any) -> str:
        """The client address of a Litestar request, as the limits count it."""
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), self.proxies)

    async def check(self, *counts: tuple[Limit, str]) -> None:
        """Refuse (429, with ``Retry-After``) if any key has used up its limit; count nothing."""
        for limit, key in counts:
            if not await self._call(self._limiter.test(limit.item, key)):
                raise await self._refusal(limit, key)

    async def hit(self, *counts: tuple[Limit, str]) -> None:
        """Count one event against each key, or refuse (429) if any key has used up its limit."""
        await self.check(*counts)
        for limit, key in counts:
            if not await self._call(self._limiter.hit(limit.item, key)):  # another request took the last one
                raise await self._refusal(limit, key)

    async def close(self) -> None:
        bridge = getattr(self._storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            await client.aclose()

    async def _refusal(self, limit: Limit, key: str) -> RateLimited:
        stats = await self._call(self._limiter.get_window_stats(limit.item, key))
        retry_after = min(limit.seconds, max(1, math.ceil(stats.reset_time - time.time())))
        error = RateLimited(
            f"too many {limit.events}: at most {limit.amount} in {_duration(limit.seconds)}; "
            f"try again in {retry_after} s",
            limit=limit.name,
            retry_after=retry_after,
        )
        error.headers = {"Retry-After": str(retry_after)}  # type: ignore[attr-defined]
        return error

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        try:
            return await awaitable
        except StorageError as exc:
            raise LimiterUnavailable("the rate limit store does not answer; try again shortly") from exc


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return "an hour" if seconds == 3600 else f"{seconds // 3600} hours"
    if seconds % 60 == 0:
        return "a minute" if seconds == 60 else f"{seconds // 60} minutes"
    return f"{seconds} s"


def trusted_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """The address a request comes from (see the module's description)."""
    if not peer:
        return "unknown"
    current = _address(peer)
    if current is None or not _trusted(current, proxies) or not forwarded_for:
        return peer
    for entry in reversed(forwarded_for.split(",")):
        hop = _address(entry)
        if hop is None:  # unreadable: the last proxy that vouched for a readable hop is all we know
            return str(current)
        current = hop
        if not _trusted(hop, proxies):
            return str(hop)
    return str(current)  # every hop is a proxy: the first of them


def network_of(address: str) -> str:
    """The network a client address belongs to for counting: its /24 (IPv4) or /64 (IPv6)."""
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = 24 if parsed.version == 4 else 64
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
