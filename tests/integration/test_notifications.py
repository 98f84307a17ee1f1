"""The notifications worker on both databases: outbox rows expanded once into inbox items and
deliveries for the right people, emails read from a real local SMTP server, signed webhooks
received by a real local HTTP server, retries with back-off on the exchange clock, claims and
leases, tokens erased once delivered."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from exchange.notifications import delivery as worker
from exchange.notifications import webhooks
from exchange.notifications.delivery import Notifier
from exchange.notifications.domain import LEASE
from exchange.notifications.models import Delivery, InboxItem, Preference
from exchange.notifications.texts import Texts
from exchange.parties.models import User
from exchange.platform.keys import Keys, load_or_create_keys
from exchange.platform.outbox import OPERATORS, Audience, Kind, OutboxEvent, Subject, notify
from tests import delivery_helpers
from tests.conftest import make_settings
from tests.delivery_helpers import body_text, new_org

smtp_server = delivery_helpers.smtp_server
hook_server = delivery_helpers.hook_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def keys(backend, keys_dir) -> Keys:
    return load_or_create_keys(make_settings(backend, keys_dir))


def notifier_for(backend, keys_dir, keys, smtp=None, **settings) -> Notifier:
    values = {"public_base_url": "https://techx.example", "smtp_starttls": False}
    if smtp is not None:
        values.update(smtp_host=smtp.host, smtp_port=smtp.port)
    values.update(settings)
    return Notifier.of(make_settings(backend, keys_dir, **values), keys.data)


async def people(db, clock, **kw):
    return await db.transaction(lambda s: _flushed(s, new_org(s, clock.now(), **kw)))


async def _flushed(session, value):
    await session.flush()
    return value


async def tell(db, clock, kind, to, *, subject=None, data=None) -> OutboxEvent:
    async def work(session):
        event = notify(session, kind, to=to, now=clock.now(), subject=subject, data=data)
        await session.flush()
        return event

    return await db.transaction(work)


async def rows(db, model, *where):
    async with db.read() as session:
        return list(await session.scalars(select(model).where(*where)))


async def test_a_row_becomes_inbox_items_and_emails_for_the_users_of_its_audience_once(
    db, clock, backend, keys_dir, keys
):
    seller = await people(db, clock)
    buyer = await people(db, clock)
    ops = await people(db, clock, kind="operator", name="交易所")
    notifier = notifier_for(backend, keys_dir, keys)
    await db.transaction(
        lambda s: _add(
            s,
            Preference(
                user_id=buyer.member.id,
                language="en",
                switches={"deal.settled": {"email": False}, "auction.won": {"email": False}},
                updated_at=clock.now(),
            ),
        )
    )
    settled = await tell(
        db,
        clock,
        Kind.DEAL_SETTLED,
        Audience.of_orgs(seller.org.id, buyer.org.id),
        subject=Subject("deal", uuid.uuid4()),
    )
    won = await tell(db, clock, Kind.AUCTION_WON, Audience.of_orgs(buyer.org.id, admins_only=True))
    review = await tell(db, clock, Kind.LISTING_TO_REVIEW, OPERATORS, data={"listing_title": "隔膜"})
    reset = await tell(db, clock, Kind.PASSWORD_RESET, Audience(emails=("Someone@Example.cn",)), data={"token": "t"})

    # Three workers at once: each row is expanded by one of them, once.
    await asyncio.gather(*(notifier.run_once(db, clock) for _ in range(3)))
    await notifier.run_once(db, clock)

    inbox = await rows(db, InboxItem)
    by_event = {e.id: {i.user_id for i in inbox if i.event_id == e.id} for e in (settled, won, review, reset)}
    everyone = {seller.admin.id, seller.member.id, buyer.admin.id, buyer.member.id}
    assert by_event[settled.id] == everyone
    assert by_event[won.id] == {buyer.admin.id}  # admins only
    assert by_event[review.id] == {ops.admin.id, ops.member.id}
    assert by_event[reset.id] == set()  # account mail is email only
    deliveries = await rows(db, Delivery)
    emails = {(d.event_id, d.recipient) for d in deliveries if d.channel == "email"}
    # deal.settled is mandatory: the buyer's member switched its email off and still gets it; in English.
    assert {r for e, r in emails if e == settled.id} == {
        u.email for u in (seller.admin, seller.member, buyer.admin, buyer.member)
    }
    assert {d.language for d in deliveries if d.recipient == buyer.member.email} == {"en"}
    assert {r for e, r in emails if e == reset.id} == {"someone@example.cn"}
    assert len(deliveries) == len(emails) == 4 + 1 + 2 + 1
    assert all(d.status == "skipped" for d in deliveries)  # no SMTP server configured
    async with db.read() as session:
        assert await session.scalar(select(func.count()).where(OutboxEvent.expanded_at.is_(None))) == 0


async def test_a_switched_off_kind_skips_that_channel_only(db, clock, backend, keys_dir, keys):
    buyer = await people(db, clock)
    await db.transaction(
        lambda s: _add(
            s,
            Preference(
                user_id=buyer.admin.id,
                language="zh",
                switches={"auction.outbid": {"email": False}},
                updated_at=clock.now(),
            ),
        )
    )
    event = await tell(db, clock, Kind.OUTBID, Audience(users=(buyer.admin.id, buyer.member.id)))
    await notifier_for(backend, keys_dir, keys).run_once(db, clock)
    assert {i.user_id for i in await rows(db, InboxItem, InboxItem.event_id == event.id)} == {
        buyer.admin.id,
        buyer.member.id,
    }
    assert {d.recipient for d in await rows(db, Delivery, Delivery.event_id == event.id)} == {buyer.member.email}


async def _add(session, row):
    session.add(row)


async def test_emails_arrive_at_the_smtp_server_in_chinese_with_yuan_beijing_time_and_a_stable_message_id(
    db, clock, backend, keys_dir, keys, smtp_server
):
    buyer = await people(db, clock)
    deal_id = uuid.uuid4()
    event = await tell(
        db,
        clock,
        Kind.PAYMENT_DUE,
        Audience(users=(buyer.admin.id,)),
        subject=Subject("deal", deal_id),
        data={"listing_title": "一种锂电池隔膜", "amount_fen": 123_600_000, "due_at": "2027-01-28T08:00:00Z"},
    )
    notifier = notifier_for(backend, keys_dir, keys, smtp_server)
    counts = await notifier.run_once(db, clock)
    assert counts["sent"] == 1
    [message] = smtp_server.mailbox.wait_for(1)
    [sent] = await rows(db, Delivery, Delivery.event_id == event.id)
    assert sent.status == "sent" and sent.sent_at == clock.now() and sent.attempts == 1
    assert message["Message-ID"] == f"<{sent.id}@techx.local>"
    assert message["To"] == buyer.admin.email
    assert "¥1,236,000.00" in message["Subject"]
    text = body_text(message)
    assert "2027年1月28日 16:00" in text and "一种锂电池隔膜" in text
    assert f"https://techx.example/deals/{deal_id}" in text

    # A crash after sending and before marking: the row is due again, and goes out with the same id.
    await db.transaction(
        lambda s: s.execute(
            update(Delivery).where(Delivery.id == sent.id).values(status="pending", sent_at=None, claimed_until=None)
        )
    )
    await notifier.run_once(db, clock)
    first, again = smtp_server.mailbox.wait_for(2)
    assert again["Message-ID"] == first["Message-ID"]
    assert body_text(again) == body_text(first)


async def test_a_delivery_claimed_by_a_process_that_died_is_sent_when_its_lease_ends(
    db, clock, backend, keys_dir, keys, smtp_server
):
    buyer = await people(db, clock)
    await tell(db, clock, Kind.DEAL_SETTLED, Audience(users=(buyer.admin.id,)))
    notifier = notifier_for(backend, keys_dir, keys, smtp_server)
    await db.transaction(lambda s: worker.expand_one(s, clock.now()))
    claimed = await db.transaction(lambda s: worker.claim_due(s, clock.now()))  # and then the process died
    assert len(claimed) == 1
    assert (await notifier.run_once(db, clock)).get("sent", 0) == 0
    clock.advance(LEASE + timedelta(seconds=1))
    assert (await notifier.run_once(db, clock))["sent"] == 1
    assert len(smtp_server.mailbox.wait_for(1)) == 1


async def test_two_workers_never_claim_the_same_delivery(db, clock, backend, keys_dir, keys):
    buyer = await people(db, clock)
    for _ in range(12):
        await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(buyer.org.id))
    while await db.transaction(lambda s: worker.expand_one(s, clock.now())):
        pass
    claims = await asyncio.gather(*(db.transaction(lambda s: worker.claim_due(s, clock.now(), 5)) for _ in range(6)))
    ids = [c.delivery.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) == 24


async def test_email_retries_back_off_on_the_exchange_clock_then_fail(db, clock, backend, keys_dir, keys):
    buyer = await people(db, clock)
    event = await tell(db, clock, Kind.DEAL_SETTLED, Audience(users=(buyer.admin.id,)))

    class Nowhere:
        host, port = "127.0.0.1", 9  # nothing listens on the discard port

    notifier = notifier_for(backend, keys_dir, keys, Nowhere)
    await notifier.run_once(db, clock)
    [d] = await rows(db, Delivery, Delivery.event_id == event.id)
    assert (d.status, d.attempts, d.next_attempt_at) == ("pending", 1, clock.now() + timedelta(minutes=1))
    assert d.last_error
    await notifier.run_once(db, clock)  # not due yet: no attempt
    [d] = await rows(db, Delivery, Delivery.event_id == event.id)
    assert d.attempts == 1
    for _ in range(20):
        clock.set(d.next_attempt_at)
        await notifier.run_once(db, clock)
        [d] = await rows(db, Delivery, Delivery.event_id == event.id)
        if d.status == "failed":
            break
    assert d.status == "failed" and d.attempts == 8


async def test_account_tokens_are_erased_from_the_outbox_once_delivered(
    db, clock, backend, keys_dir, keys, smtp_server
):
    event = await tell(
        db,
        clock,
        Kind.PASSWORD_RESET,
        Audience(emails=("who@example.cn",)),
        data={"token": "secret-token", "email": "who@example.cn"},
    )
    assert event.has_secrets
    await notifier_for(backend, keys_dir, keys, smtp_server).run_once(db, clock)
    [message] = smtp_server.mailbox.wait_for(1)
    assert "https://techx.example/password-reset?token=secret-token" in body_text(message)
    [row] = await rows(db, OutboxEvent, OutboxEvent.id == event.id)
    assert row.data == {"email": "who@example.cn"} and not row.has_secrets


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["TechX-Timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["TechX-Signature"])


async def register_hook(db, clock, keys, org, url, kinds=()):
    return await db.transaction(
        lambda s: webhooks.register_endpoint(
            s, keys.data, org_id=org.org.id, user_id=org.admin.id, url=url, kinds=list(kinds), now=clock.now()
        )
    )


async def test_webhooks_are_signed_retried_with_back_off_failed_after_24_hours_and_redeliverable(
    db, clock, backend, keys_dir, keys, hook_server
):
    seller = await people(db, clock)
    hook = await register_hook(db, clock, keys, seller, hook_server.url, kinds=["deal.settled"])
    other = await register_hook(db, clock, keys, seller, hook_server.url + "/other", kinds=["auction.won"])
    notifier = notifier_for(backend, keys_dir, keys, webhook_allow_http=True, webhook_allow_private=True)
    deal_id = uuid.uuid4()
    event = await tell(
        db,
        clock,
        Kind.DEAL_SETTLED,
        Audience.of_orgs(seller.org.id),
        subject=Subject("deal", deal_id),
        data={"price_fen": 100},
    )
    hook_server.status = lambda n: 200
    await notifier.run_once(db, clock)
    [call] = hook_server.wait_for(1)
    [d] = await rows(db, Delivery, Delivery.channel == "webhook")
    assert d.endpoint_id == hook.endpoint.id and d.status == "sent"
    assert call.path == "/hooks/techx"
    assert call.headers["TechX-Delivery-Id"] == str(d.id)
    assert verify(hook.secret, call.headers, call.body)
    assert not verify(hook.secret + "x", call.headers, call.body)
    body = json.loads(call.body)
    assert body == {
        "id": str(d.id),
        "event_id": str(event.id),
        "kind": "deal.settled",
        "created_at": clock.now().isoformat().replace("+00:00", "Z"),
        "subject": {"type": "deal", "id": str(deal_id)},
        "data": {"price_fen": 100},
    }
    assert other.endpoint.id not in {x.endpoint_id for x in await rows(db, Delivery)}

    # A receiver that keeps failing: retried with back-off until 24 hours after the event, then failed.
    hook_server.status = lambda n: 503
    failing = await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
    start = clock.now()
    await notifier.run_once(db, clock)
    [d] = await rows(db, Delivery, Delivery.event_id == failing.id, Delivery.channel == "webhook")
    assert (d.status, d.attempts, d.last_error) == ("pending", 1, "HTTP 503")
    assert d.next_attempt_at == start + timedelta(seconds=30)
    while d.status == "pending":
        clock.set(d.next_attempt_at)
        await notifier.run_once(db, clock)
        [d] = await rows(db, Delivery, Delivery.id == d.id)
    assert d.status == "failed" and clock.now() - start <= timedelta(hours=24)
    calls_before = len(hook_server.calls)
    assert calls_before == 1 + d.attempts

    hook_server.status = lambda n: 204
    redelivered = await db.transaction(
        lambda s: webhooks.redeliver(s, seller.org.id, hook.endpoint.id, d.id, clock.now())
    )
    assert redelivered.status == "pending"
    await notifier.run_once(db, clock)
    calls = hook_server.wait_for(calls_before + 1)
    assert calls[-1].headers["TechX-Delivery-Id"] == str(d.id)
    [d] = await rows(db, Delivery, Delivery.id == d.id)
    assert d.status == "sent"


async def test_a_webhook_whose_host_now_resolves_to_a_private_address_fails_without_connecting(
    db, clock, backend, keys_dir, keys, hook_server
):
    seller = await people(db, clock)
    await register_hook(db, clock, keys, seller, "https://hooks.example.cn/techx")
    looked_up = []

    async def rebinding(host, port):  # the name pointed somewhere public at registration; not any more
        looked_up.append(host)
        return ["10.0.0.1"]

    notifier = notifier_for(backend, keys_dir, keys)
    notifier.resolver = rebinding
    await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
    await notifier.run_once(db, clock)
    [d] = await rows(db, Delivery, Delivery.channel == "webhook")
    assert d.status == "pending" and d.attempts == 1
    assert "10.0.0.1 is a private address" in d.last_error
    assert looked_up == ["hooks.example.cn"]
    assert hook_server.calls == []


async def test_a_disabled_webhook_gets_nothing_more(db, clock, backend, keys_dir, keys, hook_server):
    seller = await people(db, clock)
    hook = await register_hook(db, clock, keys, seller, hook_server.url)
    await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
    notifier = notifier_for(backend, keys_dir, keys, webhook_allow_http=True, webhook_allow_private=True)
    await db.transaction(lambda s: worker.expand_one(s, clock.now()))
    await db.transaction(lambda s: webhooks.disable_endpoint(s, seller.org.id, hook.endpoint.id, clock.now()))
    await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
    await notifier.run_once(db, clock)
    deliveries = await rows(db, Delivery, Delivery.channel == "webhook")
    assert [(d.status, d.last_error) for d in deliveries] == [("failed", "the webhook was disabled")]
    assert hook_server.calls == []


def test_texts_are_built_from_the_settings(tmp_path):
    assert Texts("https://x.example/").base_url == "https://x.example"


async def test_the_worker_runs_as_a_command(db, clock, backend, keys_dir, smtp_server):
    """``techx notifications deliver --once``: one pass in a process of its own."""
    import os
    import subprocess
    import sys

    buyer = await people(db, clock)
    await tell(db, clock, Kind.DEAL_SETTLED, Audience(users=(buyer.admin.id,)), data={"listing_title": "隔膜"})
    env = {
        **os.environ,
        "DATABASE_URL": backend.url,
        "TECHX_KEYS_DIR": str(keys_dir),
        "TECHX_SMTP_HOST": smtp_server.host,
        "TECHX_SMTP_PORT": str(smtp_server.port),
        "TECHX_SMTP_STARTTLS": "false",
        "TECHX_LOG_LEVEL": "WARNING",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "exchange.server.cli", "notifications", "deliver", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "expanded 1" in done.stdout and "sent 1" in done.stdout
    [message] = smtp_server.mailbox.wait_for(1)
    assert message["To"] == buyer.admin.email and message["Subject"] == "交易已结算：隔膜"


async def test_an_https_webhook_connects_to_the_checked_address_and_still_checks_the_hosts_certificate(
    db, clock, backend, keys_dir, keys, tmp_path
):
    """The call goes to the address resolved and checked, while TLS names the URL's host (SNI) and
    verifies the certificate for it; a certificate for another name is refused."""
    from tests.delivery_helpers import HookServer, free_port, make_tls, serve_hooks

    tls = make_tls("hooks.example.cn", tmp_path)
    hooks = HookServer(free_port())
    stop = serve_hooks(hooks, tls)
    try:
        seller = await people(db, clock)
        hook = await register_hook(db, clock, keys, seller, f"https://hooks.example.cn:{hooks.port}/hooks")
        wrong = await register_hook(db, clock, keys, seller, f"https://other.example.cn:{hooks.port}/hooks")

        async def to_loopback(host, port):
            return ["127.0.0.1"]

        notifier = notifier_for(backend, keys_dir, keys, webhook_allow_private=True)
        notifier.resolver, notifier.tls_verify = to_loopback, tls.client_context
        await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
        await notifier.run_once(db, clock)
        [call] = hooks.wait_for(1)
        assert call.headers["Host"] == f"hooks.example.cn:{hooks.port}"
        assert verify(hook.secret, call.headers, call.body)
        by_endpoint = {d.endpoint_id: d for d in await rows(db, Delivery, Delivery.channel == "webhook")}
        assert by_endpoint[hook.endpoint.id].status == "sent"
        refused = by_endpoint[wrong.endpoint.id]
        assert refused.status == "pending" and "certificate" in refused.last_error.lower()
    finally:
        stop()


async def test_without_an_smtp_server_email_is_written_to_the_mail_folder_once_per_delivery(
    db, clock, backend, keys_dir, keys, tmp_path
):
    buyer = await people(db, clock)
    await tell(db, clock, Kind.PASSWORD_RESET, Audience(emails=(buyer.admin.email,)), data={"token": "t0ken-123"})
    folder = tmp_path / "mail"
    notifier = notifier_for(backend, keys_dir, keys, mail_dir=str(folder))
    assert (await notifier.run_once(db, clock))["sent"] == 1
    [sent] = await rows(db, Delivery)
    [path] = folder.glob("*.eml")
    assert path.name == f"{sent.id}.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == buyer.admin.email and message["TechX-Kind"] == "account.password_reset"
    assert "password-reset?token=t0ken-123" in body_text(message)

    # Sent again after a crash before it was marked: the same file, not a second message.
    await db.transaction(
        lambda s: s.execute(
            update(Delivery).where(Delivery.id == sent.id).values(status="pending", sent_at=None, claimed_until=None)
        )
    )
    await notifier.run_once(db, clock)
    assert [p.name for p in folder.glob("*.eml")] == [path.name]


async def test_a_member_removed_from_the_organisation_is_no_longer_told_of_its_affairs(
    db, clock, backend, keys_dir, keys
):
    seller = await people(db, clock)
    await db.transaction(
        lambda s: s.execute(update(User).where(User.id == seller.member.id).values(removed_at=clock.now()))
    )
    settled = await tell(db, clock, Kind.DEAL_SETTLED, Audience.of_orgs(seller.org.id))
    own = await tell(db, clock, Kind.MEMBERSHIP_CHANGED, Audience(users=(seller.member.id,)))
    await notifier_for(backend, keys_dir, keys).run_once(db, clock)
    inbox = await rows(db, InboxItem)
    assert {i.user_id for i in inbox if i.event_id == settled.id} == {seller.admin.id}
    told = {d.recipient for d in await rows(db, Delivery) if d.event_id == own.id}
    assert told == {seller.member.email}  # account mail, by email only
