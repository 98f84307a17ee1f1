"""``techx demo``: a realistic, Chinese-language demo exchange built through the services the API uses.

``build_demo(settings)`` runs every scene of ``timeline.SCENES`` in order and returns the ``Demo``;
``register`` adds the command to the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from exchange.demo.data import DEMO_PASSWORD, OPERATOR_EMAIL, ORGS
from exchange.demo.stage import Demo, DemoError, morning
from exchange.demo.timeline import SCENES
from exchange.server.clock import ManualClock
from exchange.server.db import Database, create_engine
from exchange.server.keys import load_or_create_keys
from exchange.server.modules import build_modules
from exchange.server.settings import Settings

__all__ = ["SCENES", "Demo", "DemoError", "build_demo", "register"]

START_DAYS_AGO = 75  # room for an announcement, its deals, their notices and payment before the present


async def build_demo(
    settings: Settings, *, present: datetime | None = None, progress: Callable[[str], None] = lambda line: None
) -> Demo:
    """Seed a fresh database with the demo exchange; ``present`` is where the clock must stop."""
    present = present or datetime.now(UTC)
    start = morning(present.date() - timedelta(days=START_DAYS_AGO))
    modules = build_modules(settings, load_or_create_keys(settings))
    db = Database(create_engine(settings.database_url, pool_size=2), retry_attempts=settings.db_retry_attempts)
    demo = Demo(db=db, modules=modules, clock=ManualClock(start), present=present, settings=settings)
    try:
        for number, scene in enumerate(SCENES, start=1):
            began = time.monotonic()
            title = (scene.__doc__ or scene.__name__).strip().splitlines()[0]
            progress(f"[{number}/{len(SCENES)}] {title}")
            result = await scene(demo)
            progress(f"      {result} ({demo.now:%Y-%m-%d}, {time.monotonic() - began:.1f} s)")
    finally:
        await db.dispose()
    return demo


def tour(settings: Settings) -> str:
    base = f"http://{settings.host}:{settings.port}"
    api = f"{base}/api/v1"
    logins = [f"  {OPERATOR_EMAIL:<28} 交易所运营 (operator)"]
    logins += [f"  {o.email:<28} {o.name} ({o.kind})" for o in ORGS]
    stops = [
        (f"{base}/schema", "the interactive API documentation"),
        (f"{api}/notices", "the public board: open announcements, countdowns, objections"),
        (f"{api}/listings?q=电池", "Chinese-aware search (try 传感器, 抗体, 催化剂)"),
        (f"{api}/listings?status=unsold", "announcements that ended without a buyer"),
        (f"{api}/stats?year={datetime.now(UTC).year}", "the annual figures"),
        (f"{api}/open-data/listings?format=csv", "the open-data export"),
    ]
    width = max(len(url) for url, _ in stops) + 2
    return "\n".join(
        [
            "",
            f"Demo logins (the password of every one: {DEMO_PASSWORD})",
            *logins,
            "",
            "A short tour, once `make run` (or `.venv/bin/techx serve`) is up:",
            *(f"  {url:<{width}}{what}" for url, what in stops),
            "  Log in as the operator, then look at the objection queue and the ledger:",
            f"    TOKEN=$(curl -s {api}/auth/login -H 'content-type: application/json' \\",
            f'      -d \'{{"email": "{OPERATOR_EMAIL}", "password": "{DEMO_PASSWORD}"}}\' | jq -r .access_token)',
            f"    curl -s '{api}/objections?status=pending' -H \"authorization: Bearer $TOKEN\" | jq",
            f'    curl -s {api}/ledger/trial-balance -H "authorization: Bearer $TOKEN" | jq',
            "  Commands to try:",
            "    .venv/bin/techx ledger seal && .venv/bin/techx ledger verify",
            "    .venv/bin/techx sweep",
            "",
        ]
    )


def cmd_demo(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    from exchange.server.cli import _upgrade
    from exchange.server.logging import configure_logging

    configure_logging("WARNING", settings.log_json)  # the progress lines are the output

    def show(line: str) -> None:
        print(line, file=out, flush=True)

    async def run() -> Demo:
        show("migrating the database")
        await _upgrade(settings)
        return await build_demo(settings, progress=show)

    try:
        asyncio.run(run())
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    show(tour(settings))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="seed a fresh database with a realistic demo exchange and print a tour")
    demo.set_defaults(handler=cmd_demo)
