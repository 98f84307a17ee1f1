"""What the listings module needs from its host, gathered in one object per application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from kernel.keyring import KeyRing
from kernel.signing import Signer
from listings.calendar import CalendarCache
from listings.domain import ListingRules
from listings.hooks import ListingHooks

T = TypeVar("T")


@runtime_checkable
class UnitOfWork(Protocol):
    """The host's database: ``transaction(work)`` runs ``work(session)`` in one retried transaction;
    ``read()`` opens a read-only session; ``replica()`` one that the host may answer from a read
    replica a few seconds behind (the public board, search and open data; never a decision)."""

    @property
    def is_postgres(self) -> bool: ...

    async def transaction(self, work: Callable[[Any], Awaitable[T]]) -> T: ...

    def read(self) -> Any: ...

    def replica(self) -> Any: ...


class ListingsContext:
    """Rules (from settings), the exchange's current signing key, the data key ring, the hook registry,
    this process's cached working-day calendar (``listings/calendar.py``), and the exchange's public
    address (the QR codes of printed documents link to its pages).

    A plain class, not a dataclass: the web framework passes it through untouched as a dependency.
    """

    def __init__(
        self,
        rules: ListingRules,
        signer: Signer,
        data_keys: KeyRing[bytes],
        hooks: ListingHooks | None = None,
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        if any(len(key) != 32 for key in data_keys.keys.values()):
            raise ValueError("every data key must be 32 bytes (AES-256)")
        self.rules = rules
        self.signer = signer
        self.data_keys = data_keys
        self.hooks = hooks or ListingHooks()
        self.calendar = CalendarCache()
        self.public_url = public_url.rstrip("/")
