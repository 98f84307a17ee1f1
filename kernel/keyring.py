"""Keys of one kind by id: the current key makes new tokens, signatures and ciphertexts; every key
of the ring still verifies and decrypts what it made.

What was made before key ids existed names no key: it belongs to the ring's ``legacy_id`` (the key
migrated from a single-file keys directory), or to no key at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")


@dataclass(frozen=True)
class KeyRing(Generic[K]):
    current_id: str
    keys: Mapping[str, K]
    legacy_id: str | None = None

    def __post_init__(self) -> None:
        if self.current_id not in self.keys:
            raise ValueError(f"the current key {self.current_id} is not in the ring")

    @property
    def current(self) -> K:
        return self.keys[self.current_id]

    def get(self, key_id: str | None) -> K | None:
        """The key named ``key_id``; None (no id) is the legacy key. None when the ring has no such key."""
        wanted = self.legacy_id if key_id is None else key_id
        return self.keys.get(wanted) if wanted is not None else None
