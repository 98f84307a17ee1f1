"""The synchronisation feed (汇交): the registry's events since a cursor in signed batches of JSON Lines.

A batch is its header line, then one line per event. Each event line is the canonical JSON (RFC
8785) of the event as it was recorded; the header carries the schema version, the cursor range, the
count and the SHA-256 of the event lines as written, and is signed with the exchange's Ed25519 key
(``kernel.signing``): ``signature`` is over the canonical JSON of the header without ``signature``.
Receivers take the public key named by ``key_id`` from ``GET /api/v1/keys``. See docs/registry.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.registry.domain import batch_header, feed_line
from exchange.registry.service import RegistryContext, events_since
from kernel.canonical import canonical_json
from kernel.signing import sign_content
from kernel.time import rfc3339

MAX_BATCH = 1000


@dataclass(frozen=True)
class Batch:
    since: int
    last: int  # the cursor to ask from next (== since when the batch is empty)
    count: int
    body: bytes  # the header line, then the event lines

    @property
    def name(self) -> str:
        return f"registry-{self.since + 1:012d}-{self.last:012d}.jsonl"


async def batch(session: AsyncSession, ctx: RegistryContext, since: int, limit: int, now: datetime) -> Batch:
    """The events after ``since`` (at most ``limit``) as one signed batch."""
    events = await events_since(session, since, min(max(limit, 1), MAX_BATCH))
    lines = [feed_line(canonical_json(e.record)) for e in events]
    last = events[-1].seq if events else since
    header = batch_header(lines, since=since, last=last, key_id=ctx.signer.key_id, issued_at=rfc3339(now))
    _, signature = sign_content(ctx.signer, header)
    head = canonical_json({**header, "signature": signature}) + b"\n"
    return Batch(since, last, len(lines), head + b"".join(lines))


class BatchRejected(ValueError):
    """A batch that does not verify: tampered, truncated, or signed by another key."""


def verify_batch(body: bytes, public_keys: dict[str, bytes]) -> tuple[dict[str, object], list[dict[str, object]]]:
    """What a receiving system does with a batch (and the tests do): check the header's signature
    with the exchange's public key named by ``key_id`` (raw Ed25519 bytes by key id, from
    ``GET /api/v1/keys``), the SHA-256 and the count of the lines; the header and the events."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    head, _, rest = body.partition(b"\n")
    header = json.loads(head)
    signature = base64.b64decode(header.pop("signature"))
    key = public_keys.get(str(header.get("key_id")))
    if key is None:
        raise BatchRejected(f"no public key {header.get('key_id')}")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, canonical_json(header))
    except InvalidSignature:
        raise BatchRejected("the header's signature does not verify") from None
    if hashlib.sha256(rest).hexdigest() != header["sha256"]:
        raise BatchRejected("the lines' SHA-256 differs from the header's")
    lines = [json.loads(line) for line in rest.splitlines() if line]
    if len(lines) != header["count"]:
        raise BatchRejected("the number of lines differs from the header's count")
    return header, lines
