"""`techx reconcile` as a real process: progress on stderr, the report on stdout, the exit status."""

from __future__ import annotations

import csv
import io
import uuid

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind
from exchange.payments import bank
from tests.helpers import credit_code
from tests.integration.test_cli import techx


async def test_reconcile_a_statement_from_the_command_line(backend, db, clock, keys_dir, tmp_path):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir), "TECHX_RECONCILE_BATCH_SIZE": "2"}
    _, org = await db.transaction(
        lambda s: parties.register(
            s,
            email=f"b-{uuid.uuid4().hex[:8]}@example.cn",
            password_hash="x",
            display_name="买方",
            org_name="上海某公司",
            credit_code=credit_code(),
            kind=OrgKind.ENTERPRISE,
            now=clock.now(),
            verified=True,
        )
    )
    for reference, amount in (("R1", 100), ("R2", 200), ("R3", 300)):
        await db.transaction(
            lambda s, r=reference, a=amount: bank.record_transfer(
                s,
                org_id=org.id,
                amount=a,
                reference=r,
                received_on=None,
                note="",
                operator_id=uuid.uuid4(),
                now=clock.now(),
            )
        )
    statement = tmp_path / "statement.csv"
    statement.write_text("date,amount,reference\n2026-03-02,1.00,R1\n2026-03-02,2.00,R2\n2026-03-02,3.00,R3\n")
    clean = techx("reconcile", "--from", "2026-03-01", "--to", "2026-03-31", "--statement", str(statement), env=env)
    assert clean.returncode == 0, clean.stderr
    assert "reconciled 3 of 3 provider records (100%)" in clean.stderr
    assert "clean" in clean.stdout.splitlines()[-1]

    statement.write_text("date,amount,reference\n2026-03-02,1.00,R1\n2026-03-02,2.01,R2\nbad row\n")
    differs = techx(
        "reconcile",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-02",
        "--statement",
        str(statement),
        "--format",
        "csv",
        env=env,
    )
    assert differs.returncode == 1, differs.stderr
    assert differs.stdout.startswith("\ufeff")  # the same CSV as the API's, BOM first, for Excel
    rows = list(csv.DictReader(io.StringIO(differs.stdout.removeprefix("\ufeff"))))
    assert {(r["类别"], r["结果代码"], r["参考号"]) for r in rows if r["类别"] != "合计"} == {
        ("差异", "amount_mismatch", "R2"),
        ("差异", "missing_at_provider", "R3"),
        ("对账单行错误", "", "第 4 行"),
    }

    statement.write_text("when,how much\n")
    unreadable = techx(
        "reconcile", "--from", "2026-03-02", "--to", "2026-03-02", "--statement", str(statement), env=env
    )
    assert unreadable.returncode == 2 and "missing: date" in unreadable.stderr

    # Bank exports are often GB18030: read as such when told, refused (not garbled) when not.
    statement.write_bytes("date,amount,reference,摘要\n2026-03-02,1.00,R1,货款\n".encode("gb18030"))
    garbled = techx("reconcile", "--from", "2026-03-02", "--to", "2026-03-02", "--statement", str(statement), env=env)
    assert garbled.returncode == 2 and "not utf-8 text" in garbled.stderr
    decoded = techx(
        "reconcile",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-02",
        "--statement",
        str(statement),
        "--encoding",
        "gb18030",
        env=env,
    )
    assert decoded.returncode == 1 and "missing_at_provider" in decoded.stdout  # R2 and R3 are not on it
