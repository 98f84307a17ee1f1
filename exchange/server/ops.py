"""Operational endpoints: liveness, readiness, the exchange's public keys."""

from __future__ import annotations

import asyncio
import base64

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from exchange.platform.db import Database
from exchange.platform.keys import KeyPeriod, Keys
from exchange.platform.settings import Settings
from kernel.time import rfc3339


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    failed: list[str] | None = None  # the dependencies that did not answer: database, redis


class PublicKey(msgspec.Struct):
    """A JWK (RFC 8037, Ed25519) with the fields clients read before the JWK Set: ``id``,
    ``algorithm`` and ``key`` (standard base64 of the raw key), and the key's validity."""

    kty: str
    crv: str
    x: str  # raw 32-byte Ed25519 public key, base64url without padding
    kid: str
    use: str
    alg: str
    id: str  # = kid
    algorithm: str
    key: str  # raw 32-byte Ed25519 public key, base64
    created_at: str | None  # signs from this moment (None: not recorded, a key from before key rings)
    retired_at: str | None  # and until this one (None: the current key, signing now)


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
    "/api/v1/keys",
    tags=["ops"],
    summary="The exchange's public keys for verifying notices, certificates, checkpoints (a JWK Set)",
)
async def public_keys(keyring: NamedDependency[Keys]) -> KeysOut:
    """Every signing key, the current one first: what was signed before a rotation names an older key."""
    ring = keyring.signing
    ids = sorted(ring.keys, key=lambda kid: (kid != ring.current_id, -_created(keyring, kid)))
    return KeysOut(keys=[_jwk(kid, ring.keys[kid].public_key_raw, keyring.signing_periods.get(kid)) for kid in ids])


def _created(keys: Keys, kid: str) -> float:
    period = keys.signing_periods.get(kid)
    return period.created_at.timestamp() if period and period.created_at else 0.0


def _jwk(kid: str, raw: bytes, period: KeyPeriod | None) -> PublicKey:
    return PublicKey(
        kty="OKP",
        crv="Ed25519",
        x=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        kid=kid,
        use="sig",
        alg="EdDSA",
        id=kid,
        algorithm="Ed25519",
        key=base64.b64encode(raw).decode(),
        created_at=rfc3339(period.created_at) if period and period.created_at else None,
        retired_at=rfc3339(period.retired_at) if period and period.retired_at else None,
    )
