"""The ``techx`` command line: ``build_parser`` adds each command with its handler; modules add theirs
through ``EXTRA_COMMANDS``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import getpass
import os
import socket
import sys
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from exchange.platform.settings import Settings, SettingsError
from exchange.server.errors import CommandError

if TYPE_CHECKING:
    from litestar import Litestar

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if args.workers > 1 and settings.test_clock:
        # Each process would keep its own offset: the exchange would run on several times at once.
        raise CommandError("TECHX_TEST_CLOCK runs one server process only (--workers 1)")
    host, port = args.host or settings.host, args.port or settings.port
    _check_can_listen(host, port)
    _check_keys(settings)
    _upgrade_database(settings)
    print(f"TechX listening on http://{_url_host(host)}:{port}", flush=True)
    if args.workers > 1:
        # Several processes: each builds its app from the environment, as this one read its settings.
        uvicorn.run(
            "exchange.server.cli:serving_app",
            factory=True,
            workers=args.workers,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # the client address is the exchange's to work out (TECHX_TRUSTED_PROXIES)
        )
        return 0
    uvicorn.run(serving_app(settings), host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)
    return 0


def _check_can_listen(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will, so a busy port stops the command before anything else."""
    other = 8080 if port != 8080 else 8081
    choose = f"choose another with TECHX_PORT={other} make run (or techx serve --port {other})"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} on {host} is already in use; {choose}") from None
        raise CommandError(
            f"cannot listen on {host} port {port} ({exc.strerror or exc}); check TECHX_HOST and TECHX_PORT"
            " (or --host and --port)"
        ) from None


def _check_keys(settings: Settings) -> None:
    """Read the keys as a server process will (creating missing ones in development and test), so
    that a production start without keys stops before the database is touched."""
    from exchange.platform.keys import load_or_create_keys

    load_or_create_keys(settings)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def serving_app(settings: Settings | None = None) -> Litestar:
    """The app of a server process, its start-up objects frozen out of the cyclic collector's sight.

    What is alive once the app is built (the loaded libraries, routes, mappers, settings: some 170k
    objects) lives as long as the process. Left to the collector, every full collection walks them
    all: under load that stalled every request in flight for 100-200 ms several times a minute,
    the bulk of the bid latency's tail.
    """
    from exchange.server.app import create_app

    app = create_app(settings)
    gc.collect()  # what is already garbage is not kept for good
    gc.freeze()
    return app


def _upgrade_database(settings: Settings) -> str | None:
    from exchange.platform.migrate import upgrade_database

    return asyncio.run(upgrade_database(settings))


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    revision = _upgrade_database(settings)
    print(f"database at revision {revision}")
    return 0


