"""`techx ledger seal` and `techx ledger verify`, run as real processes against each database."""

from __future__ import annotations

from exchange.accounting.verifications import last_verification
from tests.integration.test_cli import techx
from tests.integration.test_ledger_seal import some_entries, tamper


async def test_seal_then_verify_and_tampering_is_detected(backend, db, clock, keys_dir):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    made, (_, wallet, _) = await some_entries(db, clock, n=3)

    sealed = techx("ledger", "seal", env=env)
    assert sealed.returncode == 0, sealed.stderr
    assert f"sealed {len(made)} entries into 1 blocks" in sealed.stdout
    verified = techx("ledger", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"OK: 1 blocks, {len(made)} sealed entries")

    # An account balance changed directly in the database.
    await tamper(
        db, backend.name, "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = :id", id=wallet.id
    )
    broken = techx("ledger", "verify", env=env)
    assert broken.returncode == 1
    assert f"DISCREPANCY: account {wallet.code}" in broken.stdout and "credits_posted" in broken.stdout
    # Each run is kept: the console shows the last one, here the one that found the discrepancy.
    async with db.read() as session:
        last = await last_verification(session)
    assert last is not None and not last.ok and last.source == "schedule" and last.by_user_id is None
    assert f"account {wallet.code}" in (last.discrepancy or "")
    await tamper(
        db, backend.name, "UPDATE ledger_accounts SET credits_posted = credits_posted - 1 WHERE id = :id", id=wallet.id
    )

    # A posting amount changed directly in the database.
    await tamper(db, backend.name, "UPDATE ledger_postings SET amount = 1 WHERE id = :id", id=made[0].postings[1].id)
    broken = techx("ledger", "verify", env=env)
    assert broken.returncode == 1
    assert f"DISCREPANCY: entry {made[0].id}" in broken.stdout
