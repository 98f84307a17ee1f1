"""What every module's routes take from the application: the database, the clock and the settings.

Handler parameters pick their dependency by name (``db: Db``, ``clock: Now``, ``settings: Config``);
the composition root provides each from the application state (``state_dependencies``). Who is
calling (``user: Caller`` and its guards) is the parties module's (``exchange.parties.http``).
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from exchange.platform.clock import Clock
from exchange.platform.db import Database
from exchange.platform.public_data import PublicData
from exchange.platform.settings import Settings

BEARER = [{"BearerToken": []}]  # OpenAPI security requirement of authenticated routes

Db = NamedDependency[Database]
Now = NamedDependency[Clock]
Config = NamedDependency[Settings]
PublicFigures = NamedDependency[PublicData]  # the public data version, and figures kept under it


def from_state(name: str) -> Provide:
    """A dependency read from the application state under ``name``."""

    def provide(state: State) -> Any:
        return state[name]

    provide.__name__ = f"provide_{name}"
    return Provide(provide, sync_to_thread=False)


def state_dependencies(*names: str) -> dict[str, Provide]:
    return {name: from_state(name) for name in names}