def cmd_operator_create(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.parties import service
    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database

    password = args.password or os.environ.get("TECHX_OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    try:
        service.check_new_password(password)
    except service.WeakPassword as exc:
        raise CommandError(exc.detail) from None

    async def run() -> str:
        async with migrated_database(settings, pool_size=1) as db:
            password_hash = await service.hash_in_thread(password)
            user = await db.transaction(
                lambda s: service.create_operator(
                    s,
                    email=args.email,
                    password_hash=password_hash,
                    display_name=args.name,
                    now=SystemClock().now(),
                )
            )
            return f"operator {user.email} created (user {user.id}, org {user.org_id})"

    return _print_result(run())


def _print_result(work: Coroutine[Any, Any, str]) -> int:
    """Run a command's work and print what it answers; a refusal of the exchange's rules (a problem
    of the API) becomes a ``CommandError`` of status 1: one line on stderr, as the API would answer it."""
    try:
        print(asyncio.run(work))
    except Exception as exc:
        if hasattr(exc, "problem_type"):
            raise CommandError(str(exc), status=1) from None
        raise
    return 0


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    counts = asyncio.run(sweep_once(settings))
    for name, count in counts.items():
        print(f"{name}: {'failed (see the log)' if count < 0 else f'{count} processed'}")
    return 1 if any(c < 0 for c in counts.values()) else 0


def cmd_sweep_failures(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.migrate import migrated_database
    from exchange.platform.sweeper import list_failures

    async def run() -> list[str]:
        lines: list[str] = []
        cursor = None
        async with migrated_database(settings, pool_size=1) as db:
            while True:
                async with db.read() as session:
                    rows, cursor = await list_failures(
                        session, set_aside=True if args.set_aside else None, step=None, limit=100, cursor=cursor
                    )
                for r in rows:
                    state = (
                        f"set aside {r.set_aside_at.isoformat()}"
                        if r.set_aside_at
                        else f"next {r.next_attempt_at.isoformat()}"
                    )
                    lines.append(f"{r.id}  {r.step}  {r.row_key}  attempts {r.attempts}  {state}  {r.last_error}")
                if cursor is None:
                    return lines

    lines = asyncio.run(run())
    for line in lines:
        print(line)
    print(f"{len(lines)} failing rows")
    return 0


def cmd_sweep_retry(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.migrate import migrated_database
    from exchange.platform.sweeper import request_retry

    try:
        failure_id = uuid.UUID(args.id)
    except ValueError:
        raise CommandError(f"{args.id!r} is not a failure id") from None

    async def run() -> str:
        async with migrated_database(settings, pool_size=1) as db:
            row = await db.transaction(lambda s: request_retry(s, failure_id))
            return f"{row.step} {row.row_key}: retried on the next pass"

    return _print_result(run())


async def flush(events: Any, db: Any) -> None:
    """What the pass recorded in the outbox (jetstream), relayed before the command exits; when NATS
    is not reachable it waits there for a server's relay."""
    from exchange.platform.events import NotPublished

    try:
        await events.flush(db)
    except Exception as exc:
        raise NotPublished(f"live events wait in the outbox: {exc!r}") from exc


async def sweep_once(settings: Settings) -> dict[str, int]:
    """One pass of the sweeper, as a server's: what it closes is published through the configured
    channels backend (with Redis, the servers' subscribers receive it) before this returns; a
    count of -1 under ``live-events`` if that failed."""
    from exchange.platform.clock import SystemClock
    from exchange.platform.events import NotPublished
    from exchange.platform.keys import load_or_create_keys
    from exchange.platform.live_backends import live_events
    from exchange.platform.migrate import migrated_database
    from exchange.server.modules import build_modules

    counts: dict[str, int] = {}
    try:
        async with live_events(settings) as events, migrated_database(settings) as db:
            modules = build_modules(settings, load_or_create_keys(settings), events=events)
            counts = await modules.sweeper.run_once(db, SystemClock().now())
            await flush(events, db)
    except NotPublished as exc:
        print(f"error: {exc} (channels backend {settings.channels_backend})", file=sys.stderr)
        counts["live-events"] = -1
    return counts


def cmd_calendar_import(args: argparse.Namespace, settings: Settings) -> int:
    """Load a year's working-day schedule from a JSON file (the format of docs/operations.md)."""
    from pathlib import Path

    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database
    from listings import calendar

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"no calendar file at {path}")
    try:
        checked = calendar.read_schedule(path.read_bytes())
    except Exception as exc:
        if hasattr(exc, "problem_type"):
            fields = ", ".join(e["field"] for e in getattr(exc, "errors", None) or [])
            raise CommandError(f"{path}: {getattr(exc, 'detail', exc)}" + (f" [{fields}]" if fields else "")) from None
        raise
    by = calendar.ChangedBy(f"techx calendar import {path.name} (user {getpass.getuser()})")

    async def run() -> str:
        async with migrated_database(settings, pool_size=1) as db:
            await db.transaction(
                lambda s: calendar.import_year(s, checked, by, SystemClock().now(), replace=args.replace)
            )
        off = sum(kind.value == "off" for kind, _ in checked.days.values())
        worked = len(checked.days) - off
        return f"{checked.year} loaded from {checked.notice}: {off} days off, {worked} make-up working days"

    _print_result(run())
    if checked.note:
        print(f"note: {checked.note}")
    return 0


def cmd_calendar_list(args: argparse.Namespace, settings: Settings) -> int:
    """The years the working-day calendar has data for."""
    from exchange.platform.migrate import migrated_database
    from listings import calendar

    async def run() -> list[tuple[object, int, int]]:
        async with migrated_database(settings, pool_size=1) as db, db.read() as session:
            return list(await calendar.list_years(session, limit=10_000))

    for year, off, worked in asyncio.run(run()):
        when = f"{year.loaded_at:%Y-%m-%d %H:%M} UTC"  # type: ignore[attr-defined]
        print(f"{year.year}  {off:>3} days off  {worked:>2} make-up  {year.notice}  (by {year.loaded_by}, {when})")  # type: ignore[attr-defined]
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="techx", description="TechX technology-transfer exchange")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply all migrations").set_defaults(handler=cmd_db_upgrade)

    operator = commands.add_parser("operator", help="exchange operators").add_subparsers(
        dest="operator_command", required=True
    )
    create = operator.add_parser("create", help="create an operator user (and the operator org, once)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="Operator")
    create.add_argument("--password", help="default: $TECHX_OPERATOR_PASSWORD, else asked for")
    create.set_defaults(handler=cmd_operator_create)

    sweep = commands.add_parser("sweep", help="process due deadlines once (notices, and later modules' steps)")
    sweep.set_defaults(handler=cmd_sweep)
    sweep_commands = sweep.add_subparsers(dest="sweep_command", required=False)
    failures = sweep_commands.add_parser("failures", help="list due rows the sweeper failed to process")
    failures.add_argument("--set-aside", action="store_true", help="only rows set aside (retried only on request)")
    failures.set_defaults(handler=cmd_sweep_failures)
    retry = sweep_commands.add_parser("retry", help="try a failed row again on the sweeper's next pass")
    retry.add_argument("id", help="the failure's id, as `techx sweep failures` lists it")
    retry.set_defaults(handler=cmd_sweep_retry)

    calendar = commands.add_parser("calendar", help="the working-day calendar periods count on").add_subparsers(
        dest="calendar_command", required=True
    )
    load = calendar.add_parser("import", help="load a year's schedule from a JSON file (see docs/operations.md)")
    load.add_argument("file")
    load.add_argument("--replace", action="store_true", help="replace a year already loaded (a correction)")
    load.set_defaults(handler=cmd_calendar_import)
    calendar.add_parser("list", help="the years loaded, with their notices").set_defaults(handler=cmd_calendar_list)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


def _register_ledger(commands: argparse._SubParsersAction) -> None:
    from exchange.accounting.jobs import register

    register(commands)


def _register_keys(commands: argparse._SubParsersAction) -> None:
    from exchange.server.keys_cli import register

    register(commands)


def _register_demo(commands: argparse._SubParsersAction) -> None:
    from exchange.server.demo import register

    register(commands)


def _register_backup(commands: argparse._SubParsersAction) -> None:
    from exchange.server.backup import register

    register(commands)


def _register_payments(commands: argparse._SubParsersAction) -> None:
    from exchange.payments.cli import register

    register(commands)


def _register_notifications(commands: argparse._SubParsersAction) -> None:
    from exchange.notifications.cli import register

    register(commands)


def _register_reports(commands: argparse._SubParsersAction) -> None:
    from exchange.stats.white_paper.cli import register

    register(commands)


# Later modules append functions that add their sub-commands to the parser.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _register_ledger,
    _register_payments,
    _register_notifications,
    _register_keys,
    _register_demo,
    _register_backup,
    _register_reports,
]


def _register_registry(commands: argparse._SubParsersAction) -> None:
    from exchange.server.registry_cli import register

    register(commands)


EXTRA_COMMANDS.append(_register_registry)  # techx registry import / export


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(args, settings)
    except Exception as exc:
        error = exc if isinstance(exc, CommandError) else _explained(exc, settings)
        if error is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.status


def _explained(exc: Exception, settings: Settings) -> CommandError | None:
    """A failure the user can fix without a traceback, said in one line; None for anything else."""
    from exchange.platform.db import missing_database
    from exchange.platform.keys import KeysMissing

    if isinstance(exc, KeysMissing):
        return CommandError(str(exc))
    message = missing_database(exc, settings.database_url)
    return CommandError(message) if message else None


if __name__ == "__main__":
    sys.exit(main())
