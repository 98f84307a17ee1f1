"""Operational endpoints: liveness, readiness, the exchange's public keys; and the watch on the
working-day calendar (a sweep step, a Prometheus gauge and what /ready reports).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime

import msgspec
import structlog
from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.keys import KeyPeriod, Keys
from exchange.platform.outbox import OPERATORS, Kind, Subject, notify
from exchange.platform.settings import Settings
from kernel.time import rfc3339
from listings import ListingsContext
from listings import calendar as working_calendar

log = structlog.get_logger("techx.calendar")

# 0, or the year (from 1 November, Beijing time) that the working-day calendar has no data for yet.
NEXT_YEAR_MISSING = Gauge(
    "techx_calendar_next_year_missing",
    "The next year when the working-day calendar has no data for it from 1 November (Beijing time), else 0",
)


class CalendarReadiness(msgspec.Struct):
    missing_next_year: int


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    failed: list[str] | None = None  # the dependencies that did not answer: database, redis
    calendar: CalendarReadiness | None = None


class CalendarWatch:
    """A sweep step: every pass checks that the calendar has next year from 1 November, sets the
    gauge, and tells operators once a year (a ``calendar_notifications`` row, an
    ``operator.calendar_year_missing`` notification in the same transaction, and a warning logged).
    Returns how many notifications it made."""

    name = "calendar-watch"

    def __init__(self, ctx: ListingsContext) -> None:
        self.ctx = ctx

    async def run(self, db: Database, now: datetime) -> int:
        async def work(session: AsyncSession) -> tuple[int | None, bool]:
            year, told = await working_calendar.watch(session, self.ctx.calendar, now)
            if told:  # once a year, with the row that remembers it
                data = {"year": year, "from_on": f"{year}-01-01"}
                subject = Subject("calendar_year", str(year))
                notify(session, Kind.CALENDAR_YEAR_MISSING, to=OPERATORS, now=now, subject=subject, data=data)
            return year, told

        year, told = await db.transaction(work)
        NEXT_YEAR_MISSING.set(year or 0)
        if told:
            log.warning("the working-day calendar has no data for next year", year=year)
        return int(told)


class PublicKey(msgspec.Struct):
    """A JWK (RFC 8037, Ed25519) with the fields clients read before the JWK Set: ``id``,
    ``algorithm`` and ``key`` (standard base64 of the raw key), and the key's validity."""

    kty: str
    crv: str
    x: str  # raw 32-byte Ed25519 public key, base64url without padding
    kid: str
    use: str
    alg: str
    id: str  # = kid
    algorithm: str
    key: str  # raw 32-byte Ed25519 public key, base64
    created_at: str | None  # signs from this moment (None: not recorded, a key from before key rings)
    retired_at: str | None  # and until this one (None: the current key, signing now)


class KeysOut(msgspec.Struct):
    keys: list[PublicKey]


@get("/health", tags=["ops"], summary="Liveness: the process answers")
async def health() -> Health:
    return Health(status="ok")


REDIS_TIMEOUT_SECONDS = 1.0


async def ping_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        await asyncio.wait_for(client.ping(), REDIS_TIMEOUT_SECONDS * 2)
    finally:
        await client.aclose()


@get(
    "/ready",
    tags=["ops"],
    summary="Readiness: the database answers, and Redis when it carries the live events "
    "(and, from 1 November, whether next year's calendar is missing)",
    responses=None,
)
async def ready(
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    clock: NamedDependency[Clock],
    listings: NamedDependency[ListingsContext],
) -> Response[Health]:
    failed: list[str] = []
    missing = None
    try:
        # The calendar's check is the database's: its query (one, while the cached calendar is
        # current) answers only when the database does, so no separate ping is needed.
        async with db.read() as session:
            missing = await working_calendar.next_year_missing(session, listings.calendar, clock.now())
    except Exception:
        failed.append("database")
    if settings.channels_backend == "redis":
        try:
            await ping_redis(settings.redis_url)
        except Exception:
            failed.append("redis")
    if failed:
        return Response(Health(status="unavailable", failed=failed), status_code=503)
    # A missing year does not make the exchange unready: it still serves everything that does not
    # count into that year. It is reported so that an operator loads it in time.
    NEXT_YEAR_MISSING.set(missing or 0)
    return Response(Health(status="ok", calendar=CalendarReadiness(missing) if missing else None))


@get(
    "/api/v1/keys",
    tags=["ops"],
    summary="The exchange's public keys for verifying notices, certificates, checkpoints (a JWK Set)",
)
async def public_keys(keyring: NamedDependency[Keys]) -> KeysOut:
    """Every signing key, the current one first: what was signed before a rotation names an older key."""
    ring = keyring.signing
    ids = sorted(ring.keys, key=lambda kid: (kid != ring.current_id, -_created(keyring, kid)))
    return KeysOut(keys=[_jwk(kid, ring.keys[kid].public_key_raw, keyring.signing_periods.get(kid)) for kid in ids])


def _created(keys: Keys, kid: str) -> float:
    period = keys.signing_periods.get(kid)
    return period.created_at.timestamp() if period and period.created_at else 0.0


def _jwk(kid: str, raw: bytes, period: KeyPeriod | None) -> PublicKey:
    return PublicKey(
        kty="OKP",
        crv="Ed25519",
        x=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        kid=kid,
        use="sig",
        alg="EdDSA",
        id=kid,
        algorithm="Ed25519",
        key=base64.b64encode(raw).decode(),
        created_at=rfc3339(period.created_at) if period and period.created_at else None,
        retired_at=rfc3339(period.retired_at) if period and period.retired_at else None,
    )
