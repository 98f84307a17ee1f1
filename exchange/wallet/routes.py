"""The caller's wallet. Balances come from the ledger once it exists; until then every unit is zero."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from exchange.server.dependencies import BEARER, Caller


class UnitBalance(msgspec.Struct):
    unit: str
    posted: int
    held: int
    available: int


class WalletOut(msgspec.Struct):
    org_id: str
    balances: list[UnitBalance]


class WalletController(Controller):
    path = "/wallet"
    tags = ["wallet"]

    @get("/", security=BEARER, summary="Balances of the caller's organisation per unit")
    async def balances(self, trader: Caller) -> WalletOut:
        return WalletOut(
            org_id=str(trader.org_id),
            balances=[UnitBalance(unit=u, posted=0, held=0, available=0) for u in ("CNY", "VCH")],
        )
