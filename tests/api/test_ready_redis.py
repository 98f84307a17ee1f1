"""/ready checks Redis when it carries the live events, and names it when it does not answer."""

from __future__ import annotations

import socket

import pytest

from exchange.server.app import create_app
from tests.conftest import make_settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
async def app(backend, keys_dir, clock):
    settings = make_settings(
        backend, keys_dir, channels_backend="redis", redis_url=f"redis://127.0.0.1:{closed_port()}/0"
    )
    return create_app(settings, clock=clock, run_background_tasks=False)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # about Redis, not the database
async def test_ready_is_503_naming_redis_when_redis_does_not_answer(client):
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["redis"]}
    assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_ready_is_ok_when_redis_answers(backend, keys_dir, clock):
    import httpx

    from exchange.server.ops import ping_redis
    from tests.conftest import running

    try:
        await ping_redis("redis://127.0.0.1:6379/0")
    except Exception as exc:
        pytest.skip(f"Redis is not reachable: {exc}")
    settings = make_settings(backend, keys_dir, channels_backend="redis", redis_url="redis://127.0.0.1:6379/0")
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/ready")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
