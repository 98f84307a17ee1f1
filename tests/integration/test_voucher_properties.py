"""Random voucher histories keep every invariant (hypothesis, on both databases).

Grants, orders, confirmations, deliveries, acceptances, cancellations, redemption claims,
approvals, rejections, exchange fees paid with vouchers, the passing of time (notices close, the
program ends) and revocation are drawn at random; refused steps must leave nothing behind. After
every step the program's figures satisfy SPEC §4's invariants and agree with the ledger's
balances and the wallets' counters.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind, OrgStatus, Principal, Role
from exchange.platform.clock import ManualClock
from exchange.platform.db import Database, create_engine
from exchange.platform.keys import Keys, Signer
from exchange.platform.settings import Settings
from exchange.server.modules import build_modules
from exchange.vouchers import BrokerageFeeVouchers, controls, orders, programs, redemptions, reports
from exchange.vouchers.domain import Category
from exchange.vouchers.models import FeePayment, VoucherWallet
from kernel.errors import DomainError
from ledger import LedgerError
from ledger import service as ledger
from listings import ListingError
from tests.conftest import START
from tests.helpers import credit_code

KEYS = Keys.single(Signer(Ed25519PrivateKey.generate()), jwt_secret="unused", data_key=bytes(32))
REFUSALS = (DomainError, LedgerError, ListingError)


@dataclass
class World:
    gov: Principal
    ents: list[Principal]
    prov: Principal
    ops: Principal
    program_id: uuid.UUID
    service_id: uuid.UUID
    orders: list[uuid.UUID] = field(default_factory=list)
    claims: list[uuid.UUID] = field(default_factory=list)


def principal(user: Any, org: Any, kind: OrgKind) -> Principal:
    return Principal(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role.ADMIN,
        org_id=org.id,
        org_name=org.name,
        org_kind=kind,
        org_verified=True,
        org_status=OrgStatus.ACTIVE,
    )


class Runner:
    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(create_engine(url, pool_size=2))
        self.clock = ManualClock(START)
        self.modules = build_modules(Settings.from_env(env={}), KEYS, events=None)
        self.outcomes: Counter[str] = Counter()  # what was done and refused, for reading a failing example

    def __call__(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def write(self, operation: Any) -> Any:
        return self(self.db.transaction(operation))

    def close(self) -> None:
        self(self.db.dispose())
        self.loop.close()

    def world(self) -> World:
        now = self.clock.now()

        async def make(session: Any) -> World:
            async def party(kind: OrgKind) -> Principal:
                user, org = await parties.register(
                    session,
                    email=f"{uuid.uuid4().hex[:12]}@example.cn",
                    password_hash="x",
                    display_name="测试",
                    org_name=f"{kind.value} {uuid.uuid4().hex[:6]}",
                    credit_code=credit_code(),
                    kind=kind,
                    now=now,
                    verified=True,
                )
                return principal(user, org, kind)

            gov = await party(OrgKind.GOVERNMENT)
            ents = [await party(OrgKind.ENTERPRISE), await party(OrgKind.ENTERPRISE)]
            prov = await party(OrgKind.SERVICE_PROVIDER)
            ops = await party(OrgKind.ENTERPRISE)  # stands in for an operator below
            ops = replace(ops, org_kind=OrgKind.OPERATOR)
            terms = programs.ProgramTerms(
                name="随机创新券",
                year=2026,
                budget=20_000_000,
                categories=(Category.TESTING, Category.BROKERAGE),
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=30),
                per_org_cap=12_000_000,
                coverage_bp=5000,
            )
            program = await programs.create_program(session, gov, terms, now)
            await programs.fund(session, ops, program.id, 6_000_000, "BANK-1", now)
            service = await orders.publish_service(
                session, prov, category=Category.TESTING, title="检测", description="", price=4_000_000, now=now
            )
            for ent in ents:
                await programs.grant(session, gov, program.id, ent.org_id, 3_000_000, "", now)
                bank = await ledger.get_or_create_account(session, "bank:settlement", "CNY", "asset", now=now)
                cash = await ledger.get_or_create_account(
                    session, f"org:{ent.org_id}:cash", "CNY", "liability", True, now=now
                )
                await ledger.transfer(session, bank.id, cash.id, 12_000_000, unit="CNY", kind="top_up", now=now)
            return World(gov, ents, prov, ops, program.id, service.id)

        return self.write(make)

    def step(self, world: World, op: str, who: int, size: int) -> None:
        now = self.clock.now()
        ent = world.ents[who % 2]
        pick = world.orders[who % len(world.orders)] if world.orders else uuid.uuid4()

        async def work(session: Any) -> None:
            if op == "grant":
                await programs.grant(session, world.gov, world.program_id, ent.org_id, size * 1_000_000, "", now)
            elif op == "order":
                placed = await orders.place_order(
                    session, ent, service_id=world.service_id, voucher_amount=size * 500_000, program_id=None, now=now
                )
                world.orders.append(placed.id)
            elif op == "confirm":
                await orders.confirm(session, world.prov, pick, now)
            elif op == "deliver":
                await orders.deliver(session, world.prov, pick, "报告", now)
            elif op == "accept":
                buyer = (await orders.get_order(session, world.ops, pick)).buyer_org_id
                await orders.accept(session, next(e for e in world.ents if e.org_id == buyer), pick, now)
            elif op == "cancel":
                await orders.cancel(session, world.prov, pick, "", now, credit_context=self.modules.credit)
            elif op == "claim":
                chosen = world.orders[who % max(1, len(world.orders)) :][:size]
                claim = await redemptions.claim(session, self.modules.listings, world.prov, chosen, now)
                world.claims.append(claim.id)
            elif op in ("approve", "reject") and not world.claims:
                raise DomainError("no claim yet")
            elif op == "approve":
                await redemptions.approve(session, world.gov, world.claims[who % len(world.claims)], now)
            elif op == "reject":
                await redemptions.reject(session, world.gov, world.claims[who % len(world.claims)], "不符合", now)
            elif op == "fee":
                fee = size * 1_000_000
                await BrokerageFeeVouchers().pay_fee(
                    session, buyer_org_id=ent.org_id, fee=fee, deal_id=uuid.uuid4(), now=now
                )
            elif op == "revoke":
                await controls.revoke_provider(
                    session,
                    world.gov,
                    world.program_id,
                    world.prov.org_id,
                    "骗补",
                    now,
                    credit_context=self.modules.credit,
                )

        if op in ("days", "end"):
            self.clock.advance(timedelta(days=8 if op == "days" else 40))
            self(self.modules.sweeper.run_once(self.db, self.clock.now()))
            return
        try:
            self.write(work)
        except REFUSALS as refused:  # refused whole: the checks after each step show nothing was half-written
            self.outcomes[f"{op}: {type(refused).__name__}"] += 1
        else:
            self.outcomes[op] += 1

    def check(self, world: World) -> None:
        async def read() -> None:
            async with self.db.read() as session:
                program = await programs.get_program(session, world.program_id)
                figures = await reports.program_figures(session, program)
                assert figures.broken_invariants() == [], figures

                async def posted(code: str) -> tuple[int, int]:
                    account = await ledger.account_by_code(session, code)
                    return (account.balance, account.pending_outflow) if account else (0, 0)

                held_out = 0
                for ent in world.ents:
                    wallet = await session.scalar(
                        select(VoucherWallet).where(
                            VoucherWallet.program_id == program.id, VoucherWallet.org_id == ent.org_id
                        )
                    )
                    balance, pending = await posted(f"org:{ent.org_id}:vouchers")
                    granted = wallet.granted if wallet else 0
                    spent_or_gone = (wallet.spent + wallet.expired) if wallet else 0
                    assert balance == granted - spent_or_gone
                    assert pending == (wallet.held if wallet else 0)
                    assert wallet is None or wallet.available >= 0
                    held_out += balance
                received, _ = await posted(f"org:{world.prov.org_id}:vouchers_received")
                fees = await session.scalar(
                    select(func.coalesce(func.sum(FeePayment.amount), 0)).where(FeePayment.program_id == program.id)
                )
                # Fee vouchers sit with the exchange: still out, not yet redeemed.
                assert figures.outstanding == held_out + received + fees
                funding, _ = await posted(f"program:{program.id}:funding")
                assert funding == figures.funded - figures.redeemed >= 0
                assert figures.spent == figures.redeemed + received + figures.revoked + fees

        self(read())


@pytest.fixture
def runner(backend):
    run = Runner(backend.url)
    yield run
    run.close()


# The common steps twice as likely as the rarer ones.
OPERATIONS = [*("grant", "order", "confirm", "deliver", "accept") * 2]
OPERATIONS += ["cancel", "claim", "approve", "reject", "fee", "days", "end", "revoke"]

STEPS = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(0, 7),
        st.integers(1, 6),
    ),
    min_size=1,
    max_size=40,
)


HAPPY_PATH = [
    ("order", 0, 2), ("confirm", 0, 1), ("deliver", 0, 1), ("accept", 0, 1), ("claim", 0, 1), ("days", 0, 1),
    ("approve", 0, 1), ("order", 1, 4), ("confirm", 1, 1), ("order", 1, 3), ("confirm", 2, 1), ("deliver", 2, 1),
    ("accept", 2, 1), ("end", 0, 1), ("cancel", 1, 1), ("days", 0, 1), ("revoke", 0, 1),
]  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=STEPS)
@example(steps=HAPPY_PATH)
def test_random_voucher_histories_keep_every_invariant(runner, steps):
    runner.clock.set(START)
    world = runner.world()
    runner.check(world)
    for op, who, size in steps:
        runner.step(world, op, who, size)
        runner.check(world)
