"""Deal figures for the annual report (``GET /stats``): settled deals by deal type, field, seller
kind and month (Beijing time), their value, the exchange's fees and the forfeited deposits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.trading.models import Deal

BEIJING = timezone(timedelta(hours=8))
DEAL_TYPES = ("transfer", "license", "equity")
FIELDS = (
    "electronic_information",
    "biomedicine",
    "advanced_manufacturing",
    "new_materials",
    "new_energy",
    "energy_saving_environment",
    "agriculture",
    "other",
)
SELLER_KINDS = ("university", "research_institute", "enterprise")


class DealCount(msgspec.Struct):
    count: int
    value: int  # fen


class DealMonth(msgspec.Struct):
    month: str  # YYYY-MM
    count: int
    value: int


class DealFigures(msgspec.Struct):
    formed: int  # deals formed in the year (any state since)
    settled: int
    value: int  # sum of settled prices, fen
    fees: int  # both sides' fees of settled deals, fen
    inventor_rewards: int
    defaulted: int
    forfeits: int  # the exchange's share of forfeited deposits, fen
    cancelled: int
    by_deal_type: dict[str, DealCount]
    by_field: dict[str, DealCount]
    by_seller_kind: dict[str, DealCount]
    by_month: list[DealMonth]


def _bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


async def deal_figures(session: AsyncSession, year: int) -> DealFigures:
    start, end = _bounds(year)
    settled = (Deal.state == "settled", Deal.settled_at >= start, Deal.settled_at < end)
    ended = (Deal.ended_at >= start, Deal.ended_at < end)
    count, value, fees, rewards = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Deal.price), 0),
                func.coalesce(func.sum(Deal.seller_fee + Deal.buyer_fee), 0),
                func.coalesce(func.sum(Deal.inventor_reward), 0),
            ).where(*settled)
        )
    ).one()
    formed = await session.scalar(
        select(func.count()).select_from(Deal).where(Deal.created_at >= start, Deal.created_at < end)
    )
    defaulted, forfeits = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Deal.forfeited_to_exchange), 0)).where(
                Deal.state == "defaulted", *ended
            )
        )
    ).one()
    cancelled = await session.scalar(select(func.count()).select_from(Deal).where(Deal.state == "cancelled", *ended))

    async def by(column: Any, keys: tuple[str, ...]) -> dict[str, DealCount]:
        out = {k: DealCount(0, 0) for k in keys}
        rows = await session.execute(
            select(column, func.count(), func.coalesce(func.sum(Deal.price), 0)).where(*settled).group_by(column)
        )
        for key, n, total in rows:
            out[str(key)] = DealCount(int(n), int(total))
        return out

    months = {m: DealMonth(f"{year}-{m:02d}", 0, 0) for m in range(1, 13)}
    # Settled deals are few (thousands a year): grouping by Beijing month in Python keeps the SQL portable.
    for moment, price in await session.execute(select(Deal.settled_at, Deal.price).where(*settled)):
        month = months[moment.astimezone(BEIJING).month]
        month.count += 1
        month.value += int(price)
    return DealFigures(
        formed=int(formed or 0),
        settled=int(count),
        value=int(value),
        fees=int(fees),
        inventor_rewards=int(rewards),
        defaulted=int(defaulted),
        forfeits=int(forfeits),
        cancelled=int(cancelled or 0),
        by_deal_type=await by(Deal.deal_type, DEAL_TYPES),
        by_field=await by(Deal.field, FIELDS),
        by_seller_kind=await by(Deal.seller_kind, SELLER_KINDS),
        by_month=list(months.values()),
    )
