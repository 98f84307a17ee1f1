"""``techx demo``: a realistic, Chinese-language demo exchange built through the services the API uses.

``build_demo(settings)`` runs every scene of ``timeline.SCENES`` in order and returns the ``Demo``;
``register`` adds the command to the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import load_or_create_keys
from exchange.platform.settings import Settings
from exchange.server.demo.data import DEMO_PASSWORD, OPERATOR_EMAIL, ORGS
from exchange.server.demo.institution import MEMBERS, UNIVERSITY
from exchange.server.demo.market import demo_auction_time
from exchange.server.demo.stage import Demo, DemoError, morning
from exchange.server.demo.timeline import SCENES
from exchange.server.demo.tracking import history_start
from exchange.server.modules import build_modules
from listings import CalendarYearMissing

__all__ = ["SCENES", "Demo", "DemoError", "build_demo", "register"]

# Room for the university's process to reach 实施 (its decision's notice: 15 days), then an
# announcement, its deals, their notices and payment, and the distribution plan's notice, before the present.
START_DAYS_AGO = 96


async def build_demo(
    settings: Settings, *, present: datetime | None = None, progress: Callable[[str], None] = lambda line: None
) -> Demo:
    """Seed a fresh database with the demo exchange; ``present`` is where the clock must stop."""
    present = present or datetime.now(UTC)
    start = morning(present.date() - timedelta(days=START_DAYS_AGO))
    # The demo exchange opens its auctions at the time of day that has one live at the present.
    settings = dataclasses.replace(settings, auction_opens_at=demo_auction_time(present))
    modules = build_modules(settings, load_or_create_keys(settings), events=None)  # no server runs yet
    db = Database(create_engine(settings.database_url, pool_size=2), retry_attempts=settings.db_retry_attempts)
    # The clock starts earlier, for the deals of the demo's history (tracking.py); it reaches S after them.
    opens = min(start, history_start(present))
    demo = Demo(db=db, modules=modules, clock=ManualClock(opens), present=present, settings=settings, start=start)
    try:
        for number, scene in enumerate(SCENES, start=1):
            began = time.monotonic()
            title = (scene.__doc__ or scene.__name__).strip().splitlines()[0]
            progress(f"[{number}/{len(SCENES)}] {title}")
            try:
                result = await scene(demo)
            except CalendarYearMissing as exc:
                raise DemoError(f"{exc.detail} (the demo has no fixture for {exc.year})") from exc
            progress(f"      {result} ({demo.now:%Y-%m-%d}, {time.monotonic() - began:.1f} s)")
    finally:
        await db.dispose()
    return demo


def statement_path(settings: Settings) -> Path:
    """Where ``techx demo`` leaves the settlement account's bank statement, next to the keys (``var/``)."""
    return settings.keys_dir.parent / "demo-bank-statement.csv"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def tour(settings: Settings, demo: Demo | None = None) -> str:
    """The logins and a short tour; with the ``demo`` just built, its auction, deal and program by id."""
    base = f"http://{settings.host}:{settings.port}"
    api = f"{base}/api/v1"
    year = (demo.present if demo else datetime.now(UTC)).year
    logins = [f"  {OPERATOR_EMAIL:<28} 交易所运营 (operator)"]
    logins += [f"  {o.email:<28} {o.name} ({o.kind})" for o in ORGS]
    logins += [f"  {m.email:<28} 东海理工大学 {m.name}：{m.what}" for m in MEMBERS]
    ends = f" (until {demo.auction_ends_at:%H:%M} UTC)" if demo and demo.auction_ends_at else ""
    if demo and demo.auction_starts_at and demo.auction_starts_at > demo.present:
        ends = f" (it opens {demo.auction_starts_at:%Y-%m-%d %H:%M} UTC, the next working day)"
    live = f"{base}/auctions/{demo.auction_id}" if demo and demo.auction_id else f"{base}/"
    pages = [
        (f"{base}/", "the portal: live auctions, notices closing soon, latest deals, figures"),
        (f"{base}/notices", "公示公告: every notice, its signature verified in your browser"),
        (f"{base}/listings?q=电池", "科技成果库: Chinese search with filters (try 传感器, 抗体, 催化剂)"),
        (live, f"the live auction, watched as it happens{ends} (sign in as a bidder to bid)"),
        (f"{base}/deals/results", "成交结果: published deal results"),
        (f"{base}/stats", "数据统计: the figures, with their tables"),
        (
            f"{base}/workspace/transfers",
            "披露与转化: 东海理工大学's transfer processes at every step (sign in as tto@)",
        ),
        (f"{base}/workspace/transfers/annual-report", "the university's annual report of the year, with its inputs"),
        (f"{base}/demands", "技术需求: the demand board, enterprises' demands answered by proposals"),
        (
            f"{base}/campaigns",
            "需求征集: the science commission's campaign (screen it as cxq@ at /workspace/campaigns)",
        ),
        (f"{base}/registry", "科技成果登记: registered achievements with their national numbers, and the signed feed"),
        (f"{base}/login", "sign in with a login below"),
        (
            f"{base}/console/reports/white-paper?year={year}",
            "年度白皮书: the year's white paper, with its PDF (operator)",
        ),
        (
            f"{base}/workspace/tracking/transferred",
            "成果转化跟踪: what 申江医科大学 sold long ago, reports filed, one overdue (sign in as ott@)",
        ),
    ]
    stops = [
        (f"{base}/schema", "the interactive API documentation"),
        (f"{api}/notices", "the public board: announcements, deal results, negotiated prices, voucher claims"),
        (f"{api}/listings?q=电池", "Chinese-aware search (try 传感器, 抗体, 催化剂)"),
        (f"{api}/listings?status=auctioning", f"the live auction{ends}"),
        (f"{api}/listings?status=negotiating", "listings in negotiation"),
        (f"{api}/listings?status=unsold", "announcements that ended without a buyer"),
        (f"{api}/voucher-programs", "the city's innovation-voucher program"),
        (f"{api}/services", "services payable with vouchers"),
        (f"{api}/stats?year={year}", "the annual figures: listings, deals, vouchers"),
        (f"{api}/open-data/listings?format=csv", "the open-data export"),
        (f"{api}/keys", "the public keys that verify notices, certificates and ledger seals"),
    ]
    width = max(len(url) for url, _ in stops + pages) + 2
    auction = str(demo.auction_id) if demo and demo.auction_id else "$AUCTION"
    deal = str(demo.deals[32]) if demo and 32 in demo.deals else "$DEAL"
    licence = str(demo.deals[33]) if demo and 33 in demo.deals else "$LICENCE_DEAL"
    program = str(demo.program_id) if demo and demo.program_id else "$PROGRAM"
    period = demo.reconciliation_period if demo and demo.reconciliation_period else None
    since, until = (period[0].isoformat(), period[1].isoformat()) if period else ("$FROM", "$TO")
    auth = '-H "authorization: Bearer $T"'
    university = str(demo.org(UNIVERSITY)) if demo and UNIVERSITY in demo.principals else "$UNIVERSITY"
    return "\n".join(
        [
            "",
            f"Demo logins (the password of every one: {DEMO_PASSWORD})",
            *logins,
            "",
            "A short tour, once `make run` (or `.venv/bin/techx serve`) is up. In the browser:",
            *(f"  {url:<{width}}{what}" for url, what in pages),
            "Through the API:",
            *(f"  {url:<{width}}{what}" for url, what in stops),
            "  Log in (the helper prints a token), then follow the money:",
            f"    login() {{ curl -s {api}/auth/login -H 'content-type: application/json' \\",
            f'      -d "{{\\"email\\": \\"$1\\", \\"password\\": \\"{DEMO_PASSWORD}\\"}}" | jq -r .access_token; }}',
            "    T=$(login tech@zhizao.demo.cn)                 # a bidder in the live auction",
            f"    curl -s {api}/auctions/{auction} {auth} | jq",
            f"    curl -N {api}/auctions/{auction}/events {auth}   # live bids (Server-Sent Events)",
            f"    curl -s {api}/deals {auth} | jq '.items[] | {{state, price}}'",
            f"    curl -s {api}/deals/{deal}/certificate {auth} | jq .content",
            "    T=$(login cxq@kewei.demo.gov.cn)               # the voucher program's administrator",
            f"    curl -s {api}/voucher-programs/{program}/report {auth} | jq",
            "    T=$(login tto@donghai-univ.demo.cn)           # the university's technology-transfer office",
            f"    curl -s '{api}/institutions/{university}/processes' {auth} | jq '.items[] | {{title, step, status}}'",
            f"    curl -s {api}/institutions/{university}/income-receipts {auth} | jq '.items[0].plans[0].status'",
            f"    T=$(login {OPERATOR_EMAIL})                   # the operator",
            f"    curl -s {api}/reconciliations {auth} | jq '.items[0]'",
            f"    curl -s '{api}/withdrawals?status=requested' {auth} | jq",
            f"    curl -s '{api}/objections?status=pending' {auth} | jq",
            f"    curl -s {api}/deals/{licence} {auth} | jq .payment_schedule   # a licence paid in instalments",
            f"    curl -s {api}/ledger/trial-balance {auth} | jq .balanced",
            "  Commands to try:",
            "    .venv/bin/techx ledger seal && .venv/bin/techx ledger verify",
            f"    .venv/bin/techx reconcile --provider bank_transfer --from {since} --to {until} \\",
            f"      --statement {_shown(statement_path(settings))}",
            "    .venv/bin/techx sweep",
            f"    .venv/bin/techx report white-paper --year {year} --out var/reports   # 年度白皮书, HTML and PDF",
            "",
        ]
    )


def cmd_demo(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    from exchange.platform.logging import configure_logging
    from exchange.platform.migrate import upgrade_database

    configure_logging("WARNING", settings.log_json)  # the progress lines are the output

    def show(line: str) -> None:
        print(line, file=out, flush=True)

    async def run() -> Demo:
        show("migrating the database")
        await upgrade_database(settings)
        return await build_demo(settings, progress=show)

    began = time.monotonic()
    try:
        demo = asyncio.run(run())
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    statement_path(settings).parent.mkdir(parents=True, exist_ok=True)
    statement_path(settings).write_text(demo.statement, encoding="utf-8")
    show(f"built in {time.monotonic() - began:.1f} s; the bank statement is {_shown(statement_path(settings))}")
    show(tour(settings, demo))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="seed a fresh database with a realistic demo exchange and print a tour")
    demo.set_defaults(handler=cmd_demo)
