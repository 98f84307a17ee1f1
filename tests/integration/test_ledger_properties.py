"""Properties of the ledger on a real database, with hypothesis.

* conservation: every account balance is the sum of its postings and every unit sums to zero;
* no_overdraft is never violated, whatever is attempted;
* an idempotent replay changes nothing;
* a state machine interleaves holds, partial posts, voids, expiries, reversals and batches and
  compares every balance with a small in-memory model after every step.

Hypothesis drives synchronous code, so each test runs the ledger on its own event loop and engine.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from ledger import seal, service, store
from ledger import service as ledger
from ledger.domain import MAX_AMOUNT, Book, EntrySpec, PostingSpec, Side, check_entry, entry_legs
from ledger.errors import (
    AlreadyPosted,
    AlreadyReversed,
    AlreadyVoided,
    DomainError,
    ExceedsPendingAmount,
    Expired,
    InsufficientFunds,
)
from tests.conftest import START

T = TypeVar("T")
DB_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


class Runner:
    """A database and an event loop of its own, driven from synchronous code."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(create_engine(url, pool_size=2))
        self.clock = ManualClock(START)

    def __call__(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def write(self, operation: Any) -> Any:
        return self(self.db.transaction(operation))

    def close(self) -> None:
        self(self.db.dispose())
        self.loop.close()

    def accounts(self, n_wallets: int) -> list[Any]:
        now = self.clock.now()

        async def work(session: Any) -> list[Any]:
            made = [
                await ledger.create_account(session, code=f"bank:{uuid.uuid4().hex}", unit="CNY", type="asset", now=now)
            ]
            for _ in range(n_wallets):
                made.append(
                    await ledger.create_account(
                        session,
                        code=f"org:{uuid.uuid4().hex}:cash",
                        unit="CNY",
                        type="liability",
                        no_overdraft=True,
                        now=now,
                    )
                )
            return made

        return self.write(work)

    def balances(self, accounts: list[Any]) -> list[tuple[int, int, int, int]]:
        async def read() -> list[tuple[int, int, int, int]]:
            async with self.db.read() as session:
                rows = [await ledger.get_account(session, a.id) for a in accounts]
            return [r.balances() for r in rows]

        return self(read())

    def available(self, accounts: list[Any]) -> list[int]:
        async def read() -> list[int]:
            async with self.db.read() as session:
                return [(await ledger.get_account(session, a.id)).available for a in accounts]

        return self(read())

    def verify(self) -> seal.Report:
        async def read() -> seal.Report:
            async with self.db.read() as session:
                return await seal.verify(session, public_keys={})

        return self(read())


@pytest.fixture
def runner(backend):
    run = Runner(backend.url)
    yield run
    run.close()


operations = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "hold", "post", "void"]),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(1, 400),
    ),
    min_size=1,
    max_size=25,
)


@DB_SETTINGS
@given(moves=operations)
def test_money_is_conserved_and_never_overdrawn(runner, moves):
    accounts = runner.accounts(3)
    bank = accounts[0]
    runner.write(
        lambda s: ledger.post_batch(
            s,
            [EntrySpec.transfer(bank.id, a.id, 500, unit="CNY", kind="top_up") for a in accounts[1:]],
            now=runner.clock.now(),
        )
    )
    holds: list[Any] = []
    for kind, i, j, amount in moves:
        a, b = accounts[i], accounts[j]
        try:
            if kind == "transfer" and a != b:
                runner.write(
                    lambda s, a=a, b=b, n=amount: ledger.transfer(
                        s, a.id, b.id, n, unit="CNY", kind="t", now=runner.clock.now()
                    )
                )
            elif kind == "hold" and a != b:
                hold = runner.write(
                    lambda s, a=a, b=b, n=amount: ledger.hold(
                        s, a.id, b.id, n, unit="CNY", kind="h", now=runner.clock.now()
                    )
                )
                holds.append(hold)
            elif kind == "post" and holds:
                hold = holds[i % len(holds)]
                runner.write(lambda s, h=hold, n=amount: ledger.post_hold(s, h.id, amount=n, now=runner.clock.now()))
            elif kind == "void" and holds:
                hold = holds[i % len(holds)]
                runner.write(lambda s, h=hold: ledger.void_hold(s, h.id, now=runner.clock.now()))
        except DomainError:
            pass
        assert all(available >= 0 for available in runner.available(accounts[1:]))
    report = runner.verify()
    assert report.ok, report.discrepancy  # balances = Σ postings, every entry balanced, each unit sums to zero


