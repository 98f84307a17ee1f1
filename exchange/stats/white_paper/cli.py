"""``techx report white-paper --year YYYY [--out DIR] [--format html|pdf|both]``: the annual white
paper written as files, from the database the settings name (migrated first, as every command)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from exchange.platform.settings import Settings

FORMATS = {"html": ("html",), "pdf": ("pdf",), "both": ("html", "pdf")}


def cmd_white_paper(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database
    from exchange.stats.white_paper.domain import check_year
    from exchange.stats.white_paper.paper import render_files, white_paper, write_files

    async def run() -> dict[str, bytes]:
        check_year(args.year)
        async with migrated_database(settings, pool_size=2) as db, db.read() as session:
            paper = await white_paper(session, args.year, SystemClock().now())
        return await render_files(paper, FORMATS[args.format])

    try:
        written = write_files(asyncio.run(run()), Path(args.out))
    except Exception as exc:
        if hasattr(exc, "problem_type"):  # a refusal (a year out of range, no PDF printer): one line
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise
    for path in written:
        print(path)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="reports of the exchange").add_subparsers(
        dest="report_command", required=True
    )
    paper = report.add_parser("white-paper", help="the annual white paper (年度白皮书) as HTML and PDF")
    paper.add_argument("--year", type=int, required=True, help="the Beijing calendar year")
    paper.add_argument("--out", default=".", help="the folder written into (default: the current one)")
    paper.add_argument("--format", choices=sorted(FORMATS), default="both", help="html, pdf or both (default)")
    paper.set_defaults(handler=cmd_white_paper)
