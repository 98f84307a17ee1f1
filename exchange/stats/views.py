"""The published figures as the pages draw them: each chart with the data table beside it.

The numbers are those of ``StatsOut`` (``GET /stats``), unchanged; this module only chooses which
of them each chart shows, names them in Chinese and writes them as people read them (yuan, counts).
The geometry is ``exchange.web.charts``'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exchange.stats.figures import StatsOut
from exchange.web.charts import Chart, bar_chart, column_chart
from exchange.web.formats import wan_yuan, yuan
from exchange.web.labels import zh


@dataclass(frozen=True)
class Figure:
    """One chart and its table: ``headers`` name the columns, ``rows`` hold the cells as shown."""

    id: str  # the anchor of the figure on the page
    title: str
    chart: Chart
    headers: list[str]
    rows: list[list[str]]


def _count(n: int) -> str:
    return f"{n:,}"


def _month(key: str) -> str:
    return f"{int(key[5:])}月"  # "2027-03" → "3月"


def _figure(
    id: str,
    title: str,
    drawn: list[tuple[str, int]],
    shown: Callable[[int], str],
    headers: list[str],
    rows: list[list[str]],
    *,
    columns: bool = False,
) -> Figure:
    chart = (column_chart if columns else bar_chart)(drawn, shown)
    return Figure(id, title, chart, headers, rows)


def monthly_deal_value(stats: StatsOut) -> Figure:
    months = stats.deals.by_month
    return _figure(
        "deals-by-month",
        f"{stats.year}年各月成交金额",
        [(_month(m.month), m.value) for m in months],
        wan_yuan,
        ["月份", "成交笔数", "成交金额"],
        [[_month(m.month), _count(m.count), yuan(m.value)] for m in months],
        columns=True,
    )


def stats_figures(stats: StatsOut) -> list[Figure]:
    """The ``/stats`` page's charts, in reading order."""
    listings, deals, vouchers = stats.listings, stats.deals, stats.vouchers
    year = stats.year
    by_type = list(deals.by_deal_type)
    by_field = list(deals.by_field)
    voucher_rows = [
        ("预算", vouchers.budget),
        ("已到位资金", vouchers.funded),
        ("已发放", vouchers.issued),
        ("已用于服务", vouchers.spent),
        ("已兑付", vouchers.redeemed),
        ("已过期", vouchers.expired),
        ("已撤销", vouchers.revoked),
        ("未使用", vouchers.outstanding),
    ]
    return [
        _figure(
            "listings-by-month",
            f"{year}年各月挂牌项目数",
            [(_month(m.month), m.count) for m in listings.by_month],
            _count,
            ["月份", "挂牌项目数"],
            [[_month(m.month), _count(m.count)] for m in listings.by_month],
            columns=True,
        ),
        monthly_deal_value(stats),
        _figure(
            "listings-by-deal-type",
            f"{year}年按交易方式的挂牌项目数",
            [(zh(k, "deal_type"), n) for k, n in listings.by_deal_type.items()],
            _count,
            ["交易方式", "挂牌项目数"],
            [[zh(k, "deal_type"), _count(n)] for k, n in listings.by_deal_type.items()],
        ),
        _figure(
            "deals-by-deal-type",
            f"{year}年按交易方式的成交金额",
            [(zh(k, "deal_type"), deals.by_deal_type[k].value) for k in by_type],
            wan_yuan,
            ["交易方式", "成交笔数", "成交金额"],
            [
                [zh(k, "deal_type"), _count(deals.by_deal_type[k].count), yuan(deals.by_deal_type[k].value)]
                for k in by_type
            ],
        ),
        _figure(
            "listings-by-field",
            f"{year}年按技术领域的挂牌项目数",
            [(zh(k, "field"), n) for k, n in listings.by_field.items()],
            _count,
            ["技术领域", "挂牌项目数"],
            [[zh(k, "field"), _count(n)] for k, n in listings.by_field.items()],
        ),
        _figure(
            "deals-by-field",
            f"{year}年按技术领域的成交金额",
            [(zh(k, "field"), deals.by_field[k].value) for k in by_field],
            wan_yuan,
            ["技术领域", "成交笔数", "成交金额"],
            [[zh(k, "field"), _count(deals.by_field[k].count), yuan(deals.by_field[k].value)] for k in by_field],
        ),
        _figure(
            "vouchers",
            f"{year}年创新券发放与兑付",
            voucher_rows,
            wan_yuan,
            ["项目", "金额"],
            [[name, yuan(value)] for name, value in voucher_rows],
        ),
    ]