@DB_SETTINGS
@given(amounts=st.lists(st.integers(1, 300), min_size=1, max_size=8), hold_first=st.booleans())
def test_an_idempotent_replay_changes_nothing(runner, amounts, hold_first):
    bank, wallet, other = runner.accounts(2)
    runner.write(
        lambda s: ledger.transfer(s, bank.id, wallet.id, 1000, unit="CNY", kind="top_up", now=runner.clock.now())
    )
    prefix = uuid.uuid4().hex
    for index, amount in enumerate(amounts):
        key = f"{prefix}:{index}"

        def operation(s, amount=amount, key=key):
            if hold_first:
                return ledger.hold(
                    s, wallet.id, other.id, amount, unit="CNY", kind="h", now=runner.clock.now(), idempotency_key=key
                )
            return ledger.transfer(
                s, wallet.id, other.id, amount, unit="CNY", kind="t", now=runner.clock.now(), idempotency_key=key
            )

        try:
            first = runner.write(operation)
        except InsufficientFunds:
            continue
        after_first = runner.balances([bank, wallet, other])
        runner.clock.advance(timedelta(seconds=1))
        replay = runner.write(operation)
        assert replay.replayed and replay.id == first.id and replay.postings == first.postings
        assert runner.balances([bank, wallet, other]) == after_first


# -- the state machine ---------------------------------------------------------------------------------


@dataclass
class ModelHold:
    debit: int
    credit: int
    amount: int
    expires_at: Any
    state: str = "pending"


