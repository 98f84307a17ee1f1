"""Key rotation as users see it, on both databases: what was signed, issued or sealed before a
rotation keeps verifying, new work names the new key, and ``GET /api/v1/keys`` publishes every
signing key with its id and validity (a JWK Set)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from exchange.platform.keys import rotate_key
from exchange.server.app import create_app
from listings import crypto
from listings.models import Listing
from tests.api.test_listings_journey import verify_offline
from tests.conftest import make_settings, running
from tests.helpers import announced_listing, assert_problem, listing_body, operator, register, verified

API = "/api/v1"


@pytest.fixture
def settings(backend, tmp_path):
    """A keys directory of the test's own: rotations must not reach other tests."""
    return make_settings(backend, tmp_path / "keys")


@asynccontextmanager
async def serving(settings, clock) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """A server process started on ``settings``: a restart is a second ``serving``."""
    app = create_app(settings, clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield app, client


async def published_keys(client) -> dict[str, dict]:
    response = await client.get(f"{API}/keys")
    assert response.status_code == 200, response.text
    return {k["kid"]: k for k in response.json()["keys"]}


async def signed_notice(client, notice_id) -> dict:
    response = await client.get(f"{API}/notices/{notice_id}")
    assert response.status_code == 200, response.text
    return response.json()


def verify_with_jwk(jwk: dict, notice: dict) -> None:
    """What a verifier holding only the JWK Set does: the key named by the notice's key id."""
    assert (jwk["kty"], jwk["crv"], jwk["use"]) == ("OKP", "Ed25519", "sig")
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(notice["signature"]), notice["signed_content"].encode("utf-8")
    )


async def test_notices_signed_before_a_signing_rotation_still_verify_and_new_ones_name_the_new_key(settings, clock):
    async with serving(settings, clock) as (app, client):
        ops = await operator(client, app)
        seller = await verified(client, ops)
        before = await announced_listing(client, seller, ops)
        old_notice = await signed_notice(client, before["announcement"]["notice_id"])
        old_kid = old_notice["key_id"]
        (only,) = (await published_keys(client)).values()
        assert only["kid"] == old_kid and only["retired_at"] is None

    clock.advance(timedelta(days=1))
    new_kid, previous = rotate_key(settings.keys_dir, "signing", clock.now())
    assert previous == old_kid and new_kid != old_kid

    async with serving(settings, clock) as (app, client):
        ops = await operator(client, app)
        seller = await verified(client, ops)
        after = await announced_listing(client, seller, ops)
        new_notice = await signed_notice(client, after["announcement"]["notice_id"])
        assert new_notice["key_id"] == new_kid

        published = await published_keys(client)
        assert set(published) == {old_kid, new_kid}
        # Each notice verifies with the key its key id names, and with no other.
        verify_with_jwk(published[old_kid], await signed_notice(client, old_notice["id"]))
        verify_with_jwk(published[new_kid], new_notice)
        # The fields clients read before the JWK Set are still there.
        verify_offline(published[old_kid]["key"], old_notice)
        assert published[old_kid]["id"] == old_kid and published[old_kid]["algorithm"] == "Ed25519"
        # Validity: the old key signed until the rotation, the new one since.
        assert published[old_kid]["retired_at"] == clock.now().isoformat().replace("+00:00", "Z")
        assert published[new_kid]["created_at"] == published[old_kid]["retired_at"]
        assert published[new_kid]["retired_at"] is None


async def test_tokens_issued_before_a_jwt_rotation_work_until_they_expire_and_new_ones_name_the_new_key(
    settings, clock
):
    async with serving(settings, clock) as (_, client):
        party = await register(client)
        old_kid = jwt.get_unverified_header(party.token)["kid"]

    clock.advance(timedelta(minutes=30))
    new_kid, previous = rotate_key(settings.keys_dir, "jwt", clock.now())
    assert previous == old_kid

    async with serving(settings, clock) as (_, client):
        assert (await client.get(f"{API}/me", headers=party.headers)).status_code == 200
        login = await client.post(f"{API}/auth/login", json={"email": party.email, "password": "correct-horse-battery"})
        assert login.status_code == 200, login.text
        fresh = login.json()["access_token"]
        assert jwt.get_unverified_header(fresh)["kid"] == new_kid
        assert (await client.get(f"{API}/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200

        clock.advance(timedelta(seconds=settings.token_lifetime_seconds - 30 * 60))
        assert_problem(await client.get(f"{API}/me", headers=party.headers), 401, "unauthorized")
        assert (await client.get(f"{API}/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200


async def test_a_token_naming_an_unknown_key_is_refused(settings, clock):
    async with serving(settings, clock) as (app, client):
        party = await register(client)
        claims = jwt.decode(party.token, options={"verify_signature": False})
        secret = app.state.keyring.jwt.current
        unknown = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "0123456789abcdef"})
        # Without a kid, only the key of a directory from before key ids existed verifies; this one has none.
        without = jwt.encode(claims, secret, algorithm="HS256")
        for token in (unknown, without):
            shown = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
            assert_problem(shown, 401, "unauthorized")


async def stored_ciphertext(app, listing_id: str) -> bytes:
    async with app.state.db.read() as session:
        return await session.scalar(select(Listing.confidential_ciphertext).where(Listing.id == uuid.UUID(listing_id)))


async def test_confidential_details_sealed_before_a_data_rotation_still_decrypt(settings, clock):
    async with serving(settings, clock) as (app, client):
        ops = await operator(client, app)
        seller = await verified(client, ops)
        listing = await announced_listing(client, seller, ops)
        old_kid = crypto.key_id_of(await stored_ciphertext(app, listing["id"]))
        assert old_kid == app.state.keyring.data.current_id

    new_kid, previous = rotate_key(settings.keys_dir, "data", clock.now())
    assert previous == old_kid

    async with serving(settings, clock) as (app, client):
        url = f"{API}/listings/{listing['id']}/confidential"
        shown = await client.get(url, headers=ops.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["confidential_details"].startswith("电解质配方: Li7La3Zr2O12")
        # New details are sealed with the new key.
        changed = await client.post(
            f"{API}/listings",
            json=listing_body(confidential_details="新的配方"),
            headers=seller.headers,
        )
        assert changed.status_code == 201, changed.text
        assert crypto.key_id_of(await stored_ciphertext(app, changed.json()["id"])) == new_kid
