"""Confidential details at rest: AES-256-GCM with a fresh 96-bit nonce on every write.

The listing id is the associated data, so a ciphertext copied onto another listing does not
decrypt. Stored form: ``version byte ‖ nonce (12 bytes) ‖ ciphertext and tag``.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """The key, the listing id or the stored bytes are not the ones the details were sealed with."""


def seal(key: bytes, listing_id: uuid.UUID, plaintext: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), listing_id.bytes)


def unseal(key: bytes, listing_id: uuid.UUID, stored: bytes) -> str:
    if len(stored) < 1 + NONCE_BYTES + 16 or stored[:1] != FORMAT_V1:
        raise DecryptionFailed("not a sealed value of a known format")
    nonce, ciphertext = stored[1 : 1 + NONCE_BYTES], stored[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, listing_id.bytes).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionFailed("authentication failed: wrong key or wrong listing") from exc
