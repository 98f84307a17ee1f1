"""Innovation vouchers (SPEC §4): programs, grants, a service marketplace, voucher-and-cash orders,
redemption through public notices, expiry and fraud controls. See docs/vouchers.md.

What other modules use: ``ROUTE_HANDLERS``; ``register(listings_ctx, sweeper)`` wires the
redemption notice handler, the expiry reminder and the expiry step; ``BrokerageFeeVouchers`` lets trading take part
of a buyer's fee in vouchers; ``ServiceOrderDocuments`` is the rule of a service
order's documents; ``voucher_totals`` and ``VoucherTotals`` join ``GET /stats``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange.vouchers.controls import VoucherExpiringSweep, VoucherExpirySweep
from exchange.vouchers.documents import ServiceOrderDocuments
from exchange.vouchers.domain import VoucherTotals
from exchange.vouchers.fees import BrokerageFeeVouchers
from exchange.vouchers.redemptions import RedemptionNotices
from exchange.vouchers.reports import totals as voucher_totals
from exchange.vouchers.routes import ROUTE_HANDLERS
from listings import NoticeKind

if TYPE_CHECKING:
    from exchange.platform.sweeper import Sweeper
    from listings import ListingsContext


def register(listings: ListingsContext, sweeper: Sweeper) -> None:
    listings.hooks.register_notice_handler(NoticeKind.VOUCHER_REDEMPTION, RedemptionNotices())
    sweeper.add(VoucherExpiringSweep(rows=sweeper.rows))
    sweeper.add(VoucherExpirySweep(rows=sweeper.rows))


__all__ = [
    "ROUTE_HANDLERS",
    "BrokerageFeeVouchers",
    "RedemptionNotices",
    "ServiceOrderDocuments",
    "VoucherExpiringSweep",
    "VoucherExpirySweep",
    "VoucherTotals",
    "register",
    "voucher_totals",
]
