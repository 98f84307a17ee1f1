"""RFC 6962 Merkle trees, inclusion proofs, and signed checkpoints — pure functions, no database.

Hashing is RFC 6962's: a leaf is ``SHA-256(0x00 ‖ leaf)``, an inner node ``SHA-256(0x01 ‖ left ‖
right)``, and a tree of ``n`` leaves splits at the largest power of two smaller than ``n``.

A checkpoint is a signed note (the format of Go's ``golang.org/x/mod/sumdb/note`` and the C2SP
``tlog-checkpoint`` specification): the text — origin, tree size, base64 root hash, then extension
lines — a blank line, and one signature line ``— <name> <base64(key hash ‖ Ed25519 signature)>``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
GENESIS = bytes(32)  # the "previous block hash" of the first block
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space, as signed notes have it


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of leaf hashes (already ``leaf_hash``-ed)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root(hashes[:k]), root(hashes[k:]))


def audit_path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """The inclusion proof of leaf ``index``: sibling hashes from the leaf up to the root."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*audit_path(index, hashes[:k]), root(hashes[k:])]
    return [*audit_path(index - k, hashes[k:]), root(hashes[:k])]


def root_from_path(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof leads to (RFC 9162, section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    result = leaf
    for sibling in path:
        if sn == 0:
            raise ValueError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree is deep")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    try:
        return root_from_path(index, size, leaf, path) == expected_root
    except ValueError:
        return False


# -- checkpoints -------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def note_key_hash(name: str, public_key_raw: bytes) -> bytes:
    """The 4-byte key hash of a signed note: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ Ed25519 public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key_raw).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    height: int
    prev_hash: bytes
    time: str

    def text(self) -> str:
        return (
            f"{self.origin}\n{self.tree_size}\n{b64(self.root_hash)}\n"
            f"block {self.height}\nprev {b64(self.prev_hash)}\ntime {self.time}\n"
        )

    def block_hash(self) -> bytes:
        """What the next block chains to: SHA-256 of this checkpoint's text."""
        return hashlib.sha256(self.text().encode()).digest()

    def sign(self, signer: object) -> str:
        """The signed note. ``signer`` has ``sign(bytes) -> bytes`` and ``public_key_raw``."""
        text = self.text()
        signature = signer.sign(text.encode())  # type: ignore[attr-defined]
        key_hash = note_key_hash(self.origin, signer.public_key_raw)  # type: ignore[attr-defined]
        return f"{text}\n{SIGNATURE_PREFIX}{self.origin} {b64(key_hash + signature)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 7 or lines[6] != "":
            raise ValueError("a checkpoint has six lines and ends with a newline")
        extensions = dict(line.split(" ", 1) for line in lines[3:6])
        return cls(
            origin=lines[0],
            tree_size=int(lines[1]),
            root_hash=base64.b64decode(lines[2], validate=True),
            height=int(extensions["block"]),
            prev_hash=base64.b64decode(extensions["prev"], validate=True),
            time=extensions["time"],
        )


def open_note(note: str, public_key_raw: bytes) -> str:
    """The text of a signed note if its signature by ``public_key_raw`` verifies; ValueError otherwise."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise ValueError("the note has no signature block")
    text += "\n"
    name = text.split("\n", 1)[0]
    key = Ed25519PublicKey.from_public_bytes(public_key_raw)
    wanted = note_key_hash(name, public_key_raw)
    for line in signatures.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        signer_name, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        blob = base64.b64decode(encoded, validate=True)
        if signer_name != name or blob[:4] != wanted:
            continue
        try:
            key.verify(blob[4:], text.encode())
        except InvalidSignature as exc:
            raise ValueError("the checkpoint signature does not verify") from exc
        return text
    raise ValueError("the checkpoint carries no signature by this key")
