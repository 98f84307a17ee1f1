"""Signed documents (public notices, deal certificates): RFC 8785 canonical JSON signed with Ed25519.

The signed bytes are the UTF-8 of the canonical text; anyone holding the exchange's public key
from ``GET /api/v1/keys`` checks them offline.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

from kernel.canonical import canonical_json


class Signer(Protocol):
    """The exchange's signing key, as the composition root hands it in."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def sign_content(signer: Signer, content: Any) -> tuple[str, str]:
    """The canonical text of ``content`` and its base64 signature."""
    signed = canonical_json(content)
    return signed.decode("utf-8"), base64.b64encode(signer.sign(signed)).decode("ascii")