@dataclass
class Model:
    """Four balances per account, kept the simple way."""

    accounts: list[list[int]]  # [debits_posted, credits_posted, debits_pending, credits_pending]
    limited: list[bool]  # no_overdraft (all credit-normal wallets here; index 0 is the bank)
    reversible: dict[Any, list[tuple[int, str, int]]] = field(default_factory=dict)

    def available(self, i: int, balances: list[list[int]] | None = None) -> int:
        dp, cp, dq, _ = (balances or self.accounts)[i]
        return cp - dp - dq

    def try_apply(self, legs: list[tuple[int, str, int, int]]) -> bool:
        """legs: (account, side, posted_delta, pending_delta). False (and no change) if it would overdraw."""
        after = [row[:] for row in self.accounts]
        for i, side, posted, pending in legs:
            offset = 0 if side == "debit" else 1
            after[i][offset] += posted
            after[i][offset + 2] += pending
        for i in {leg[0] for leg in legs}:
            if self.limited[i] and self.available(i, after) < 0 and self.available(i, after) < self.available(i):
                return False
        self.accounts = after
        return True


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""
    holds = Bundle("holds")
    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.run = Runner(self.url)
        self.ids = self.run.accounts(3)
        self.model = Model([[0, 0, 0, 0] for _ in self.ids], [False, True, True, True])
        self.model_holds: dict[Any, ModelHold] = {}
        for wallet in (1, 2, 3):  # every wallet starts with some money, so that holds and payments go through
            self.top_up(wallet, 1000)

    def teardown(self) -> None:
        self.run.close()

    def now(self) -> Any:
        return self.run.clock.now()

    @rule(target=entries, to=st.integers(1, 3), amount=st.integers(1, 1000))
    def top_up(self, to, amount):
        entry = self.run.write(
            lambda s: ledger.transfer(
                s, self.ids[0].id, self.ids[to].id, amount, unit="CNY", kind="top_up", now=self.now()
            )
        )
        assert self.model.try_apply([(0, "debit", amount, 0), (to, "credit", amount, 0)])
        self.model.reversible[entry.id] = [(0, "debit", amount), (to, "credit", amount)]
        return entry.id

    @rule(target=entries, source=st.integers(1, 3), to=st.integers(0, 3), amount=st.integers(1, 800))
    def pay(self, source, to, amount):
        if source == to:
            return None
        legs = [(source, "debit", amount, 0), (to, "credit", amount, 0)]
        allowed = self.model.try_apply(legs)
        try:
            entry = self.run.write(
                lambda s: ledger.transfer(
                    s, self.ids[source].id, self.ids[to].id, amount, unit="CNY", kind="pay", now=self.now()
                )
            )
        except InsufficientFunds:
            assert not allowed
            return None
        assert allowed
        self.model.reversible[entry.id] = [(source, "debit", amount), (to, "credit", amount)]
        return entry.id

    @rule(
        target=holds,
        source=st.integers(1, 3),
        to=st.integers(0, 3),
        amount=st.integers(1, 800),
        timeout=st.sampled_from([None, 30, 120]),
    )
    def hold(self, source, to, amount, timeout):
        if source == to:
            return None
        allowed = self.model.try_apply([(source, "debit", 0, amount), (to, "credit", 0, amount)])
        try:
            entry = self.run.write(
                lambda s: ledger.hold(
                    s,
                    self.ids[source].id,
                    self.ids[to].id,
                    amount,
                    unit="CNY",
                    kind="hold",
                    now=self.now(),
                    timeout_seconds=timeout,
                )
            )
        except InsufficientFunds:
            assert not allowed
            return None
        assert allowed
        self.model_holds[entry.id] = ModelHold(source, to, amount, entry.expires_at)
        return entry.id

    def _expected_refusal(self, hold: ModelHold) -> type[DomainError] | None:
        if hold.state == "posted":
            return AlreadyPosted
        if hold.state == "voided":
            return AlreadyVoided
        if hold.state == "expired" or (hold.expires_at is not None and self.now() >= hold.expires_at):
            return Expired
        return None

    @rule(target=entries, hold_id=holds, share=st.sampled_from([None, 1, 2, 3, 4, 5]))
    def post(self, hold_id, share):
        if hold_id is None:
            return None
        hold = self.model_holds[hold_id]
        amount = None if share is None else max(1, hold.amount * share // 4)  # share 5 asks for more than held
        expected = self._expected_refusal(hold) or (
            ExceedsPendingAmount if amount is not None and amount > hold.amount else None
        )
        try:
            entry = self.run.write(lambda s: ledger.post_hold(s, hold_id, amount=amount, now=self.now()))
        except DomainError as refused:
            assert expected is not None and isinstance(refused, expected), (refused, expected)
            return None
        assert expected is None
        posted = hold.amount if amount is None else amount
        assert self.model.try_apply(
            [(hold.debit, "debit", posted, -hold.amount), (hold.credit, "credit", posted, -hold.amount)]
        )
        hold.state = "posted"
        self.model.reversible[entry.id] = [(hold.debit, "debit", posted), (hold.credit, "credit", posted)]
        return entry.id

    @rule(hold_id=holds)
    def void(self, hold_id):
        if hold_id is None:
            return
        hold = self.model_holds[hold_id]
        expected = self._expected_refusal(hold)
        try:
            self.run.write(lambda s: ledger.void_hold(s, hold_id, now=self.now()))
        except DomainError as refused:
            assert expected is not None and isinstance(refused, expected), (refused, expected)
            return
        assert expected is None
        assert self.model.try_apply([(hold.debit, "debit", 0, -hold.amount), (hold.credit, "credit", 0, -hold.amount)])
        hold.state = "voided"

    @rule(seconds=st.sampled_from([10, 30, 60, 121]))
    def time_passes(self, seconds):
        self.run.clock.advance(timedelta(seconds=seconds))

    @rule()
    def expiry_sweep(self):
        expired = self.run.write(lambda s: ledger.expire_due_holds(s, now=self.now()))
        due = [
            h
            for h in self.model_holds.values()
            if h.state == "pending" and h.expires_at is not None and self.now() >= h.expires_at
        ]
        assert expired >= len(due)  # holds left by earlier examples in the same database expire too
        for hold in due:
            assert self.model.try_apply(
                [(hold.debit, "debit", 0, -hold.amount), (hold.credit, "credit", 0, -hold.amount)]
            )
            hold.state = "expired"

    @rule(entry_id=consumes(entries))
    def reverse(self, entry_id):
        if entry_id is None:
            return
        legs = self.model.reversible.pop(entry_id)
        mirrored = [(i, "credit" if side == "debit" else "debit", amount, 0) for i, side, amount in legs]
        allowed = self.model.try_apply(mirrored)
        try:
            self.run.write(lambda s: ledger.reverse(s, entry_id, now=self.now()))
        except InsufficientFunds:
            assert not allowed
            return
        except AlreadyReversed:
            raise AssertionError("an entry was reversed twice") from None
        assert allowed

    @rule(
        pairs=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 3), st.integers(1, 500)), min_size=1, max_size=5),
        atomic=st.booleans(),
    )
    def batch(self, pairs, atomic):
        pairs = [(a, b, n) for a, b, n in pairs if a != b]
        if not pairs:
            return
        specs = [EntrySpec.transfer(self.ids[a].id, self.ids[b].id, n, unit="CNY", kind="batch") for a, b, n in pairs]
        saved = [row[:] for row in self.model.accounts]
        outcomes = [self.model.try_apply([(a, "debit", n, 0), (b, "credit", n, 0)]) for a, b, n in pairs]
        if atomic and not all(outcomes):
            self.model.accounts = saved
        try:
            result = self.run.write(lambda s: ledger.post_batch(s, specs, atomic=atomic, now=self.now()))
        except InsufficientFunds:
            assert atomic and not all(outcomes)
            return
        assert [item.status == 201 for item in result.results] == outcomes

    @invariant()
    def balances_match_the_model(self):
        assert [list(b) for b in self.run.balances(self.ids)] == self.model.accounts

    @invariant()
    def no_wallet_is_overdrawn(self):
        assert all(self.model.available(i) >= 0 for i in (1, 2, 3))


