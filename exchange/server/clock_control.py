"""Test-only clock control: move a running server's clock forward and sweep what fell due.

Mounted at ``/_test/clock`` (outside the API) only when ``TECHX_TEST_CLOCK`` is on, which
``Settings.check`` allows only with ``TECHX_ENVIRONMENT=test``. Operators only, like every other
action that changes the exchange's state for everyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import JSONBody

from exchange.parties.http import Caller
from exchange.platform.clock import OffsetClock
from exchange.platform.http import BEARER

CLOCK_PATH = "/_test/clock"
MAX_ADVANCE_SECONDS = 20 * 366 * 86_400


class AdvanceIn(msgspec.Struct, forbid_unknown_fields=True):
    seconds: Annotated[int, msgspec.Meta(ge=0, le=MAX_ADVANCE_SECONDS)] = 0
    days: Annotated[int, msgspec.Meta(ge=0, le=20 * 366)] = 0
    # First to this moment (RFC 3339, with its offset) if it is ahead, then ``days`` and ``seconds``.
    until: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    sweep: bool = True  # run the deadline sweeper once at the new time, so the caller need not wait for it


class ClockOut(msgspec.Struct):
    now: str
    offset_seconds: int
    swept: dict[str, int] | None = None


def _out(clock: OffsetClock, swept: dict[str, int] | None = None) -> ClockOut:
    offset = getattr(clock, "offset", timedelta(0))  # a test may hand the app a ManualClock instead
    return ClockOut(
        now=clock.now().isoformat().replace("+00:00", "Z"),
        offset_seconds=int(offset.total_seconds()),
        swept=swept,
    )


class ClockControl(Controller):
    path = CLOCK_PATH
    tags = ["test"]
    include_in_schema = False

    @get("/", security=BEARER, summary="The server's current (moved) time")
    async def show(self, operator: Caller, state: State) -> ClockOut:
        return _out(state.clock)

    @post("/advance", status_code=200, security=BEARER, summary="Move the clock forward, then sweep once")
    async def advance(self, operator: Caller, state: State, data: JSONBody[AdvanceIn]) -> ClockOut:
        clock: OffsetClock = state.clock
        ahead = max(timedelta(0), data.until - clock.now()) if data.until is not None else timedelta(0)
        if ahead.total_seconds() > MAX_ADVANCE_SECONDS:
            raise ValidationException(f"until is more than {MAX_ADVANCE_SECONDS} seconds ahead")
        now = clock.advance(ahead + timedelta(days=data.days, seconds=data.seconds))
        swept = await state.sweeper.run_once(state.db, now) if data.sweep else None
        return _out(clock, swept)
