"""Operational endpoints: liveness, readiness, the exchange's public keys."""

from __future__ import annotations

import asyncio
import base64

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from exchange.platform.db import Database
from exchange.platform.keys import Keys
from exchange.platform.settings import Settings


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    failed: list[str] | None = None  # the dependencies that did not answer: database, redis


class PublicKey(msgspec.Struct):
    id: str
    algorithm: str
    key: str  # raw 32-byte Ed25519 public key, base64
    use: str


class KeysOut(msgspec.Struct):
    keys: list[PublicKey]


@get("/health", tags=["ops"], summary="Liveness: the process answers")
async def health() -> Health:
    return Health(status="ok")


REDIS_TIMEOUT_SECONDS = 1.0


async def ping_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        await asyncio.wait_for(client.ping(), REDIS_TIMEOUT_SECONDS * 2)
    finally:
        await client.aclose()


@get(
    "/ready",
    tags=["ops"],
    summary="Readiness: the database answers, and Redis when it carries the live events",
    responses=None,
)
async def ready(db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Response[Health]:
    failed: list[str] = []
    try:
        await db.ping()
    except Exception:
        failed.append("database")
    if settings.channels_backend == "redis":
        try:
            await ping_redis(settings.redis_url)
        except Exception:
            failed.append("redis")
    if failed:
        return Response(Health(status="unavailable", failed=failed), status_code=503)
    return Response(Health(status="ok"))


@get(
    "/api/v1/keys", tags=["ops"], summary="The exchange's public keys for verifying notices, certificates, checkpoints"
)
async def public_keys(keyring: NamedDependency[Keys]) -> KeysOut:
    signer = keyring.signer
    return KeysOut(
        keys=[
            PublicKey(
                id=signer.key_id,
                algorithm="Ed25519",
                key=base64.b64encode(signer.public_key_raw).decode(),
                use="notices, certificates, ledger checkpoints",
            )
        ]
    )
