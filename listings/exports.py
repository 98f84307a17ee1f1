"""The open-data feed as a spreadsheet (``GET /open-data/listings?format=csv|xlsx``).

The feed is read by programs (achievement databases) as much as by people, so its columns keep
their machine-stable English names and values (codes, fen, RFC 3339 times), in the order the
open-data page documents; the columns for people — yuan, Chinese words, Beijing time, 是/否 —
follow them, so a reader that takes columns by position keeps working.
"""

from __future__ import annotations

from typing import Any

from kernel.exports import Column, Export, Kind, column
from listings.labels import LISTING_LABELS

# The machine columns, in the order they have always had.
CSV_COLUMNS = (
    "cursor",
    "listing_id",
    "number",
    "status",
    "public",
    "title",
    "field",
    "deal_type",
    "pricing_mode",
    "asking_price",
    "appraised_value",
    "deposit",
    "increment",
    "keywords",
    "ip_assets",
    "seller_name",
    "seller_kind",
    "first_announced_at",
    "announced_at",
    "closes_at",
    "updated_at",
    "summary",
)
_TEXT = {"number", "title", "keywords", "ip_assets", "seller_name", "summary"}
_INTS = {"cursor", "asking_price", "appraised_value", "deposit", "increment"}


def _words(vocabulary: str, key: str) -> Column:
    words = LISTING_LABELS[vocabulary]
    return column(f"{key}_zh", Kind.TEXT, lambda row: words.get(row.get(key) or "", row.get(key)))


# The columns for people, after the machine ones.
HUMAN_COLUMNS: tuple[Column, ...] = (
    column("public_zh", Kind.FLAG, "public"),
    _words("listing_status", "status"),
    _words("field", "field"),
    _words("deal_type", "deal_type"),
    _words("pricing_mode", "pricing_mode"),
    _words("org_kind", "seller_kind"),
    column("asking_price_yuan", Kind.YUAN, "asking_price"),
    column("appraised_value_yuan", Kind.YUAN, "appraised_value"),
    column("deposit_yuan", Kind.YUAN, "deposit"),
    column("increment_yuan", Kind.YUAN, "increment"),
    column("first_announced_at_beijing", Kind.MOMENT, "first_announced_at"),
    column("announced_at_beijing", Kind.MOMENT, "announced_at"),
    column("closes_at_beijing", Kind.MOMENT, "closes_at"),
    column("updated_at_beijing", Kind.MOMENT, "updated_at"),
)


def _kind(name: str) -> Kind:
    if name in _TEXT:
        return Kind.TEXT
    if name in _INTS:
        return Kind.INT
    return Kind.RAW


COLUMNS: tuple[Column, ...] = (*(column(name, _kind(name), name) for name in CSV_COLUMNS), *HUMAN_COLUMNS)
EXPORT_COLUMNS = tuple(c.header for c in COLUMNS)


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """A feed row (as the JSON lines carry it) with its nested parts spread into columns."""
    pricing = row.get("pricing") or {}
    seller = row.get("seller") or {}
    announcement = row.get("announcement") or {}
    deal = row.get("deal") or {}
    return {
        **row,
        "deal_type": deal.get("type"),
        "pricing_mode": pricing.get("mode"),
        "asking_price": pricing.get("asking_price"),
        "appraised_value": pricing.get("appraised_value"),
        "deposit": pricing.get("deposit"),
        "increment": pricing.get("increment"),
        "keywords": ";".join(row.get("keywords") or []),
        "ip_assets": ";".join(f"{a['kind']}:{a['number']}" for a in row.get("ip_assets") or []),
        "seller_name": seller.get("name"),
        "seller_kind": seller.get("kind"),
        "announced_at": announcement.get("opens_at"),
        "closes_at": announcement.get("closes_at"),
    }


def open_data_export(rows: list[dict[str, Any]], since: int) -> Export:
    return Export(
        COLUMNS,
        [flat_row(r) for r in rows],
        filename=f"科技成果开放数据-{since}",
        fallback=f"open-data-listings-{since}",
        sheet="科技成果",
    )
