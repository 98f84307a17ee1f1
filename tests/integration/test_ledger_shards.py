"""Hot accounts split into shards: one logical account to every reader, several rows to writers.

The same random history is applied to a sharded account and to an unsharded twin: every read of
the logical account (balances, lists, statements, movements, entries) must be the same, and each
row must be balanced by its own postings (``verify``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ledger import service as ledger
from ledger.domain import EntrySpec
from ledger.errors import AccountClosed, DomainError, InvalidEntry, NotShardable
from ledger.models import accounts, postings
from tests.integration.test_ledger_cli import techx
from tests.integration.test_ledger_properties import DB_SETTINGS, Runner
from tests.ledger_helpers import code, open_accounts

SHARDS = 4


@pytest.fixture
def runner(backend):
    run = Runner(backend.url)
    yield run
    run.close()


def make_world(runner: Runner, *, sharded: bool) -> list[Any]:
    """A hot revenue account (fees), a bank (asset) and a wallet that may not be overdrawn."""
    now = runner.clock.now()

    async def work(session: Any) -> list[Any]:
        made = [
            await ledger.create_account(session, code=code("fees"), unit="CNY", type="revenue", now=now),
            await ledger.create_account(session, code=code("bank"), unit="CNY", type="asset", now=now),
            await ledger.create_account(
                session, code=code("org"), unit="CNY", type="liability", no_overdraft=True, now=now
            ),
        ]
        if sharded:
            await ledger.shard_account(session, made[0].id, shards=SHARDS, now=now)
        return made

    made = runner.write(work)
    if sharded:  # after the commit: from now on this process's writers spread over the shards
        runner(_load(runner))
    return made


async def _load(runner: Runner) -> int:
    async with runner.db.read() as session:
        return await ledger.load_shards(session)


def apply(runner: Runner, world: list[Any], moves: list[tuple[str, int, int, int]]) -> list[str]:
    """Apply the moves; what each did (the entry's posted amounts, or the refusal's type)."""
    holds: list[Any] = []
    outcomes: list[str] = []
    now = runner.clock.now()
    index = {x.id: n for n, x in enumerate(world)}
    for kind, i, j, amount in moves:
        a, b = world[i], world[j]
        try:
            if kind == "transfer" and a != b:
                done = runner.write(
                    lambda s, a=a, b=b, n=amount: ledger.transfer(s, a.id, b.id, n, unit="CNY", kind="t", now=now)
                )
            elif kind == "hold" and a != b:
                done = runner.write(
                    lambda s, a=a, b=b, n=amount: ledger.hold(s, a.id, b.id, n, unit="CNY", kind="h", now=now)
                )
                holds.append(done)
            elif kind == "post" and holds:
                done = runner.write(
                    lambda s, h=holds[i % len(holds)], n=amount: ledger.post_hold(s, h.id, amount=n, now=now)
                )
            elif kind == "void" and holds:
                done = runner.write(lambda s, h=holds[i % len(holds)]: ledger.void_hold(s, h.id, now=now))
            else:
                continue
        except DomainError as exc:
            outcomes.append(type(exc).__name__)
            continue
        assert {p.account_id for p in done.postings} <= set(index)  # entries name logical accounts, never shards
        outcomes.append(
            ",".join(f"{index[p.account_id]}{p.side}{p.posted_delta}/{p.pending_delta}" for p in done.postings)
        )
    return outcomes


def reads(runner: Runner, world: list[Any]) -> dict[str, Any]:
    """Everything a reader sees of the world's accounts."""

    async def read() -> dict[str, Any]:
        async with runner.db.read() as session:
            now = [await ledger.get_account(session, a.id) for a in world]
            by_code = [await ledger.account_by_code(session, a.code) for a in world]
            listed = (await ledger.list_accounts(session, code_prefix=world[0].code, limit=10)).items
            lines, cursor = [], None
            while True:  # the hot account's whole statement, two lines a page
                page = await ledger.statement(session, world[0].id, limit=2, cursor=cursor)
                lines += page.items
                if (cursor := page.next_cursor) is None:
                    break
            entry_ids = list({line.entry_id for line in lines})
            moved = await ledger.movements_of(session, world[0].id, entry_ids)
            as_of = (
                await ledger.get_account(session, world[0].id, as_of=lines[len(lines) // 2].entry_id) if lines else None
            )
            return {
                "balances": [a.balances() for a in now],
                "versions": [a.version for a in now],
                "by_code": [a.balances() for a in by_code],
                "listed": [(a.id == world[0].id, a.balances()) for a in listed],
                "lines": len(lines),
                "seqs": [line.seq for line in lines],
                "balance_lines": [(line.balance, line.available) for line in lines[:1]],
                "moved": sorted(m.amount for m in moved),
                "as_of_newest_line": (now[0].balance, lines[0].balance) if lines else None,
                "as_of_mid": as_of.balances() if as_of else None,
            }

    return runner(read())


moves = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "transfer", "hold", "post", "void"]),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(1, 400),
    ),
    min_size=1,
    max_size=14,
)


@DB_SETTINGS
@given(history=moves)
def test_a_sharded_account_reads_as_its_unsharded_twin(runner, history):
    hot, twin = make_world(runner, sharded=True), make_world(runner, sharded=False)
    assert apply(runner, hot, history) == apply(runner, twin, history)
    seen, expected = reads(runner, hot), reads(runner, twin)
    assert seen == expected
    if seen["lines"]:
        balance, newest = seen["as_of_newest_line"]
        assert newest == balance and seen["seqs"] == list(range(seen["lines"], 0, -1))
    report = runner.verify()  # each row, shard or not, is the sum of its own postings
    assert report.ok, report.discrepancy


