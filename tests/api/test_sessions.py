"""Sessions over HTTP on both databases: short access tokens, rotating refresh tokens whose reuse
ends their family, sign-out, the user's list of sessions, and the pages' session cookie."""

from __future__ import annotations

from datetime import timedelta

import httpx

from exchange.platform.settings import Settings
from tests.helpers import PASSWORD, assert_problem, register, relogin

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client, email: str, user_agent: str = "pytest") -> dict:
    response = await client.post(
        f"{API}/auth/login", json={"email": email, "password": PASSWORD}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(client, refresh_token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})


async def me(client, access_token: str) -> httpx.Response:
    return await client.get(f"{API}/me", headers=bearer(access_token))


def test_access_tokens_last_a_quarter_of_an_hour_and_refresh_tokens_thirty_days_by_default():
    defaults = Settings.from_env(env={})
    assert defaults.token_lifetime_seconds == 900
    assert defaults.refresh_token_days == 30


async def test_a_refresh_token_is_exchanged_once_for_new_tokens_after_the_access_token_expired(client, clock, app):
    party = await register(client)
    tokens = await login(client, party.email)
    clock.advance(timedelta(seconds=app.state.settings.token_lifetime_seconds + 1))
    assert_problem(await me(client, tokens["access_token"]), 401, "unauthorized")

    rotated = await refresh(client, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["token_type"] == "Bearer"
    assert (await me(client, fresh["access_token"])).status_code == 200
    again = await refresh(client, fresh["refresh_token"])  # the replacement works once too
    assert again.status_code == 200, again.text


async def test_a_reused_refresh_token_ends_its_whole_family(client):
    party = await register(client)
    stolen = await login(client, party.email)
    first = (await refresh(client, stolen["refresh_token"])).json()
    assert (await me(client, first["access_token"])).status_code == 200

    reused = await refresh(client, stolen["refresh_token"])  # the thief, or the victim, replays it
    body = assert_problem(reused, 401, "unauthorized", "refresh_token")
    assert "used before" in body["detail"]
    # Every token of the family is dead: the access token issued by the rotation, and its refresh token.
    assert_problem(await me(client, first["access_token"]), 401, "unauthorized")
    assert_problem(await refresh(client, first["refresh_token"]), 401, "unauthorized")
    # Other sessions of the same user are untouched.
    assert (await me(client, party.token)).status_code == 200


async def test_refresh_tokens_expire_and_unknown_ones_are_refused(client, clock, app):
    party = await register(client)
    tokens = await login(client, party.email)
    assert_problem(await refresh(client, "not-a-token"), 401, "unauthorized", "refresh_token")
    clock.advance(timedelta(days=app.state.settings.refresh_token_days, seconds=1))
    assert_problem(await refresh(client, tokens["refresh_token"]), 401, "unauthorized")


async def test_sign_out_ends_the_session_of_the_token_at_once(client):
    party = await register(client)
    tokens = await login(client, party.email)
    out = await client.post(f"{API}/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204, out.text
    assert_problem(await me(client, tokens["access_token"]), 401, "unauthorized")
    assert_problem(await refresh(client, tokens["refresh_token"]), 401, "unauthorized")
    assert (await me(client, party.token)).status_code == 200  # the other session stays


async def test_a_user_sees_their_sessions_and_ends_one(client):
    party = await register(client)
    laptop = await login(client, party.email, user_agent="Firefox on the laptop")
    phone = await login(client, party.email, user_agent="Safari on the phone")
    listed = await client.get(f"{API}/me/sessions", headers=bearer(laptop["access_token"]))
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert len(sessions) == 3  # the confirmation's, the laptop's and the phone's
    current = [s for s in sessions if s["current"]]
    assert [s["user_agent"] for s in current] == ["Firefox on the laptop"]
    phone_session = next(s for s in sessions if s["user_agent"] == "Safari on the phone")

    ended = await client.post(f"{API}/me/sessions/{phone_session['id']}/revoke", headers=bearer(laptop["access_token"]))
    assert ended.status_code == 204, ended.text
    assert_problem(await me(client, phone["access_token"]), 401, "unauthorized")
    assert_problem(await refresh(client, phone["refresh_token"]), 401, "unauthorized")
    remaining = (await client.get(f"{API}/me/sessions", headers=bearer(laptop["access_token"]))).json()
    assert phone_session["id"] not in [s["id"] for s in remaining]

    stranger = await register(client)
    foreign = await client.post(f"{API}/me/sessions/{phone_session['id']}/revoke", headers=stranger.headers)
    assert_problem(foreign, 404, "not-found")


async def page_sign_in(client, email: str) -> None:
    await client.get("/login")
    csrf = client.cookies.get("techx_csrf")
    signed_in = await client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": csrf})
    assert signed_in.status_code == 303, signed_in.text


async def test_the_pages_session_outlives_access_tokens_and_sign_out_ends_it(client, clock, app):
    party = await register(client, name="页面会话测试机构")
    await page_sign_in(client, party.email)
    cookie = client.cookies.get("techx_session")
    clock.advance(timedelta(hours=5))  # far past any access token's lifetime
    home = await client.get("/")
    assert "页面会话测试机构" in home.text and "退出" in home.text
    await relogin(client, party)
    sessions = (await client.get(f"{API}/me/sessions", headers=party.headers)).json()
    assert "page" in [s["kind"] for s in sessions]

    out = await client.post("/logout", data={"_csrf_token": client.cookies.get("techx_csrf")})
    assert out.status_code == 303
    client.cookies.set("techx_session", cookie)  # a copy of the cookie kept after signing out
    assert "页面会话测试机构" not in (await client.get("/")).text
    sessions = (await client.get(f"{API}/me/sessions", headers=party.headers)).json()
    assert "page" not in [s["kind"] for s in sessions]
