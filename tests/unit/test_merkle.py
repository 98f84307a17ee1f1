"""RFC 6962 Merkle trees, inclusion proofs and signed checkpoints."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle

# The test vectors of RFC 6962's reference implementation (certificate-transparency).
LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PROOFS = [
    (
        0,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def test_roots_match_rfc_6962_for_every_size():
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]
    for size in range(len(LEAVES) + 1):
        assert merkle.root(hashes[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "path"), PROOFS)
def test_audit_paths_match_the_reference_proofs(index, path):
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]
    assert [h.hex() for h in merkle.audit_path(index, hashes)] == path
    assert merkle.verify_inclusion(index, 8, hashes[index], merkle.audit_path(index, hashes), merkle.root(hashes))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=70), st.data())
def test_every_leaf_proves_its_inclusion_and_nothing_else_does(leaves, data):
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    top = merkle.root(hashes)
    index = data.draw(st.integers(0, len(leaves) - 1))
    path = merkle.audit_path(index, hashes)
    assert merkle.verify_inclusion(index, len(leaves), hashes[index], path, top)
    assert not merkle.verify_inclusion(index, len(leaves), merkle.leaf_hash(leaves[index] + b"x"), path, top)
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        assert (
            not merkle.verify_inclusion(other, len(leaves), hashes[index], path, top) or hashes[other] == hashes[index]
        )


class KeySigner:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public_key_raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(self.public_key_raw).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def checkpoint() -> merkle.Checkpoint:
    return merkle.Checkpoint("techx/ledger", 3, bytes(range(32)), 7, bytes(32), "2026-03-02T01:00:00.000000Z")


def test_a_signed_checkpoint_opens_with_its_public_key_only():
    signer = KeySigner()
    note = checkpoint().sign(signer)
    lines = note.split("\n")
    assert lines[:3] == ["techx/ledger", "3", merkle.b64(bytes(range(32)))]
    assert lines[-2].startswith("\u2014 techx/ledger ")
    text = merkle.open_note(note, signer.public_key_raw)
    assert merkle.Checkpoint.parse(text) == checkpoint()
    with pytest.raises(ValueError, match="no signature by this key"):
        merkle.open_note(note, KeySigner().public_key_raw)


def test_a_changed_checkpoint_no_longer_verifies():
    signer = KeySigner()
    forged = checkpoint().sign(signer).replace("\n3\n", "\n4\n", 1)
    with pytest.raises(ValueError, match="does not verify"):
        merkle.open_note(forged, signer.public_key_raw)


def test_the_block_hash_covers_the_whole_checkpoint_text():
    assert checkpoint().block_hash() == hashlib.sha256(checkpoint().text().encode()).digest()
    moved = merkle.Checkpoint("techx/ledger", 3, bytes(range(32)), 8, bytes(32), "2026-03-02T01:00:00.000000Z")
    assert moved.block_hash() != checkpoint().block_hash()
