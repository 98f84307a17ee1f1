"""``techx keys`` and the keys directory: a production start without keys, ``keys init``,
``keys rotate``, ``keys reencrypt``, and directories written before key rings existed."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import socket
import stat
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

from exchange.platform.keys import KeysMissing, load_or_create_keys
from exchange.platform.settings import Settings
from exchange.server.app import create_app
from listings import crypto
from listings.models import Listing
from tests.conftest import make_settings, running
from tests.helpers import announced_listing, operator, verified
from tests.integration.test_cli import techx

API = "/api/v1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_production_start_without_keys_is_one_line_naming_the_directory_and_keys_init(tmp_path):
    keys_dir = tmp_path / "keys"
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'techx.db'}",
        "TECHX_KEYS_DIR": str(keys_dir),
        "TECHX_ENVIRONMENT": "production",
        "TECHX_PORT": str(free_port()),
    }
    refused = techx("serve", env=env)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: ") and str(keys_dir) in line and "techx keys init" in line
    assert not (tmp_path / "techx.db").exists()  # nothing touched before the keys were found missing
    assert not keys_dir.exists() or not any(keys_dir.iterdir())

    created = techx("keys", "init", env=env)
    assert created.returncode == 0, created.stderr
    for kind in ("signing", "jwt", "data"):
        assert f"{kind}: created key " in created.stdout
    again = techx("keys", "init", env=env)
    assert again.returncode == 0 and "created" not in again.stdout
    for path in keys_dir.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_keys_init_then_a_production_start_works(backend, tmp_path, clock):
    settings = make_settings(backend, tmp_path / "keys", environment="production")
    with pytest.raises(KeysMissing, match="techx keys init"):
        create_app(settings, clock=clock, run_background_tasks=False)
    assert techx("keys", "init", env={"TECHX_KEYS_DIR": str(settings.keys_dir)}).returncode == 0
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        keys = (await client.get(f"{API}/keys")).json()["keys"]
        assert [k["kid"] for k in keys] == [app.state.keyring.signer.key_id]


def test_rotate_adds_a_current_key_and_keeps_the_old_one(tmp_path):
    env = {"TECHX_KEYS_DIR": str(tmp_path / "keys"), "TECHX_ENVIRONMENT": "production"}
    assert techx("keys", "init", env=env).returncode == 0
    settings = Settings.from_env(env={}, keys_dir=tmp_path / "keys", environment="production")
    before = load_or_create_keys(settings)
    for kind in ("signing", "jwt", "data"):
        rotated = techx("keys", "rotate", "--kind", kind, env=env)
        assert rotated.returncode == 0, rotated.stderr
        assert "restart" in rotated.stdout
    after = load_or_create_keys(settings)
    assert after.signing.current_id != before.signing.current_id
    assert after.jwt.current_id != before.jwt.current_id and after.data.current_id != before.data.current_id
    assert before.signing.current_id in after.signing.keys and before.data.current_id in after.data.keys
    unknown = techx("keys", "rotate", "--kind", "nope", env=env)
    assert unknown.returncode == 2


async def test_reencrypt_moves_confidential_details_to_the_current_data_key(backend, tmp_path, clock):
    settings = make_settings(backend, tmp_path / "keys")
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(settings.keys_dir)}
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ops = await operator(client, app)
        seller = await verified(client, ops)
        listings = [await announced_listing(client, seller, ops) for _ in range(3)]
        old_kid = app.state.keyring.data.current_id

        rotated = techx("keys", "rotate", "--kind", "data", env=env)
        assert rotated.returncode == 0, rotated.stderr
        new_kid = load_or_create_keys(settings).data.current_id
        moved = techx("keys", "reencrypt", "--batch-size", "2", env=env)
        assert moved.returncode == 0, moved.stderr
        assert f"re-encrypted 3 confidential details to data key {new_kid}" in moved.stdout
        assert "2 of" in moved.stderr  # progress, batch by batch
        async with app.state.db.read() as session:
            stored = (
                await session.scalars(
                    select(Listing.confidential_ciphertext).where(
                        Listing.id.in_([uuid.UUID(x["id"]) for x in listings])
                    )
                )
            ).all()
        assert {crypto.key_id_of(c) for c in stored} == {new_kid}
        again = techx("keys", "reencrypt", env=env)
        assert "re-encrypted 0 confidential details" in again.stdout

    # A restarted server reads them with the new key; it would even without the old one.
    fresh = create_app(settings, clock=clock, run_background_tasks=False)
    ring = fresh.state.keyring.data
    without_old = type(ring)(current_id=ring.current_id, keys={new_kid: ring.keys[new_kid]})
    fresh.state.listings.data_keys = without_old
    assert old_kid not in without_old.keys
    transport = httpx.ASGITransport(app=fresh)
    async with running(fresh), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for listing in listings:
            shown = await client.get(f"{API}/listings/{listing['id']}/confidential", headers=ops.headers)
            assert shown.status_code == 200, shown.text
            assert shown.json()["confidential_details"].startswith("电解质配方")


async def test_a_keys_directory_from_before_key_rings_keeps_working(backend, tmp_path, clock):
    """Files as earlier versions wrote them: one of each kind, no manifest, no key ids stored."""
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    private = Ed25519PrivateKey.generate()
    (keys_dir / "signing.ed25519.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    jwt_secret = base64.b64encode(secrets.token_bytes(32)).decode()
    (keys_dir / "jwt.secret").write_text(jwt_secret)
    data_key = secrets.token_bytes(32)
    (keys_dir / "data.aes256").write_bytes(base64.b64encode(data_key))
    for path in keys_dir.iterdir():
        os.chmod(path, 0o600)
    settings = make_settings(backend, keys_dir, environment="production")

    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ops = await operator(client, app)
        seller = await verified(client, ops)
        listing = await announced_listing(client, seller, ops)
        # What an earlier version stored: the format without a key id, under the single data key.
        nonce = os.urandom(12)
        listing_id = uuid.UUID(listing["id"])
        legacy = b"\x01" + nonce + AESGCM(data_key).encrypt(nonce, "旧的配方".encode(), listing_id.bytes)
        async with app.state.db.engine.begin() as conn:
            await conn.execute(update(Listing).where(Listing.id == listing_id).values(confidential_ciphertext=legacy))
        now = clock.now()
        old_token = jwt.encode(
            {"sub": seller.user_id, "iat": now, "exp": now + timedelta(hours=1)}, jwt_secret, algorithm="HS256"
        )
        notice = (await client.get(f"{API}/notices/{listing['announcement']['notice_id']}")).json()

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signing_kid = hashlib.sha256(raw).hexdigest()[:16]
    assert notice["key_id"] == signing_kid  # the id notices were published with keeps naming this key
    for kind in ("signing", "jwt", "data"):
        assert techx("keys", "rotate", "--kind", kind, env={"TECHX_KEYS_DIR": str(keys_dir)}).returncode == 0

    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        published = {k["kid"]: k for k in (await client.get(f"{API}/keys")).json()["keys"]}
        assert signing_kid in published and published[signing_kid]["retired_at"] is not None
        assert base64.b64decode(published[signing_kid]["key"]) == raw
        me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {old_token}"})
        assert me.status_code == 200, me.text  # a token without a kid: the key from before key ids
        shown = await client.get(f"{API}/listings/{listing['id']}/confidential", headers=ops.headers)
        assert shown.status_code == 200 and shown.json()["confidential_details"] == "旧的配方"
    assert (keys_dir / "signing.ed25519.pem").exists()  # kept for earlier versions of the exchange
