"""The canonical JSON of everything TechX signs or hashes: RFC 8785 (JSON Canonicalization Scheme).

Notices, deal certificates, ledger entries in sealed blocks and request fingerprints are all
this one byte string, so a verifier in any language with a JCS library reproduces them.
Integers must lie within ±(2**53 − 1), which JCS can write exactly (the ledger's amounts do).
"""

from __future__ import annotations

from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` (dicts, lists, str, int, float, bool, None)."""
    return rfc8785.dumps(value)
