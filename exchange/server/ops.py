"""Operational endpoints: liveness, readiness, the exchange's public keys; and the watch on the
working-day calendar (a sweep step, a Prometheus gauge and what /ready reports).
"""

from __future__ import annotations

import base64
from datetime import datetime

import msgspec
import structlog
from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import Gauge

from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.keys import Keys
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
    calendar: CalendarReadiness | None = None


class CalendarWatch:
    """A sweep step: every pass checks that the calendar has next year from 1 November, sets the
    gauge, and tells operators once a year (a ``calendar_notifications`` row, and a warning logged).
    Returns how many notifications it made."""

    name = "calendar-watch"

    def __init__(self, ctx: ListingsContext) -> None:
        self.ctx = ctx

    async def run(self, db: Database, now: datetime) -> int:
        year, told = await db.transaction(lambda s: working_calendar.watch(s, self.ctx.calendar, now))
        NEXT_YEAR_MISSING.set(year or 0)
        if told:
            log.warning("the working-day calendar has no data for next year", year=year)
        return int(told)


class PublicKey(msgspec.Struct):
    id: str
    algorithm: str
    key: str  # raw 32-byte Ed25519 public key, base64
    use: str


class KeysOut(msgspec.Struct):
    keys: list[PublicKey]


@get("/health", tags=["ops"], summary="Liveness: the process answers")
async def health() -> Health:
    return Health(status="ok")


@get(
    "/ready",
    tags=["ops"],
    summary="Readiness: the database answers (and, from 1 November, whether next year's calendar is missing)",
    responses=None,
)
async def ready(
    db: NamedDependency[Database], clock: NamedDependency[Clock], listings: NamedDependency[ListingsContext]
) -> Response[Health]:
    try:
        await db.ping()
    except Exception:
        return Response(Health(status="unavailable"), status_code=503)
    # A missing year does not make the exchange unready: it still serves everything that does not
    # count into that year. It is reported so that an operator loads it in time.
    async with db.read() as session:
        missing = await working_calendar.next_year_missing(session, listings.calendar, clock.now())
    NEXT_YEAR_MISSING.set(missing or 0)
    return Response(Health(status="ok", calendar=CalendarReadiness(missing) if missing else None))


@get(
    "/api/v1/keys", tags=["ops"], summary="The exchange's public keys for verifying notices, certificates, checkpoints"
)
async def public_keys(keyring: NamedDependency[Keys]) -> KeysOut:
    signer = keyring.signer
    return KeysOut(
        keys=[
            PublicKey(
                id=signer.key_id,
                algorithm="Ed25519",
                key=base64.b64encode(signer.public_key_raw).decode(),
                use="notices, certificates, ledger checkpoints",
            )
        ]
    )
