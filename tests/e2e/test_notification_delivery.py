"""A server killed with SIGKILL before it delivered what was committed delivers it after restart,
each email once: the outbox is in the database, the worker is not."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from exchange.notifications.models import Delivery
from exchange.parties.models import Org, User
from exchange.platform.clock import SystemClock
from exchange.platform.db import Database, create_engine
from exchange.platform.outbox import Audience, Kind, Subject, notify
from tests import delivery_helpers
from tests.e2e.conftest import Api, ServerProcess
from tests.helpers import PASSWORD, credit_code

pytestmark = pytest.mark.e2e

smtp_server = delivery_helpers.smtp_server


@pytest.fixture
def server_settings(smtp_server) -> dict[str, str]:
    return {
        "TECHX_NOTIFY_INTERVAL_SECONDS": "0",  # delivery off: what is committed waits in the outbox
        "TECHX_SMTP_HOST": smtp_server.host,
        "TECHX_SMTP_PORT": str(smtp_server.port),
        "TECHX_SMTP_STARTTLS": "false",
        "TECHX_MAIL_FROM": "TechX <noreply@techx.example>",
        "TECHX_PUBLIC_BASE_URL": "https://techx.example",
    }


def sign_up(api: Api) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.cn"
    body = api.sign_up(
        {
            "email": email,
            "password": PASSWORD,
            "display_name": "测试用户",
            "org": {"name": "测试机构", "credit_code": credit_code(), "kind": "enterprise"},
        }
    )
    return {"email": email, "user_id": body["user"]["id"], "org_id": body["org"]["id"]}


def count_outbox_emails_of_sign_ups(server: ServerProcess, sign_ups: int) -> int:
    """One confirmation mail per sign-up, and one notice per sign-up to each operator."""

    async def run() -> int:
        db = Database(create_engine(server.database_url, pool_size=1))
        try:
            async with db.read() as session:
                operators = select(func.count()).select_from(User).join(Org, Org.id == User.org_id)
                return int(await session.scalar(operators.where(Org.kind == "operator")) or 0)
        finally:
            await db.dispose()

    return sign_ups * (1 + asyncio.run(run()))


def commit_events(database_url: str, users: list[dict[str, str]]) -> int:
    """Notifications written as a module writes them, in transactions of their own; how many emails they make."""

    async def run() -> None:
        db = Database(create_engine(database_url, pool_size=1))
        try:
            for user in users:
                uid = uuid.UUID(user["user_id"])

                async def work(session, uid=uid):
                    now = SystemClock().now()
                    notify(
                        session,
                        Kind.DEAL_SETTLED,
                        to=Audience(users=(uid,)),
                        now=now,
                        subject=Subject("deal", uuid.uuid4()),
                        data={"listing_title": "一种锂电池隔膜", "price_fen": 123_600_000},
                    )
                    notify(session, Kind.OUTBID, to=Audience(users=(uid,)), now=now, data={"listing_title": "隔膜"})

                await db.transaction(work)
            await db.transaction(lambda s: _reset(s, SystemClock().now()))
        finally:
            await db.dispose()

    asyncio.run(run())
    return 2 * len(users) + 1


async def _reset(session, now):
    notify(session, Kind.PASSWORD_RESET, to=Audience(emails=("reset@example.cn",)), now=now, data={"token": "tok"})


def deliveries(database_url: str) -> list[Delivery]:
    async def run() -> list[Delivery]:
        db = Database(create_engine(database_url, pool_size=1))
        try:
            async with db.read() as session:
                return list(await session.scalars(select(Delivery)))
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_a_server_killed_before_delivering_delivers_after_restart_each_email_once(
    server: ServerProcess, api: Api, smtp_server
):
    users = [sign_up(api) for _ in range(3)]
    # The sign-ups' own mail (the confirmation, the operators' notice) waits in the outbox too.
    expected = commit_events(server.database_url, users) + count_outbox_emails_of_sign_ups(server, len(users))
    time.sleep(0.3)  # the server would have had time to deliver, if delivery were on
    assert smtp_server.mailbox.messages == []

    server.kill()
    server.env["TECHX_NOTIFY_INTERVAL_SECONDS"] = "0.2"
    server.start()

    messages = smtp_server.mailbox.wait_for(expected, timeout=30)
    assert len(messages) == expected
    time.sleep(1.0)  # several more passes of the worker: nothing is sent twice
    messages = smtp_server.mailbox.messages
    ids = Counter(m["Message-ID"] for m in messages)
    assert len(messages) == expected and all(n == 1 for n in ids.values())
    for user in users:
        kinds = sorted(str(m["TechX-Kind"]) for m in smtp_server.mailbox.to(user["email"]))
        assert kinds == ["account.email_confirmation", "auction.outbid", "deal.settled"]
        subjects = {str(m["Subject"]) for m in smtp_server.mailbox.to(user["email"])}
        assert {"交易已结算：一种锂电池隔膜", "您的出价已被超过：隔膜"} <= subjects
    [reset] = smtp_server.mailbox.to("reset@example.cn")
    assert "https://techx.example/password-reset?token=tok" in delivery_helpers.body_text(reset)
    rows = deliveries(server.database_url)
    assert sorted(d.status for d in rows) == ["sent"] * expected
    assert {f"<{d.id}@techx.example>" for d in rows} == set(ids)