def stored_rows(runner: Runner, account: Any) -> dict[uuid.UUID, int]:
    """Postings per stored row of an account (its own and its shards')."""

    async def read() -> dict[uuid.UUID, int]:
        async with runner.db.read() as session:
            rows = await session.execute(
                select(postings.c.account_id, func.count())
                .join(accounts, accounts.c.id == postings.c.account_id)
                .where((accounts.c.id == account.id) | (accounts.c.shard_of == account.id))
                .group_by(postings.c.account_id)
            )
            return dict(rows.all())

    return runner(read())


def test_writers_spread_over_the_shards_and_holds_resolve_on_their_own_row(runner):
    fees, bank, _ = make_world(runner, sharded=True)
    now = runner.clock.now()
    runner.write(
        lambda s: ledger.post_batch(
            s, [EntrySpec.transfer(bank.id, fees.id, 10, unit="CNY", kind="fee") for _ in range(40)], now=now
        )
    )
    spread = stored_rows(runner, fees)
    assert len(spread) > 1 and sum(spread.values()) == 40  # P(all on one row) = 4 · 4⁻⁴⁰

    hold = runner.write(lambda s: ledger.hold(s, fees.id, bank.id, 70, unit="CNY", kind="refund", now=now))
    posted = runner.write(lambda s: ledger.post_hold(s, hold.id, amount=50, now=now))
    assert [p.account_id for p in posted.postings] == [p.account_id for p in hold.postings]

    async def stored(entry_id: uuid.UUID) -> set[uuid.UUID]:
        async with runner.db.read() as session:
            shown = await ledger.get_entry(session, entry_id)
            assert {p.account_id for p in shown.postings} == {fees.id, bank.id}
            query = select(postings.c.account_id).where(postings.c.entry_id == entry_id)
            return set((await session.execute(query)).scalars())

    assert runner(stored(hold.id)) == runner(stored(posted.id))  # the same rows, whichever shard it was
    reversed_ = runner.write(lambda s: ledger.reverse(s, posted.id, now=now))
    assert runner(stored(reversed_.id)) == runner(stored(posted.id))
    assert runner.balances([fees]) == [(50, 450, 0, 0)]  # 400 in, 50 out, 50 back

    async def trial() -> Any:
        async with runner.db.read() as session:
            return await ledger.trial_balance(session)

    totals = runner(trial())
    assert totals.balanced and sum(t.accounts for u in totals.units for t in u.types) == 3  # not 3 + shards

    runner.write(lambda s: ledger.close_account(s, fees.id, now=now))
    try:
        runner.write(lambda s: ledger.transfer(s, bank.id, fees.id, 5, unit="CNY", kind="fee", now=now))
    except AccountClosed:
        pass
    else:
        raise AssertionError("a closed sharded account took a posting")
    assert runner.verify().ok


def test_sharding_is_refused_for_no_overdraft_accounts_shards_and_fewer_shards(runner):
    fees, _, wallet = make_world(runner, sharded=True)
    now = runner.clock.now()

    def refusal(account_id: uuid.UUID, n: Any) -> DomainError:
        try:
            runner.write(lambda s: ledger.shard_account(s, account_id, shards=n, now=now))
        except DomainError as exc:
            return exc
        raise AssertionError("sharding was not refused")

    overdraft = refusal(wallet.id, 4)
    assert isinstance(overdraft, NotShardable) and overdraft.status == 422
    assert overdraft.errors[0]["field"] == "account_id" and "no_overdraft" in overdraft.detail

    async def a_shard() -> uuid.UUID:
        async with runner.db.read() as session:
            return (
                (await session.execute(select(accounts.c.id).where(accounts.c.shard_of == fees.id))).scalars().first()
            )

    nested = refusal(runner(a_shard()), 2)
    assert isinstance(nested, NotShardable) and "is a shard" in nested.detail
    fewer = refusal(fees.id, 2)
    assert isinstance(fewer, NotShardable) and fewer.errors[0]["field"] == "shards"
    silly = refusal(fees.id, 1)
    assert isinstance(silly, InvalidEntry) and silly.errors[0]["field"] == "shards"
    again = runner.write(lambda s: ledger.shard_account(s, fees.id, shards=SHARDS, now=now))  # idempotent
    assert again.id == fees.id and len(stored_rows(runner, fees)) == 0

    async def shard_count() -> int:
        async with runner.db.read() as session:
            query = select(func.count()).where(accounts.c.shard_of == fees.id)
            return (await session.execute(query)).scalar_one()

    assert runner(shard_count()) == SHARDS - 1


async def test_techx_ledger_shard(backend, db, clock, keys_dir):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    fees, wallet = await open_accounts(db, clock.now(), ("fees", "revenue", False), ("org", "liability", True))
    done = techx("ledger", "shard", fees.code, "8", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{fees.code} is in 8 shards" in done.stdout
    async with db.read() as session:
        codes = (await session.execute(select(accounts.c.code).where(accounts.c.shard_of == fees.id))).scalars()
        assert sorted(codes) == sorted(f"{fees.code}#{n}" for n in range(1, 8))
        assert [a.id for a in (await ledger.list_accounts(session, code_prefix=fees.code)).items] == [fees.id]
    refused = techx("ledger", "shard", wallet.code, "8", env=env)
    assert refused.returncode == 1 and "no_overdraft" in refused.stderr
