"""Registration, login, /me, verification and suspension over HTTP, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from exchange.parties.models import Org, User
from tests.helpers import PASSWORD, assert_problem, confirm, credit_code, operator, register, verified


async def count_rows(app, model) -> int:
    async with app.state.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


def registration(**changes):
    body = {
        "email": "ZhangWei@Example.cn",
        "password": "0123456789abc",
        "display_name": "张伟",
        "org": {"name": "上海交通大学技术转移中心", "credit_code": credit_code(), "kind": "university"},
    }
    body.update(changes)
    return body


async def test_register_confirm_login_me(client, app):
    response = await client.post("/api/v1/auth/register", json=registration())
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "confirmation-sent", "email": "zhangwei@example.cn"}
    body = await confirm(client, "zhangwei@example.cn")
    assert body["user"]["email"] == "zhangwei@example.cn"
    assert body["user"]["role"] == "admin"
    assert body["org"]["verified"] is False and body["org"]["kind"] == "university"

    login = await client.post("/api/v1/auth/login", json={"email": "ZHANGWEI@example.cn", "password": "0123456789abc"})
    assert login.status_code == 200
    token = login.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == app.state.settings.token_lifetime_seconds
    assert token["refresh_token"] and token["refresh_expires_in"] == 30 * 24 * 3600

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["org"]["name"] == "上海交通大学技术转移中心"
    assert me.json()["user"]["id"] == body["user"]["id"]


async def test_registering_an_address_again_answers_the_same_and_writes_nothing(client, app):
    first = await client.post("/api/v1/auth/register", json=registration())
    again = await client.post("/api/v1/auth/register", json=registration(email="zhangwei@EXAMPLE.cn"))
    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert await count_rows(app, Org) == 1
    assert await count_rows(app, User) == 1


async def test_bad_registrations_name_the_field_and_write_nothing(client, app):
    cases = [
        (registration(password="short"), 400, "validation-error", "password"),
        (registration(email="not-an-email"), 400, "validation-error", "email"),
        (
            registration(org={"name": "x", "credit_code": credit_code(), "kind": "bank"}),
            400,
            "validation-error",
            "org.kind",
        ),
        (
            registration(org={"name": "x", "credit_code": "91310000MA1FL0000A", "kind": "enterprise"}),
            422,
            "invalid-credit-code",
            "org.credit_code",
        ),
        (registration(display_name="x" * 101), 400, "validation-error", "display_name"),
        (registration(password=123456789012), 400, "validation-error", "password"),
        (registration(unexpected=True), 400, "validation-error", None),
    ]
    for body, status, problem_type, field in cases:
        assert_problem(await client.post("/api/v1/auth/register", json=body), status, problem_type, field)
    malformed = await client.post(
        "/api/v1/auth/register", content=b'{"email": "a@b.cn", "pa', headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400, "bad-request")
    assert await count_rows(app, Org) == 0


async def test_weak_passwords_are_refused_saying_why(client, app):
    """NIST SP 800-63B: no whitespace-only secrets, none of the most common ones; long passphrases welcome."""
    cases = [
        (" " * 10, "only spaces"),
        ("\t \n" * 4, "only spaces"),
        ("qwertyuiop", "common"),
        ("Password123", "common"),  # compared without regard to case
        ("1234567890 ", "common"),  # nor to surrounding spaces
    ]
    for password, why in cases:
        body = assert_problem(
            await client.post("/api/v1/auth/register", json=registration(password=password)),
            422,
            "weak-password",
            "password",
        )
        assert why in body["detail"], body
    assert await count_rows(app, User) == 0
    passphrase = "correct horse battery staple " * 7  # 203 characters would be too many; 199 are not
    accepted = await client.post("/api/v1/auth/register", json=registration(password=passphrase[:199]))
    assert accepted.status_code == 202, accepted.text
    login = await client.post("/api/v1/auth/login", json={"email": "zhangwei@example.cn", "password": passphrase[:199]})
    assert login.status_code == 200, login.text


async def test_operator_accounts_cannot_be_self_registered(client, app):
    body = registration(org={"name": "Fake ops", "credit_code": credit_code(), "kind": "operator"})
    assert_problem(await client.post("/api/v1/auth/register", json=body), 403, "forbidden")
    assert await count_rows(app, Org) == 0


async def test_wrong_password_and_unknown_email_look_the_same(client):
    party = await register(client)
    wrong = await client.post("/api/v1/auth/login", json={"email": party.email, "password": "wrong-password"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "nobody@example.cn", "password": PASSWORD})
    assert (
        assert_problem(wrong, 401, "unauthorized")["detail"] == assert_problem(unknown, 401, "unauthorized")["detail"]
    )


async def test_missing_forged_and_expired_tokens(client, clock):
    party = await register(client)
    assert_problem(await client.get("/api/v1/me"), 401, "unauthorized")
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    forged = party.token[:-4] + ("AAAA" if not party.token.endswith("AAAA") else "BBBB")
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorized")
    clock.advance(timedelta(hours=1, seconds=1))
    assert_problem(await client.get("/api/v1/me", headers=party.headers), 401, "unauthorized")


async def test_unverified_org_is_refused_until_an_operator_verifies_it(client, app):
    party = await register(client)
    assert_problem(await client.get("/api/v1/wallet", headers=party.headers), 403, "org-not-verified")
    ops = await operator(client, app)
    verify = await client.post(f"/api/v1/orgs/{party.org_id}/verify", headers=ops.headers, json={"note": "证照齐全"})
    assert verify.status_code == 200 and verify.json()["verified"] is True
    wallet = await client.get("/api/v1/wallet", headers=party.headers)
    assert wallet.status_code == 200
    assert {b["unit"]: b["available"] for b in wallet.json()["balances"]} == {"CNY": 0, "VCH": 0}


async def test_only_operators_verify_or_suspend(client, app):
    party = await register(client)
    other = await register(client)
    assert_problem(await client.post(f"/api/v1/orgs/{other.org_id}/verify", headers=party.headers), 403, "forbidden")
    assert_problem(await client.post(f"/api/v1/orgs/{other.org_id}/suspend", headers=party.headers), 403, "forbidden")
    ops = await operator(client, app)
    missing = "01900000-0000-7000-8000-000000000000"
    assert_problem(await client.post(f"/api/v1/orgs/{missing}/verify", headers=ops.headers), 404, "not-found")


async def test_suspended_org_is_refused(client, app):
    ops = await operator(client, app)
    party = await verified(client, ops)
    suspend = await client.post(f"/api/v1/orgs/{party.org_id}/suspend", headers=ops.headers, json={"note": "虚假材料"})
    assert suspend.status_code == 200 and suspend.json()["status"] == "suspended"
    assert_problem(await client.get("/api/v1/wallet", headers=party.headers), 403, "org-suspended")


async def test_an_org_is_visible_to_its_members_and_operators_only(client, app):
    ops = await operator(client, app)
    party = await register(client)
    stranger = await register(client)
    assert (await client.get(f"/api/v1/orgs/{party.org_id}", headers=party.headers)).status_code == 200
    assert (await client.get(f"/api/v1/orgs/{party.org_id}", headers=ops.headers)).status_code == 200
    assert_problem(await client.get(f"/api/v1/orgs/{party.org_id}", headers=stranger.headers), 403, "forbidden")
