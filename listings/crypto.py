"""Confidential details at rest: AES-256-GCM with a fresh 96-bit nonce on every write.

The listing id is the associated data, so a ciphertext copied onto another listing does not
decrypt. Stored form: ``0x02 ‖ key id (8 bytes) ‖ nonce (12 bytes) ‖ ciphertext and tag``, sealed
with the data key ring's current key; the key id names the key that opens it. The earlier form
``0x01 ‖ nonce ‖ ciphertext and tag`` names no key: the ring's legacy key opens it.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kernel.keyring import KeyRing

FORMAT_V1 = b"\x01"  # no key id: the legacy key
FORMAT_V2 = b"\x02"  # key id, 8 bytes (16 hex digits in the key ring)
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionFailed(Exception):
    """The key, the listing id or the stored bytes are not the ones the details were sealed with."""


def seal(keys: KeyRing[bytes], listing_id: uuid.UUID, plaintext: str) -> bytes:
    return seal_bytes(keys, listing_id, plaintext.encode("utf-8"))


def seal_bytes(keys: KeyRing[bytes], owner_id: uuid.UUID, plaintext: bytes) -> bytes:
    """Any bytes sealed as confidential details are (a confidential document's file): ``owner_id``
    is the associated data, so the sealed bytes open only for the record they were sealed for."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keys.current).encrypt(nonce, plaintext, owner_id.bytes)
    return FORMAT_V2 + bytes.fromhex(keys.current_id) + nonce + sealed


def key_id_of(stored: bytes) -> str | None:
    """The id of the data key that sealed ``stored``; None for the format without one (the legacy key)."""
    if stored[:1] == FORMAT_V2 and len(stored) >= 1 + KEY_ID_BYTES:
        return stored[1 : 1 + KEY_ID_BYTES].hex()
    if stored[:1] == FORMAT_V1:
        return None
    raise DecryptionFailed("not a sealed value of a known format")


def unseal(keys: KeyRing[bytes], listing_id: uuid.UUID, stored: bytes) -> str:
    return unseal_bytes(keys, listing_id, stored).decode("utf-8")


def unseal_bytes(keys: KeyRing[bytes], owner_id: uuid.UUID, stored: bytes) -> bytes:
    key_id = key_id_of(stored)
    body = stored[1:] if key_id is None else stored[1 + KEY_ID_BYTES :]
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed("not a sealed value of a known format")
    key = keys.get(key_id)
    if key is None:
        raise DecryptionFailed(f"sealed with data key {key_id or '(legacy)'}, which is not in the key ring")
    nonce, ciphertext = body[:NONCE_BYTES], body[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, owner_id.bytes)
    except InvalidTag as exc:
        raise DecryptionFailed("authentication failed: wrong key or wrong record") from exc


def reseal(keys: KeyRing[bytes], listing_id: uuid.UUID, stored: bytes) -> bytes | None:
    """``stored`` sealed again with the current key; None when it is sealed with it already."""
    if key_id_of(stored) == keys.current_id:
        return None
    return seal(keys, listing_id, unseal(keys, listing_id, stored))
