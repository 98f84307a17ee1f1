"""Rate limits over HTTP: failed logins, sign-ups, the client address behind proxies, a count shared by
processes; and the cap on objections an organisation files to one notice.

The limiter keeps real time (the ``limits`` package's moving window), not the exchange's clock:
these tests never need a window to pass. Each test client has an address of its own
(``httpx.ASGITransport(client=…)``), so counts never leak between tests, not even through Redis.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as aioredis
from litestar import Litestar
from sqlalchemy import func, select

from exchange.parties.models import User
from exchange.server.app import create_app
from listings.domain import MAX_OBJECTIONS_PER_ORG_PER_NOTICE
from tests.conftest import make_settings, running
from tests.helpers import PASSWORD, announced_listing, assert_problem, credit_code, operator, register, verified

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"


def some_address(prefix: str = "198.51") -> str:
    return f"{prefix}.{random.randrange(256)}.{random.randrange(1, 255)}"


@asynccontextmanager
async def client_at(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the app from ``address`` (the socket peer)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def fail_login(client: httpx.AsyncClient, email: str, **headers: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": "wrong-password"}, headers=headers)


async def test_successful_logins_are_never_limited(client, settings):
    party = await register(client)
    for _ in range(2 * settings.login_attempts_per_minute):
        response = await client.post(LOGIN, json={"email": party.email, "password": PASSWORD})
        assert response.status_code == 200, response.text


async def test_failed_logins_are_limited_per_email_with_retry_after(client, app, settings):
    party = await register(client)
    for _ in range(settings.login_attempts_per_minute):
        async with client_at(app, some_address()) as elsewhere:  # a new address each time: the email counts
            assert_problem(await fail_login(elsewhere, party.email), 401, "unauthorized")
    async with client_at(app, some_address()) as elsewhere:
        limited = await elsewhere.post(LOGIN, json={"email": party.email, "password": PASSWORD})
    body = assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert body["limit"] == "login-failures"
    other = await register(client)
    assert (await client.post(LOGIN, json={"email": other.email, "password": PASSWORD})).status_code == 200


async def test_failed_logins_are_limited_per_client_address(client, app, settings):
    party = await register(client)
    async with client_at(app, some_address()) as guesser:
        for i in range(settings.login_attempts_per_minute):
            assert_problem(await fail_login(guesser, f"nobody-{i}@example.cn"), 401, "unauthorized")
        limited = await guesser.post(LOGIN, json={"email": party.email, "password": PASSWORD})
        assert_problem(limited, 429, "rate-limited")
    async with client_at(app, some_address()) as someone_else:
        assert (await someone_else.post(LOGIN, json={"email": party.email, "password": PASSWORD})).status_code == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(client, app, settings):
    """No proxy is configured: a client (here on loopback) cannot pose as many by naming addresses."""
    assert settings.trusted_proxies == ()
    for i in range(settings.login_attempts_per_minute):
        response = await fail_login(client, f"nobody-{i}@example.cn", **{"X-Forwarded-For": some_address()})
        assert_problem(response, 401, "unauthorized")
    limited = await fail_login(client, "nobody-else@example.cn", **{"X-Forwarded-For": some_address()})
    assert_problem(limited, 429, "rate-limited")


async def test_forwarded_for_from_a_configured_proxy_names_the_client(backend, keys_dir, clock):
    settings = make_settings(backend, keys_dir, trusted_proxies=("10.0.0.0/8",))
    app = create_app(settings, clock=clock, run_background_tasks=False)
    limit = settings.login_attempts_per_minute
    guesser, bystander = some_address("203.0"), some_address("192.0")
    async with running(app), client_at(app, "10.0.0.1") as proxy:
        for i in range(limit):
            response = await fail_login(proxy, f"nobody-{i}@example.cn", **{"X-Forwarded-For": guesser})
            assert_problem(response, 401, "unauthorized")
        # The right-most address the proxies did not add is the client: forged entries to its left do not help.
        forged = f"{some_address()}, {guesser}, 10.0.0.2"
        assert_problem(await fail_login(proxy, "next@example.cn", **{"X-Forwarded-For": forged}), 429, "rate-limited")
        # Another client behind the same proxy is not held back by the guesser.
        response = await fail_login(proxy, "next@example.cn", **{"X-Forwarded-For": bystander})
        assert_problem(response, 401, "unauthorized")


async def _redis_problem(url: str) -> str | None:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        return f"Redis at {url} is unreachable ({exc})"
    finally:
        await client.aclose()
    return None


async def test_processes_sharing_redis_share_the_count(backend, keys_dir, clock):
    settings = make_settings(backend, keys_dir, rate_limit_backend="redis")
    problem = await _redis_problem(settings.redis_url)
    if problem:  # Redis is optional, as for the channels backend's own tests
        pytest.skip(problem)
    first = create_app(settings, clock=clock, run_background_tasks=False)
    second = create_app(settings, clock=clock, run_background_tasks=False)
    address, email = some_address("100.64"), f"shared-{uuid.uuid4().hex[:10]}@example.cn"
    async with running(first), running(second), client_at(first, address) as one, client_at(second, address) as two:
        for i in range(settings.login_attempts_per_minute):
            assert_problem(await fail_login(one if i % 2 else two, email), 401, "unauthorized")
        assert_problem(await fail_login(one, email), 429, "rate-limited")
        assert_problem(await fail_login(two, email), 429, "rate-limited")


def sign_up(address_index: int = 0) -> dict:
    return {
        "email": f"signup-{uuid.uuid4().hex[:10]}@example.cn",
        "password": PASSWORD,
        "display_name": "注册者",
        "org": {"name": f"注册机构 {address_index}", "credit_code": credit_code(), "kind": "enterprise"},
    }


async def test_sign_ups_are_limited_per_client_address(backend, keys_dir, clock):
    settings = make_settings(
        backend, keys_dir, registrations_per_hour_per_client=3, registrations_per_hour_per_network=100
    )
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), client_at(app, "203.0.113.9") as busy, client_at(app, "198.51.100.9") as other:
        for _ in range(3):
            assert (await busy.post(REGISTER, json=sign_up())).status_code == 202
        limited = await busy.post(REGISTER, json=sign_up())
        body = assert_problem(limited, 429, "rate-limited")
        assert body["limit"] == "sign-ups-per-client" and 1 <= int(limited.headers["retry-after"]) <= 3600
        assert (await other.post(REGISTER, json=sign_up())).status_code == 202
        async with app.state.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 4


async def test_sign_ups_are_limited_per_network(backend, keys_dir, clock):
    settings = make_settings(
        backend, keys_dir, registrations_per_hour_per_client=100, registrations_per_hour_per_network=4
    )
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app):
        for host in range(1, 5):  # four addresses of one /24
            async with client_at(app, f"203.0.113.{host}") as neighbour:
                assert (await neighbour.post(REGISTER, json=sign_up(host))).status_code == 202
        async with client_at(app, "203.0.113.200") as same_network:
            body = assert_problem(await same_network.post(REGISTER, json=sign_up()), 429, "rate-limited")
            assert body["limit"] == "sign-ups-per-network"
        async with client_at(app, "203.0.114.1") as next_network:
            assert (await next_network.post(REGISTER, json=sign_up())).status_code == 202


async def test_an_organisation_files_at_most_three_objections_to_a_notice(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    notice_id = (await announced_listing(client, seller, ops))["announcement"]["notice_id"]
    objector = await register(client)
    objections = f"/api/v1/notices/{notice_id}/objections"
    for i in range(MAX_OBJECTIONS_PER_ORG_PER_NOTICE):
        filed = await client.post(
            objections, json={"reason": f"第{i + 1}次异议：权属存在争议"}, headers=objector.headers
        )
        assert filed.status_code == 201, filed.text
        dismissed = await client.post(
            f"/api/v1/objections/{filed.json()['id']}/resolve", json={"decision": "dismissed"}, headers=ops.headers
        )
        assert dismissed.status_code == 200, dismissed.text
    refused = await client.post(objections, json={"reason": "又一次异议：权属存在争议"}, headers=objector.headers)
    body = assert_problem(refused, 409, "objection-limit-reached")
    assert body["limit"] == MAX_OBJECTIONS_PER_ORG_PER_NOTICE and "3 objections" in body["detail"]
    other = await register(client)  # another organisation still may
    assert (
        await client.post(objections, json={"reason": "另一单位的异议：权属存在争议"}, headers=other.headers)
    ).status_code == 201
