"""The deadline sweeper: every registered step processes what is due, once per pass.

A step is any object with a ``name`` and ``async run(db, now) -> int`` (how many items it
processed). Listings register the notice step; later modules add theirs (auction ends, offer
expiry, payment deadlines, hold timeouts, voucher expiry) with ``Sweeper.add``. Each step claims
its due rows so that any number of sweepers may run at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import structlog

from exchange.platform.db import Database

log = structlog.get_logger("techx.sweeper")


class SweepStep(Protocol):
    name: str

    async def run(self, db: Database, now: datetime) -> int: ...


class Sweeper:
    def __init__(self, steps: Iterable[SweepStep] = ()) -> None:
        self._steps: list[SweepStep] = list(steps)

    def add(self, step: SweepStep) -> None:
        if any(s.name == step.name for s in self._steps):
            raise ValueError(f"a sweep step named {step.name!r} is already registered")
        self._steps.append(step)

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self._steps]

    async def run_once(self, db: Database, now: datetime) -> dict[str, int]:
        """One pass over every step; a failing step is logged and does not stop the others."""
        counts: dict[str, int] = {}
        for step in self._steps:
            try:
                counts[step.name] = await step.run(db, now)
            except Exception:
                log.exception("sweep step failed", step=step.name)
                counts[step.name] = -1
        if any(counts.values()):
            log.info("sweep pass", **counts)
        return counts
