"""How the pages write money, time and deadlines, as people in mainland China read them.

Pure functions, registered as the templates' filters: a template never does arithmetic on fen or
converts a time zone itself. Money arrives as an ``int`` of fen and leaves as yuan; a moment
arrives in UTC and leaves in Beijing time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from kernel.errors import BadRequest
from listings.workdays import BEIJING

FEN_PER_YUAN = 100
FEN_PER_WAN_YUAN = 1_000_000  # 万元: ten thousand yuan


def yuan(fen: int | None) -> str:
    """``¥1,236,000.00`` (negative amounts as ``-¥500.00``); an em dash for none."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{cents:02d}"


class AmountNotYuan(BadRequest):
    problem_type = "amount-not-yuan"
    title = "The amount is not a sum of yuan"


# What people type for a sum of yuan: digits with optional thousands separators (half or full
# width) and up to two decimals, optionally after a ¥ sign.
_YUAN_TYPED = re.compile(r"^[¥￥]?\s*([0-9]{1,3}(?:[,，][0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?$")
_MAX_YUAN_DIGITS = 13  # up to ¥9,999,999,999,999.99, below the API's MAX_FEN (10**15 fen): longer is a typo


def fen_of_yuan(typed: str, field: str = "amount") -> int:
    """The fen of a sum typed in yuan on a form (``1,236,000``, ``¥1236000.5``): the inverse of ``yuan``.
    Raises ``AmountNotYuan`` (400) for anything else, so the form says so in Chinese."""
    found = _YUAN_TYPED.match(typed.strip())
    digits = re.sub(r"[,，]", "", found.group(1)) if found else ""
    if found is None or len(digits) > _MAX_YUAN_DIGITS:
        raise AmountNotYuan(f"{typed!r} is not a sum of yuan", field=field)
    whole = int(digits)
    cents = int((found.group(2) or "0").ljust(2, "0"))
    return whole * FEN_PER_YUAN + cents


def wan_yuan(fen: int | None) -> str:
    """``123.6 万元`` as lists show prices: up to two decimals, trailing zeros dropped; small sums in yuan."""
    if fen is None:
        return "—"
    if abs(fen) < FEN_PER_WAN_YUAN:
        return yuan(fen)
    whole, rest = divmod(abs(fen), FEN_PER_WAN_YUAN)
    hundredths = round(rest / (FEN_PER_WAN_YUAN // 100))
    if hundredths == 100:
        whole, hundredths = whole + 1, 0
    sign = "-" if fen < 0 else ""
    text = f"{whole:,}.{hundredths:02d}".rstrip("0").rstrip(".")
    return f"{sign}{text} 万元"


def _end_of_day(local: datetime) -> bool:
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def beijing(moment: datetime | None) -> str:
    """``2027年1月28日 16:00`` in Beijing time. Midnight is written as the end of the day before
    (``2027年1月27日 24:00``): periods run "to 24:00" of their last day, as notices say."""
    if moment is None:
        return "—"
    local = moment.astimezone(BEIJING)
    if _end_of_day(local):
        day = local.date() - timedelta(days=1)
        return f"{day.year}年{day.month}月{day.day}日 24:00"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def beijing_seconds(moment: datetime | None) -> str:
    """``2027年1月28日 16:00:05``: bids and events, where the second matters."""
    if moment is None:
        return "—"
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def chinese_date(day: date | datetime | None) -> str:
    """``2027年1月28日``; a moment is taken on its Beijing day, midnight as the end of the day before
    (the last day of a period that runs to 24:00)."""
    if day is None:
        return "—"
    if isinstance(day, datetime):
        local = day.astimezone(BEIJING)
        day = local.date() - timedelta(days=1) if _end_of_day(local) else local.date()
    return f"{day.year}年{day.month}月{day.day}日"


def iso(moment: datetime | None) -> str:
    """RFC 3339 in UTC, for ``<time datetime>`` and the countdown script — never shown as text."""
    if moment is None:
        return ""
    return moment.astimezone(BEIJING).isoformat()


def working_days_left(days: int | None) -> str:
    """``还剩 3 个工作日``; the last day and a closed period read as such."""
    if days is None:
        return ""
    if days <= 0:
        return "已截止"
    if days == 1:
        return "最后 1 个工作日"
    return f"还剩 {days} 个工作日"


def percent_bp(basis_points: int | None) -> str:
    """``12.5%`` from basis points."""
    if basis_points is None:
        return "—"
    return f"{basis_points / 100:g}%"


FILTERS = {
    "yuan": yuan,
    "wan_yuan": wan_yuan,
    "beijing": beijing,
    "beijing_seconds": beijing_seconds,
    "chinese_date": chinese_date,
    "iso": iso,
    "working_days_left": working_days_left,
    "percent_bp": percent_bp,
}
