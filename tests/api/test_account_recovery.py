"""Accounts over HTTP on both databases: a sign-up that reveals nothing, the address confirmed by
an emailed token before operators may verify the organisation, password change, and password reset
by an emailed token (30 minutes, single use, every session ended after). Mail is read from the
notification outbox, where the exchange writes it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from exchange.parties.models import Org, User
from exchange.platform.outbox import OutboxEvent
from exchange.server.app import create_app
from tests.conftest import make_settings, running
from tests.helpers import (
    PASSWORD,
    assert_problem,
    db_of,
    mailed_token,
    operator,
    register,
    sign_up_body,
)

API = "/api/v1"
NEW_PASSWORD = "a much longer passphrase 2026"


async def outbox(app, kind: str) -> list[OutboxEvent]:
    async with app.state.db.read() as session:
        return list(
            (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id))).all()
        )


async def count(app, model) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def login(client, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": password})


async def test_registration_answers_the_same_for_a_new_and_an_existing_address(client, app):
    owner = await register(client)
    new_email = f"new-{uuid.uuid4().hex[:8]}@example.cn"
    new = await client.post(f"{API}/auth/register", json=sign_up_body(new_email))
    existing = await client.post(
        f"{API}/auth/register", json=sign_up_body(owner.email.upper(), name="冒名机构", password="another-password-1")
    )
    assert new.status_code == existing.status_code == 202
    assert new.json() == {"status": "confirmation-sent", "email": new_email}
    assert existing.json() == {"status": "confirmation-sent", "email": owner.email}
    assert set(new.json()) == set(existing.json())

    # The owner is told by email; no second account, no second organisation for them.
    (told,) = await outbox(app, "account.already_registered")
    assert told.audience["emails"] == [owner.email] and "token" not in told.data
    assert await count(app, User) == 2 and await count(app, Org) == 2
    assert [e.audience["emails"] for e in await outbox(app, "account.email_confirmation")] == [
        [owner.email],
        [new_email],
    ]
    assert (await login(client, owner.email)).status_code == 200  # the owner's password is unchanged
    assert_problem(await login(client, owner.email, "another-password-1"), 401, "unauthorized")


async def test_a_taken_credit_code_is_still_a_conflict(client):
    body = sign_up_body(f"a-{uuid.uuid4().hex[:8]}@example.cn")
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 202
    again = sign_up_body(f"b-{uuid.uuid4().hex[:8]}@example.cn", org=body["org"])
    assert_problem(await client.post(f"{API}/auth/register", json=again), 409, "credit-code-taken", "org.credit_code")


async def test_operators_verify_an_organisation_only_after_its_admin_confirmed_the_address(client, app, clock):
    ops = await operator(client, app)
    email = f"unconfirmed-{uuid.uuid4().hex[:8]}@example.cn"
    assert (await client.post(f"{API}/auth/register", json=sign_up_body(email))).status_code == 202
    signed_in = await login(client, email)  # users may sign in before confirming
    assert signed_in.status_code == 200
    me = (await client.get(f"{API}/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})).json()
    org_id = me["org"]["id"]

    async with app.state.db.read() as session:  # operators are made by the CLI with their address confirmed
        assert (await session.get(User, uuid.UUID(ops.user_id))).email_confirmed_at is not None
    refused = await client.post(f"{API}/orgs/{org_id}/verify", headers=ops.headers, json={"note": "ok"})
    assert_problem(refused, 409, "email-not-confirmed", "id")
    assert await outbox(app, "operator.org_to_verify") == []

    token = await mailed_token(db_of(client), "account.email_confirmation", email)
    confirmed = await client.post(f"{API}/auth/confirm-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["refresh_token"] and confirmed.json()["user"]["email"] == email
    (queued,) = await outbox(app, "operator.org_to_verify")
    assert queued.audience["operators"] is True and queued.subject_id == org_id
    assert_problem(await client.post(f"{API}/auth/confirm-email", json={"token": token}), 422, "invalid-token", "token")

    page = (await client.get(f"{API}/orgs/{org_id}", headers=ops.headers)).json()
    assert page["members"][0]["email_confirmed_at"] is not None
    verified = await client.post(f"{API}/orgs/{org_id}/verify", headers=ops.headers, json={"note": "ok"})
    assert verified.status_code == 200 and verified.json()["verified"] is True


async def test_a_confirmation_token_expires_after_48_hours(client, clock):
    email = f"slow-{uuid.uuid4().hex[:8]}@example.cn"
    assert (await client.post(f"{API}/auth/register", json=sign_up_body(email))).status_code == 202
    token = await mailed_token(db_of(client), "account.email_confirmation", email)
    clock.advance(timedelta(hours=48, seconds=1))
    assert_problem(await client.post(f"{API}/auth/confirm-email", json={"token": token}), 422, "invalid-token")


async def test_a_password_reset_works_once_within_30_minutes_and_ends_every_session(client, app, clock):
    party = await register(client)
    other_device = (await login(client, party.email)).json()

    unknown = await client.post(f"{API}/auth/password-reset", json={"email": "nobody-here@example.cn"})
    known = await client.post(f"{API}/auth/password-reset", json={"email": party.email.upper()})
    assert unknown.status_code == known.status_code == 202
    assert set(unknown.json()) == set(known.json()) and known.json()["status"] == unknown.json()["status"]
    (mail,) = await outbox(app, "account.password_reset")
    assert mail.audience["emails"] == [party.email]

    token = await mailed_token(db_of(client), "account.password_reset", party.email)
    weak = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": "qwertyuiop"})
    assert_problem(weak, 422, "weak-password", "new_password")
    reset = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text

    # Every session is over: the confirmation's and the other device's, access and refresh tokens alike.
    assert_problem(await client.get(f"{API}/me", headers=party.headers), 401, "unauthorized")
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": other_device["refresh_token"]})
    assert_problem(refreshed, 401, "unauthorized")
    assert_problem(await login(client, party.email), 401, "unauthorized")
    assert (await login(client, party.email, NEW_PASSWORD)).status_code == 200
    assert len(await outbox(app, "account.password_changed")) == 1

    used = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": PASSWORD})
    assert_problem(used, 422, "invalid-token", "token")

    assert (await client.post(f"{API}/auth/password-reset", json={"email": party.email})).status_code == 202
    late = await mailed_token(db_of(client), "account.password_reset", party.email)
    clock.advance(timedelta(minutes=30, seconds=1))
    expired = await client.post(f"{API}/auth/password-reset/confirm", json={"token": late, "new_password": PASSWORD})
    assert_problem(expired, 422, "invalid-token", "token")
    assert (await login(client, party.email, NEW_PASSWORD)).status_code == 200


async def test_password_reset_requests_are_limited_alike_for_known_and_unknown_addresses(backend, keys_dir, clock):
    settings = make_settings(backend, keys_dir, account_mail_per_hour_per_address=3)
    app = create_app(settings, clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        party = await register(client)  # its confirmation was the first mail to its address
        answers = {}
        for email, allowed in ((party.email, 2), ("nobody-at-all@example.cn", 3)):
            for _ in range(allowed):
                ok = await client.post(f"{API}/auth/password-reset", json={"email": email})
                assert ok.status_code == 202, ok.text
            limited = await client.post(f"{API}/auth/password-reset", json={"email": email})
            answers[email] = assert_problem(limited, 429, "rate-limited")
        known, unknown = answers.values()
        assert known["limit"] == unknown["limit"] == "account-mail-per-address"
        assert known["detail"].split(";")[0] == unknown["detail"].split(";")[0]
        assert len(await outbox(app, "account.password_reset")) == 2  # only the known address was mailed


async def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(client, app):
    party = await register(client)
    other_device = (await login(client, party.email)).json()
    url = f"{API}/me/password"

    wrong = await client.post(
        url, json={"current_password": "not-my-password", "new_password": NEW_PASSWORD}, headers=party.headers
    )
    assert_problem(wrong, 403, "forbidden", "current_password")
    weak = await client.post(
        url, json={"current_password": PASSWORD, "new_password": "password123"}, headers=party.headers
    )
    assert_problem(weak, 422, "weak-password", "new_password")
    changed = await client.post(
        url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=party.headers
    )
    assert changed.status_code == 204, changed.text

    assert (await client.get(f"{API}/me", headers=party.headers)).status_code == 200  # this session goes on
    other = {"Authorization": f"Bearer {other_device['access_token']}"}
    assert_problem(await client.get(f"{API}/me", headers=other), 401, "unauthorized")
    assert_problem(await login(client, party.email), 401, "unauthorized")
    assert (await login(client, party.email, NEW_PASSWORD)).status_code == 200
    (told,) = await outbox(app, "account.password_changed")
    assert told.audience["users"] == [party.user_id]
