"""``techx notifications deliver [--once]``: the notifications worker outside the server (for a
deployment that runs delivery in a process of its own, with ``TECHX_NOTIFY_INTERVAL_SECONDS=0``
on the servers)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from exchange.platform.settings import Settings

IDLE_SECONDS = 2.0  # between passes when the setting turns delivery off in servers


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.notifications.delivery import Notifier
    from exchange.platform.clock import SystemClock
    from exchange.platform.keys import load_or_create_keys
    from exchange.platform.migrate import migrated_database

    notifier = Notifier.of(settings, load_or_create_keys(settings).data)
    interval = settings.notify_interval_seconds or IDLE_SECONDS

    async def run() -> None:
        async with migrated_database(settings, pool_size=4) as db:
            while True:
                counts = await notifier.run_once(db, SystemClock())
                if args.once or any(counts.values()):
                    print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do", flush=True)
                if args.once:
                    return
                await asyncio.sleep(interval)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    notifications = commands.add_parser("notifications", help="the notifications worker").add_subparsers(
        dest="notifications_command", required=True
    )
    deliver = notifications.add_parser("deliver", help="expand the outbox and send due emails and webhooks")
    deliver.add_argument("--once", action="store_true", help="one pass, then exit (default: run until interrupted)")
    deliver.set_defaults(handler=cmd_deliver)
