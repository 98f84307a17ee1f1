"""Where attached files' bytes live: a small interface, so that an S3-compatible store can stand in
for the local disk without the rest of the module knowing.

Blobs are named by the SHA-256 of the bytes stored, so the same bytes are stored once and a blob
never changes once written. The database rows (``documents``) say what a blob is and who may read it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(Exception):
    """A document names a blob the store does not have (a store restored without its files)."""


class Storage(Protocol):
    async def put(self, data: bytes) -> str:
        """Store ``data``; returns its key (the SHA-256 hex of ``data``). Storing bytes already there is a no-op."""
        ...

    async def get(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalStorage:
    """Blobs in ``root/ab/cd/<sha256>``: two levels of folders keep any one folder small."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        if not _KEY.match(key):  # a key is never a path a caller could steer
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    async def put(self, data: bytes) -> str:
        key = key_of(data)
        await asyncio.to_thread(self._write, self.path_of(key), data)
        return key

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)  # whole or not at all: a reader never sees half a file
        finally:
            temporary.unlink(missing_ok=True)

    async def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {key} is not in {self.root}") from exc

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).exists)
