"""The sweeper runs every registered step once per pass; a failing step does not stop the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange.platform.sweeper import Sweeper

NOW = datetime(2026, 3, 2, tzinfo=UTC)


class Step:
    def __init__(self, name: str, result: int | Exception) -> None:
        self.name = name
        self.result = result
        self.calls: list[datetime] = []

    async def run(self, db, now: datetime) -> int:
        self.calls.append(now)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_every_step_runs_once_per_pass_even_after_a_failure() -> None:
    failing, working = Step("auctions", RuntimeError("down")), Step("notices", 3)
    sweeper = Sweeper([failing])
    sweeper.add(working)
    assert sweeper.step_names == ["auctions", "notices"]
    assert await sweeper.run_once(db=None, now=NOW) == {"auctions": -1, "notices": 3}  # type: ignore[arg-type]
    assert working.calls == [NOW] and failing.calls == [NOW]


def test_step_names_are_unique() -> None:
    sweeper = Sweeper([Step("notices", 0)])
    with pytest.raises(ValueError, match="already registered"):
        sweeper.add(Step("notices", 0))
