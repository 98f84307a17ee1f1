"""The configured live-events backend: ``events_of`` for a server, ``live_events`` for a command.

Apart from ``exchange.platform.events`` because the JetStream backend (``live_outbox``) builds on
that module: choosing it there would make the two import each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from litestar.channels import ChannelsPlugin

from exchange.platform.events import Events, NotPublished, channels_plugin
from exchange.platform.live_outbox import OutboxEvents
from exchange.platform.settings import Settings


def events_of(settings: Settings, plugin: ChannelsPlugin) -> Events:
    """The live events of the configured backend, over ``plugin``'s channels."""
    if settings.channels_backend == "jetstream":
        return OutboxEvents(plugin, settings)
    return Events(plugin)


@asynccontextmanager
async def live_events(settings: Settings, *, drain_seconds: float = 10.0) -> AsyncIterator[Events]:
    """Events through the configured channels backend outside a server (``techx sweep``).

    What the block publishes has reached the backend when it ends, or ``NotPublished`` is raised
    after ``drain_seconds`` (an unreachable Redis): a command from cron does not hang on it.
    """
    plugin = channels_plugin(settings)
    await plugin.__aenter__()
    try:
        yield events_of(settings, plugin)
    except BaseException:
        with suppress(Exception):
            await asyncio.wait_for(plugin.__aexit__(None, None, None), drain_seconds)
        raise
    try:
        await asyncio.wait_for(plugin.__aexit__(None, None, None), drain_seconds)
    except TimeoutError:
        raise NotPublished(f"live events not all published within {drain_seconds:g} s") from None
