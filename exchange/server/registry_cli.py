"""``techx registry import FILE`` and ``techx registry export --since CURSOR``: the achievement
registry's bulk import (a dry run, a progress bar on stderr, resumable) and its signed feed in
batches of JSON Lines (docs/registry.md).

Exit status of the import: 0 when the file was imported (or checks clean in a dry run), 1 when it has
bad rows (each listed by line on stderr; nothing written), 2 when it cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from exchange.platform.settings import Settings
from exchange.server.errors import CommandError

BAR = 30


def _bar(done: int, total: int) -> None:
    filled = BAR * done // total if total else BAR
    share = 100 * done // total if total else 100
    print(
        f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done:,}/{total:,} rows ({share}%)",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    from exchange.platform.keys import load_or_create_keys
    from exchange.server.modules import build_modules

    return build_modules(settings, load_or_create_keys(settings), events=None).registry


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database
    from exchange.registry import imports

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"no file at {path}", status=2)
    content = path.read_bytes()
    source = args.source or path.stem
    registry = _context(settings)

    async def run() -> imports.ImportResult:
        async with migrated_database(settings, pool_size=2) as db:
            return await imports.import_file(
                db, registry, SystemClock(), filename=path.name, content=content, source=source,
                by=f"techx registry import {path.name} (user {getpass.getuser()})", dry_run=args.dry_run,
                progress=None if args.dry_run else _bar,
            )  # fmt: skip

    try:
        result = asyncio.run(run())
    except Exception as exc:
        if hasattr(exc, "problem_type"):
            raise CommandError(f"{path}: {getattr(exc, 'detail', exc)}", status=2) from None
        raise
    if not args.dry_run and not result.refused:
        print(file=sys.stderr)
    for bad in result.bad:
        print(f"{path.name}:{bad.line}: {bad.field}: {bad.reason}", file=sys.stderr)
    if result.refused:
        print(f"{len(result.bad)} bad rows of {result.rows}: nothing written", file=sys.stderr)
        return 1
    verb = "would be" if args.dry_run else "were"
    resumed = f" (resumed after line {result.resumed_from})" if result.resumed_from else ""
    print(
        f"{result.rows} rows from source {result.source}{resumed}: {result.created} {verb} registered, "
        f"{result.corrected} corrected, {result.unchanged} unchanged"
    )
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database
    from exchange.registry import feed

    if not 1 <= args.batch <= 1000:
        raise CommandError("--batch is 1 to 1000 events", status=2)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    registry = _context(settings)

    async def run() -> tuple[int, int]:
        cursor, batches = args.since, 0
        async with migrated_database(settings, pool_size=1) as db:
            while True:
                async with db.read() as session:
                    batch = await feed.batch(session, registry, cursor, args.batch, SystemClock().now())
                if batch.count == 0 and batches > 0:
                    return cursor, batches
                if out is not None:
                    if batch.count:
                        (out / batch.name).write_bytes(batch.body)
                else:
                    sys.stdout.buffer.write(batch.body)
                    sys.stdout.buffer.flush()
                batches += 1
                cursor = batch.last
                if batch.count < args.batch:
                    return cursor, batches

    last, batches = asyncio.run(run())
    where = f" to {out}" if out is not None else ""
    print(f"{batches} batch(es){where}; next cursor {last}", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    registry = commands.add_parser("registry", help="the achievement registry (科技成果登记)").add_subparsers(
        dest="registry_command", required=True
    )
    load = registry.add_parser("import", help="import achievements from a CSV or xlsx file (docs/registry.md)")
    load.add_argument("file")
    load.add_argument("--dry-run", action="store_true", help="check every row, report the bad ones, write nothing")
    load.add_argument("--source", help="the source's name (default: the file's name without extension)")
    load.set_defaults(handler=cmd_import)
    export = registry.add_parser("export", help="the feed since a cursor, in signed batches of JSON Lines")
    export.add_argument("--since", type=int, default=0, help="the last cursor applied (default 0: from the start)")
    export.add_argument("--batch", type=int, default=500, help="events per batch (1–1000, default 500)")
    export.add_argument("--out", help="a folder for the batches' files (default: standard output)")
    export.set_defaults(handler=cmd_export)
