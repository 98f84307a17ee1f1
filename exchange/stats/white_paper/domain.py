"""The white paper's pure rules: what a section is, the Beijing year and its months, the region of
an organisation from its unified social credit code, and the bands the tables group by.

No database and no web here: the sections (``sections.py``) ask SQL for the aggregates and build
``Section`` values from them; the views (``views.py``) write them as people read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from kernel.errors import DomainError

BEIJING = ZoneInfo("Asia/Shanghai")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a white paper may be asked for


class Unit(StrEnum):
    """How a column's values are written: the view chooses the words, the section only the unit."""

    TEXT = "text"
    COUNT = "count"  # an int
    MONEY = "money"  # fen (an int), written in yuan
    VOUCHERS = "vouchers"  # VCH units (one a fen of the program's funding), written in yuan
    PERCENT = "percent"  # a Ratio, written as 112.5%
    AVERAGE = "average"  # a Ratio, written as 2.5
    DATE = "date"  # a moment, written as its Beijing day


@dataclass(frozen=True, slots=True)
class Ratio:
    """An exact quotient of two sums (kept as the sums: a total row is the ratio of the totals, never
    an average of ratios); ``None`` as a value where the denominator is zero."""

    numerator: int
    denominator: int

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    unit: Unit


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """Which of a section's columns a chart draws: one bar per row (not the total), labelled by the
    ``label`` column, its length the ``value`` column; ``columns``: vertical bars (months)."""

    title: str
    value: int
    label: int = 0
    columns: bool = False
    unit_name: str = ""  # the axis' unit: 万元, 项, 笔


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the white paper: a table (its rows hold raw values: ints, fen, ``Ratio``s,
    texts), an optional total row, an optional chart of one of its columns, and a note saying how
    the figures were counted."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: tuple[Any, ...] | None = None
    chart: ChartSpec | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # figures a caller may read by name (tests, the bench)

    def __post_init__(self) -> None:
        for row in (*self.rows, *([self.total] if self.total else [])):
            if len(row) != len(self.columns):
                raise ValueError(f"section {self.key}: a row of {len(row)} cells for {len(self.columns)} columns")

    def row(self, label: str) -> dict[str, Any]:
        """The row whose first cell is ``label`` (or the total row, for ``"合计"``), by column title."""
        for row in (*self.rows, *([self.total] if self.total else [])):
            if row[0] == label:
                return {c.title: v for c, v in zip(self.columns, row, strict=True)}
        raise KeyError(f"section {self.key} has no row {label!r}")


# -- the Beijing year -----------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """From midnight of 1 January in Beijing to midnight of the next 1 January (end excluded)."""
    return datetime(year, 1, 1, tzinfo=BEIJING), datetime(year + 1, 1, 1, tzinfo=BEIJING)


def month_label(month: int) -> str:
    return f"{month}月"


# -- regions --------------------------------------------------------------------------------------
# An organisation's region is read from characters 3-8 of its unified social credit code (GB
# 32100-2015): the administrative division code of the authority that registered it. Shanghai's
# districts are named one by one (codes of districts merged since counted with the district they
# joined); elsewhere the province (its first two digits).

SHANGHAI_DISTRICTS: dict[str, str] = {
    "310101": "黄浦区",
    "310103": "黄浦区",  # 卢湾区, merged into 黄浦 in 2011
    "310104": "徐汇区",
    "310105": "长宁区",
    "310106": "静安区",
    "310107": "普陀区",
    "310108": "静安区",  # 闸北区, merged into 静安 in 2015
    "310109": "虹口区",
    "310110": "杨浦区",
    "310112": "闵行区",
    "310113": "宝山区",
    "310114": "嘉定区",
    "310115": "浦东新区",
    "310119": "浦东新区",  # 南汇区, merged into 浦东 in 2009
    "310116": "金山区",
    "310117": "松江区",
    "310118": "青浦区",
    "310120": "奉贤区",
    "310151": "崇明区",
    "310230": "崇明区",  # 崇明县 before 2016
}
SHANGHAI_CITY = "上海市（市级登记）"
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "32": "江苏省", "33": "浙江省",
    "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省", "41": "河南省",
    "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
UNKNOWN_REGION = "其他"


def region_of(division: str | None) -> str:
    """The region of a six-digit administrative division code (characters 3-8 of a credit code)."""
    if not division or len(division) != 6 or not division.isdigit():
        return UNKNOWN_REGION
    if division.startswith("31"):
        return SHANGHAI_DISTRICTS.get(division, SHANGHAI_CITY)
    return f"外省市：{PROVINCES[division[:2]]}" if division[:2] in PROVINCES else UNKNOWN_REGION


def region_order() -> list[str]:
    """Regions as the table lists them: Shanghai's districts, the city, other provinces, the rest."""
    districts = list(dict.fromkeys(SHANGHAI_DISTRICTS[c] for c in sorted(SHANGHAI_DISTRICTS)))
    return [*districts, SHANGHAI_CITY, *(f"外省市：{name}" for _, name in sorted(PROVINCES.items())), UNKNOWN_REGION]


# -- bands ----------------------------------------------------------------------------------------

# Deal price against the appraised value: the band's lower bound as a fraction (num, den), its name.
APPRAISAL_BANDS: tuple[tuple[str, Fraction | None], ...] = (
    ("低于评估值的80%", None),
    ("评估值的80%至100%", Fraction(4, 5)),
    ("评估值的100%至120%", Fraction(1)),
    ("评估值的120%及以上", Fraction(6, 5)),
)


def appraisal_band(price: int, appraised: int) -> int:
    """The index in ``APPRAISAL_BANDS`` of a deal at ``price`` whose listing was appraised at
    ``appraised`` (> 0): the last band whose lower bound the ratio reaches. The SQL of the section
    computes the same with integer comparisons; a test holds the two together."""
    band = 0
    for i, (_, lower) in enumerate(APPRAISAL_BANDS):
        if lower is not None and price * lower.denominator >= appraised * lower.numerator:
            band = i
    return band


# Bidders per auction: the band's name and its smallest count (the next band's smallest ends it).
BIDDER_BANDS: tuple[tuple[str, int], ...] = (("无人出价", 0), ("1人", 1), ("2人", 2), ("3至5人", 3), ("6人及以上", 6))


def bidder_band(bidders: int) -> int:
    """The index in ``BIDDER_BANDS`` of an auction with ``bidders`` distinct bidding organisations."""
    return max(i for i, (_, least) in enumerate(BIDDER_BANDS) if bidders >= least)


CONCLUDED_BY = {"auction": "网络竞价", "negotiation": "协议成交"}


class YearOutOfRange(DomainError):
    problem_type = "year-out-of-range"
    status = 400
    title = "The white paper's year is outside the years it covers"


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutOfRange(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}, not {year}", field="year")
    return year
