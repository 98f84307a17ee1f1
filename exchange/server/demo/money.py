"""The demo's payments: withdrawals paid and waiting, and the month's bank reconciliation.

The wallets were funded by bank transfers the operator recorded (``scenes.scene_wallets``), the
voucher program by the treasury's transfer (``programs.scene_program``); every movement of the
settlement account is also a line of the bank statement the demo writes, so the reconciliation of
the period comes out clean, and a newcomer can run it again with ``techx reconcile``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from exchange.payments import bank
from exchange.payments.domain import Provider, china_day
from exchange.payments.models import Withdrawal
from exchange.payments.providers import run_reconciliation
from exchange.payments.reconciliation import Statement
from exchange.server.demo.stage import BankLine, Demo
from kernel.csvtext import csv_text

SELLER_WITHDRAWAL = ("donghai", 10_000_000, "中国工商银行 上海分行 1001 **** 0001 东海理工大学")
WAITING_WITHDRAWAL = ("pujiang", 4_000_000, "招商银行 上海张江支行 6225 **** 0002 浦江先进材料研究院")


async def _request(demo: Demo, key: str, amount: int, payee: str) -> Withdrawal:
    principal = demo.principals[key]
    return await demo.tx(
        lambda s: bank.request_withdrawal(
            s, org_id=demo.org(key), amount=amount, payee=payee, user_id=principal.user_id, now=demo.now
        )
    )


async def scene_withdrawals(demo: Demo) -> str:
    """After settlement: the university withdraws part of its proceeds; the operator pays it by bank."""
    demo.advance_to(demo.now + timedelta(hours=4))
    key, amount, payee = SELLER_WITHDRAWAL
    withdrawal = await _request(demo, key, amount, payee)
    demo.advance_to(demo.now + timedelta(days=1))
    reference = f"CMB-OUT-{china_day(demo.now):%Y%m%d}-0001"
    ops = demo.principals["ops"]
    await demo.tx(
        lambda s: bank.complete_withdrawal(
            s,
            withdrawal.id,
            bank_reference=reference,
            paid_on=china_day(demo.now),
            operator_id=ops.user_id,
            now=demo.now,
        )
    )
    demo.bank.append(BankLine(china_day(demo.now), -amount, reference))
    return f"a withdrawal of ¥{amount // 100:,} requested and paid by bank ({reference})"


def statement_csv(lines: list[BankLine]) -> str:
    """The settlement account's statement as the bank exports it: yuan, money out negative."""
    rows = sorted(lines, key=lambda b: (b.day, b.reference))
    # The amount is a number (a Decimal of yuan), not text: written as is, "-30.00" for money out.
    return csv_text(
        [("date", "amount", "reference")] + [(b.day, Decimal(b.amount).scaleb(-2), b.reference) for b in rows]
    )


async def scene_reconciliation(demo: Demo) -> str:
    """Today: a withdrawal waits for the operator; the period's bank statement is reconciled, clean."""
    demo.advance_to(demo.present - timedelta(minutes=2))
    key, amount, payee = WAITING_WITHDRAWAL
    await _request(demo, key, amount, payee)
    period_from = min(line.day for line in demo.bank)
    period_to = china_day(demo.now)
    demo.statement = statement_csv(demo.bank)
    statement, operator = Statement.from_text(demo.statement), demo.principals["ops"].user_id
    run, _ = await run_reconciliation(
        demo.db,
        demo.settings,
        demo.clock,
        provider=Provider.BANK_TRANSFER,
        period_from=period_from,
        period_to=period_to,
        statement=statement,
        operator_id=operator,
    )
    demo.reconciliation_period = (period_from, period_to)
    differences = sum(t["count"] for k, t in json.loads(run.totals).items() if k != "matched")
    verdict = "clean" if run.status == "completed" and differences == 0 else f"{differences} differences"
    demo.notes.append(verdict)
    return f"{len(demo.bank)} statement lines from {period_from} to {period_to} reconciled: {verdict}"
