"""Idempotent writes: one effect per key, replays answer the same, failures store nothing."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind
from exchange.parties.models import Org
from exchange.platform.keyed import IdempotencyRecord, Outcome, idempotent, key_scope, required_key
from kernel.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from tests.helpers import credit_code


async def org_count(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Org))


def registering(code: str, clock, fail: bool = False):
    async def work(session):
        _, org = await parties.register(
            session,
            email=f"{code.lower()}@example.cn",
            password_hash="x",
            display_name="A",
            org_name="Org",
            credit_code=code,
            kind=OrgKind.ENTERPRISE,
            now=clock.now(),
        )
        if fail:
            raise RuntimeError("refused after writing")
        return Outcome(201, {"org_id": str(org.id)})

    return work


async def test_same_key_and_request_replays_the_original_answer(db, clock):
    code = credit_code()
    first = await idempotent(
        db, scope="org:1", key="k1", request={"code": code}, now=clock.now, work=registering(code, clock)
    )
    second = await idempotent(
        db, scope="org:1", key="k1", request={"code": code}, now=clock.now, work=registering(code, clock)
    )
    assert not first.replayed and second.replayed
    assert second.body == first.body and second.status_code == 201
    assert second.headers == {"Idempotent-Replayed": "true"}
    assert await org_count(db) == 1


async def test_same_key_with_another_request_is_refused(db, clock):
    code = credit_code()
    await idempotent(db, scope="org:1", key="k2", request={"code": code}, now=clock.now, work=registering(code, clock))
    other = credit_code()
    with pytest.raises(IdempotencyKeyReused):
        await idempotent(
            db, scope="org:1", key="k2", request={"code": other}, now=clock.now, work=registering(other, clock)
        )
    # Keys are scoped: another organisation may use the same key for its own request.
    await idempotent(
        db, scope="org:2", key="k2", request={"code": other}, now=clock.now, work=registering(other, clock)
    )
    assert await org_count(db) == 2


async def test_a_failed_request_stores_nothing_and_its_key_can_be_used_again(db, clock):
    code = credit_code()
    with pytest.raises(RuntimeError):
        await idempotent(
            db, scope="org:1", key="k3", request={"code": code}, now=clock.now, work=registering(code, clock, fail=True)
        )
    assert await org_count(db) == 0
    done = await idempotent(
        db, scope="org:1", key="k3", request={"code": code}, now=clock.now, work=registering(code, clock)
    )
    assert not done.replayed and await org_count(db) == 1


@pytest.mark.postgres_only
async def test_concurrent_requests_with_one_key_take_effect_once(pg_backend, clock):
    from exchange.platform.db import Database, create_engine

    db = Database(create_engine(pg_backend.url, pool_size=10))
    try:
        # Ten requests race with one key and one request body; the work is the same each time.
        code = credit_code()
        outcomes = await asyncio.gather(
            *(
                idempotent(
                    db,
                    scope="org:race",
                    key="same",
                    request={"code": code},
                    now=clock.now,
                    work=registering(code, clock),
                )
                for _ in range(10)
            ),
            return_exceptions=True,
        )
        answers = [o for o in outcomes if isinstance(o, Outcome)]
        assert len(answers) == 10, outcomes
        assert len({a.body["org_id"] for a in answers}) == 1
        assert sum(not a.replayed for a in answers) == 1
        assert await org_count(db) == 1
    finally:
        await db.dispose()


async def test_an_integrity_error_of_the_work_is_not_taken_for_a_clash_of_keys(db, clock):
    """Only the key's own unique index means "this key is taken": the work's own constraint
    violations surface as themselves and store nothing."""
    code = credit_code()
    await idempotent(db, scope="org:1", key="k4", request={"code": code}, now=clock.now, work=registering(code, clock))

    async def duplicate_org(session):
        session.add(
            Org(
                name="Twin",
                credit_code=code,
                kind="enterprise",
                verified=False,
                status="active",
                created_at=clock.now(),
            )
        )
        return Outcome(201, {})

    with pytest.raises(IntegrityError):
        await idempotent(db, scope="org:1", key="k5", request={}, now=clock.now, work=duplicate_org)
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert stored == 1 and await org_count(db) == 1


def test_the_scope_rule_puts_operators_apart_and_members_together():
    org, other_org = uuid.uuid4(), uuid.uuid4()
    alice = SimpleNamespace(user_id=uuid.uuid4(), org_id=org, is_operator=False)
    bob = SimpleNamespace(user_id=uuid.uuid4(), org_id=org, is_operator=False)
    carol = SimpleNamespace(user_id=uuid.uuid4(), org_id=other_org, is_operator=False)
    op1 = SimpleNamespace(user_id=uuid.uuid4(), org_id=other_org, is_operator=True)
    op2 = SimpleNamespace(user_id=uuid.uuid4(), org_id=other_org, is_operator=True)
    assert key_scope(alice) == key_scope(bob) == f"org:{org}"
    assert key_scope(carol) != key_scope(alice)
    assert key_scope(op1) != key_scope(op2) and key_scope(op1) == f"operator:{op1.user_id}"


def test_keys_are_required_and_bounded():
    assert required_key("abc") == "abc"
    for bad in (None, "", "   ", "x" * 256):
        with pytest.raises(IdempotencyKeyRequired):
            required_key(bad)