def test_the_ledger_behaves_like_its_model(backend):
    LedgerMachine.url = backend.url
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    runner = Runner(backend.url)
    try:
        report = runner.verify()
    finally:
        runner.close()
    assert report.ok, report.discrepancy


# -- the one statement for new entries and the rules ---------------------------------------------------

# Five accounts: a bank with no limit, two wallets that may not be overdrawn, a wallet in another
# unit and a closed one. Amounts run from small to the largest a balance may hold, so that the
# bounds of both are reached.
amount = st.one_of(st.integers(1, 600), st.integers(MAX_AMOUNT - 600, MAX_AMOUNT))
leg = st.tuples(st.integers(0, 4), st.integers(0, 4), amount)
entries = st.lists(
    st.tuples(st.sampled_from(["CNY", "CNY", "CNY", "VCH"]), st.booleans(), st.lists(leg, min_size=1, max_size=3)),
    min_size=1,
    max_size=14,
)


def _spec(unit: str, pending: bool, legs: list[tuple[int, int, int]], ids: list[Any]) -> EntrySpec:
    """A balanced entry: each leg moves its amount from one account to another (a hold has one leg)."""
    if pending:
        (i, j, n), *_ = legs
        return EntrySpec.transfer(ids[i], ids[j], n, unit=unit, kind="h", pending=True)
    postings = [
        p for i, j, n in legs for p in (PostingSpec(ids[i], Side.DEBIT, n), PostingSpec(ids[j], Side.CREDIT, n))
    ]
    return EntrySpec(unit=unit, kind="t", postings=tuple(postings))


