"""Operational endpoints: liveness, readiness, the exchange's public keys."""

from __future__ import annotations

import base64

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from exchange.platform.db import Database
from exchange.platform.keys import Keys


class Health(msgspec.Struct):
    status: str


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


@get("/ready", tags=["ops"], summary="Readiness: the database answers", responses=None)
async def ready(db: NamedDependency[Database]) -> Response[Health]:
    try:
        await db.ping()
    except Exception:
        return Response(Health(status="unavailable"), status_code=503)
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
