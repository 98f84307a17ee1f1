"""``techx reconcile``: a reconciliation run from the command line, with progress on stderr.

Exit status: 0 when the period is clean, 1 when there are differences, 2 when the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

import msgspec

from exchange.platform.settings import Settings


def _progress(done: int, total: int) -> None:
    share = f" ({100 * done // total}%)" if total else ""
    print(f"\rreconciled {done:,} of {total:,} provider records{share}", end="", file=sys.stderr, flush=True)


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.payments import reconciliation
    from exchange.payments.domain import Provider
    from exchange.payments.exports import reconciliation_export
    from exchange.payments.providers import run_reconciliation
    from exchange.payments.routes import run_report
    from exchange.platform.clock import SystemClock
    from exchange.platform.migrate import migrated_database

    if args.statement and not Path(args.statement).is_file():
        print(f"error: no statement file at {args.statement}", file=sys.stderr)
        return 2
    statement = reconciliation.Statement.from_path(Path(args.statement), args.encoding) if args.statement else None

    async def run() -> tuple[object, bytes]:
        async with migrated_database(settings, pool_size=4) as db:
            period = {"period_from": args.period_from, "period_to": args.period_to}
            provider = Provider(args.provider)
            done, _ = await run_reconciliation(
                db, settings, SystemClock(), provider=provider, **period, statement=statement, progress=_progress
            )
            async with db.read() as session:
                report = await run_report(session, done.id)
                sheet = (await reconciliation_export(session, report)).body("csv") if args.format == "csv" else b""
            return report, sheet

    try:
        report, sheet = asyncio.run(run())
    except Exception as exc:
        if hasattr(exc, "problem_type"):
            print(f"\nerror: {getattr(exc, 'detail', exc)}", file=sys.stderr)
            return 2
        raise
    print(file=sys.stderr)
    if args.format == "json":
        print(json.dumps(msgspec.to_builtins(report), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.flush()
        sys.stdout.buffer.write(sheet)  # the same CSV as the API's, BOM first, for Excel
        sys.stdout.buffer.flush()
    else:
        _print_text(report)
    return 0 if report.clean else 1  # type: ignore[attr-defined]


def _print_text(report: object) -> None:
    r = report  # a ReconciliationOut
    print(f"reconciliation {r.id}: {r.provider} {r.period_from} .. {r.period_to}")  # type: ignore[attr-defined]
    for outcome, total in r.totals.items():  # type: ignore[attr-defined]
        amounts = f"ledger {total.ledger_amount:>16,}  provider {total.provider_amount:>16,}"
        print(f"  {outcome:<20} {total.count:>10,}  {amounts}")
    for error in r.row_errors:  # type: ignore[attr-defined]
        print(f"  statement line {error.line}: {error.message}")
    for line in r.differences[:50]:  # type: ignore[attr-defined]
        print(f"  {line.outcome:<20} {line.reference:<30} ledger {line.ledger_amount}  provider {line.provider_amount}")
    if len(r.differences) > 50:  # type: ignore[attr-defined]
        print(f"  … {len(r.differences) - 50} more (use --format csv)")  # type: ignore[attr-defined]
    print("clean" if r.clean else "differences found")  # type: ignore[attr-defined]


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("reconcile", help="reconcile a provider's records for a period with the ledger")
    parser.add_argument("--provider", choices=["bank_transfer", "stripe"], default="bank_transfer")
    parser.add_argument("--from", dest="period_from", type=date.fromisoformat, required=True, help="first day")
    parser.add_argument("--to", dest="period_to", type=date.fromisoformat, required=True, help="last day (inclusive)")
    parser.add_argument("--statement", help="CSV bank statement with date, amount, reference (bank_transfer)")
    parser.add_argument("--encoding", default="utf-8", help="of the statement file, e.g. gb18030 (default utf-8)")
    parser.add_argument("--format", choices=["text", "json", "csv"], default="text")
    parser.set_defaults(handler=cmd_reconcile)