def _stricter_shape(spec: EntrySpec, book: Book) -> bool:
    """Entries the statement declines although the rules accept them (then the rules decide):
    an account that may not be overdrawn posted more than once, or already below zero."""
    counts = Counter(p.account_id for p in spec.postings)
    limited = [book.accounts[a] for a in counts if a in book.accounts and book.accounts[a].no_overdraft]
    return any(counts[a.id] > 1 or a.available < 0 for a in limited)


@pytest.fixture
def pg_runner(pg_backend):
    run = Runner(pg_backend.url)
    yield run
    run.close()


@pytest.mark.postgres_only
@DB_SETTINGS
@given(history=entries)
def test_the_one_statement_writes_only_what_the_rules_accept_with_the_same_balances(pg_runner, history):
    runner = pg_runner
    now = runner.clock.now()

    async def open_(session: Any) -> list[Any]:
        made = []
        for code, unit, type_, limited in [
            (f"bank:{uuid.uuid4().hex}", "CNY", "asset", False),
            (f"org:{uuid.uuid4().hex}:cash", "CNY", "liability", True),
            (f"org:{uuid.uuid4().hex}:cash", "CNY", "liability", True),
            (f"org:{uuid.uuid4().hex}:vouchers", "VCH", "liability", True),
            (f"org:{uuid.uuid4().hex}:old", "CNY", "liability", False),
        ]:
            made.append(
                await ledger.create_account(session, code=code, unit=unit, type=type_, no_overdraft=limited, now=now)
            )
        await ledger.close_account(session, made[4].id, now=now)
        return made

    accounts = runner.write(open_)
    ids = [a.id for a in accounts]
    runner.write(lambda s: ledger.transfer(s, ids[0], ids[1], 1_000, unit="CNY", kind="top_up", now=now))
    model = Book(runner(_states(runner, ids)).values())

    for unit, pending, legs in history:
        spec = _spec(unit, pending, legs, ids)
        try:
            check_entry(spec)
        except DomainError:
            continue  # refused before any account is read, on both ways alike
        trial = Book(copy.deepcopy(list(model.accounts.values())))
        try:
            trial.apply(spec.unit, entry_legs(spec))
            refusal = None
        except DomainError as exc:
            refusal = exc
        draft, _, stored = service._entry_to_write(spec, now, None)

        async def alone(draft=draft, stored=stored) -> Any:
            async with runner.db.driver() as connection:
                return await store.write_new_entries_alone(
                    connection, service._writes(None, [draft], stored), {draft.view.id: draft.view.unit}
                )

        outcome = runner(alone())
        if outcome.claimed:
            assert refusal is None, f"the statement wrote what the rules refuse: {refusal}"
            assert runner(_states(runner, ids)) == {a.id: a for a in trial.accounts.values()}
            model = trial
            continue
        assert runner(_states(runner, ids)) == {a.id: a for a in model.accounts.values()}, "a declined entry wrote"
        if refusal is None:
            assert _stricter_shape(spec, model), f"the statement declined what the rules accept: {spec}"
            runner.write(lambda s, spec=spec: ledger.post_entry(s, spec, now=now))  # the general way writes it
            model = trial
        else:  # the general way refuses it alike
            with pytest.raises(type(refusal)):
                runner(ledger.post_entry_alone(runner.db, spec, now=now))
    assert runner(_states(runner, ids)) == {a.id: a for a in model.accounts.values()}


async def _states(runner: Runner, ids: list[Any]) -> dict[Any, Any]:
    async with runner.db.read() as session:
        return {i: await ledger.get_account(session, i) for i in ids}
