"""Canonical JSON and Ed25519 signatures of public notices.

The signed bytes are ``json.dumps(content, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8; anyone holding the exchange's public key from
``GET /api/v1/keys`` can check them offline.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol


class Signer(Protocol):
    """The exchange's signing key, as the composition root hands it in."""

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def canonical_json(content: Any) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign_content(signer: Signer, content: Any) -> tuple[str, str]:
    """The canonical text of ``content`` and its base64 signature."""
    text = canonical_json(content)
    return text, base64.b64encode(signer.sign(text.encode("utf-8"))).decode("ascii")
