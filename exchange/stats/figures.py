"""The figures the exchange publishes: the annual report (``GET /stats``, the ``/stats`` page) and
what the home page shows (``GET /home``, the ``/`` page).

Each is gathered by ONE function returning a plain struct, which both the JSON route and the page
call: figures kept up to date, or cached, wrap these functions rather than a route or a page.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.platform.db import Database
from exchange.platform.public_data import PublicData
from exchange.trading.auctions import running_auctions
from exchange.trading.deals import published_deals
from exchange.trading.schemas import DealResultOut, PublicAuctionOut
from exchange.trading.stats import DealFigures, deal_figures
from exchange.trading.views import deal_result_out, public_auction_out
from exchange.vouchers import VoucherTotals, voucher_totals
from listings import (
    CalendarYearMissing,
    ListingFigures,
    ListingsContext,
    NoticeStatus,
    NoticeSummaryOut,
    list_notices,
    listing_figures,
    notice_summary,
    objection_counts,
    stats_year,
    working_calendar,
)

HOME_AUCTIONS = 6
HOME_NOTICES = 6
HOME_RESULTS = 6


class StatsOut(msgspec.Struct):
    year: int
    generated_at: datetime
    listings: ListingFigures
    deals: DealFigures
    vouchers: VoucherTotals  # programs of the year: budget, funding and where their vouchers are


async def annual_figures(session: AsyncSession, year: int, now: datetime) -> StatsOut:
    """The year's listings, deals and vouchers (Beijing time) as ``GET /stats`` publishes them."""
    figures = await listing_figures(session, year)
    vouchers = await voucher_totals(session, year)
    deals = await deal_figures(session, year)
    return StatsOut(
        year=year,
        generated_at=now,
        listings=msgspec.convert(figures, ListingFigures),
        deals=deals,
        vouchers=vouchers,
    )


class ClosingNoticeOut(msgspec.Struct):
    notice: NoticeSummaryOut
    working_days_left: int | None  # None past the years the working-day calendar has


class HomeOut(msgspec.Struct):
    generated_at: datetime
    auctions: list[PublicAuctionOut]  # live now or opening soon, the soonest to end first
    closing_notices: list[ClosingNoticeOut]  # open notices, the soonest to close first
    latest_results: list[DealResultOut]  # deal results and negotiated prices, newest first
    figures: StatsOut  # the current year's (Beijing time)


async def _working_days_left(
    session: AsyncSession, listings: ListingsContext, now: datetime, periods: list[tuple[datetime, datetime]]
) -> list[int | None]:
    try:
        calendar = await working_calendar(session, listings.calendar)
        return [calendar.working_days_left(now, opens, ends) for opens, ends in periods]
    except CalendarYearMissing:
        return [None] * len(periods)  # a period past the calendar's years shows its date without a count


async def home_figures(
    session: AsyncSession, listings: ListingsContext, now: datetime, figures: StatsOut | None = None
) -> HomeOut:
    """Everything the home page shows, as of ``now``; the figures are those of the current year
    (``figures``: already made, by ``kept_annual_figures``)."""
    running = await running_auctions(session, now, HOME_AUCTIONS)
    notices, _ = await list_notices(
        session, status=NoticeStatus.OPEN, kind=None, subject_id=None, limit=HOME_NOTICES, cursor=None
    )
    counts = await objection_counts(session, [n.id for n in notices])
    left = await _working_days_left(session, listings, now, [(n.opens_at, n.closes_at) for n in notices])
    closing = [
        ClosingNoticeOut(notice_summary(n, counts.get(n.id, (0, 0)), now), days)
        for n, days in zip(notices, left, strict=True)
    ]
    results = [deal_result_out(notice) for _, notice in await published_deals(session, limit=HOME_RESULTS)]
    return HomeOut(
        generated_at=now,
        auctions=[public_auction_out(auction, listing, now) for auction, listing in running],
        closing_notices=closing,
        latest_results=results,
        figures=figures or await annual_figures(session, stats_year(None, now), now),
    )


# -- kept up to date, not made per request ------------------------------------------------------------
# The figures are made again only when public data changes (exchange.platform.public_data: a
# counter every change to a public table moves in its own transaction), not for every reader,
# signed in or not: GET /stats, the /stats page and GET /home, / share them.


async def kept_annual_figures(db: Database, public: PublicData, year: int, now: datetime) -> StatsOut:
    """``annual_figures``, made once per change of public data (``generated_at`` says when)."""

    async def make() -> StatsOut:
        async with db.read() as session:
            return await annual_figures(session, year, now)

    return await public.memoized(("annual figures", year), make)  # type: ignore[no-any-return]


async def kept_home_figures(
    db: Database, public: PublicData, listings: ListingsContext, now: datetime, fresh_for: float
) -> HomeOut:
    """``home_figures``, made once per change of public data and at most ``fresh_for`` seconds old:
    what is live and what closes soonest depend on the clock too (0: made for every request)."""

    async def make() -> HomeOut:
        # The year's figures change only with public data: kept on their own, the home page
        # does not scan the year's listings again every ``fresh_for`` seconds.
        figures = await kept_annual_figures(db, public, stats_year(None, now), now)
        async with db.read() as session:
            return await home_figures(session, listings, now, figures)

    if fresh_for <= 0:
        return await make()
    return await public.memoized(("home", now.timestamp() // fresh_for), make)  # type: ignore[no-any-return]
