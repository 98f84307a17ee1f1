"""The portal's home page and its figures: the same functions as ``GET /home`` and ``GET /stats``."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Template

from exchange.platform.http import Config, Db, Now, PublicFigures
from exchange.stats.figures import kept_annual_figures, kept_home_figures
from exchange.stats.views import monthly_deal_value, stats_figures
from listings import ListingsContext, stats_year
from listings.exports import EXPORT_COLUMNS
from listings.workdays import BEIJING

YEARS_OFFERED = 6  # the year selector offers the current year and the five before it


@get("/", include_in_schema=False, name="home")
async def home(
    db: Db, clock: Now, public_data: PublicFigures, settings: Config, listings: NamedDependency[ListingsContext]
) -> Template:
    figures = await kept_home_figures(db, public_data, listings, clock.now(), settings.page_cache_seconds)
    context = {"section": "home", "home": figures, "chart": monthly_deal_value(figures.figures)}
    return Template("stats/home.html", context=context)


@get("/stats", include_in_schema=False, name="stats")
async def stats(
    db: Db,
    clock: Now,
    public_data: PublicFigures,
    year: FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]] = None,
) -> Template:
    now = clock.now()
    figures = await kept_annual_figures(db, public_data, stats_year(year, now), now)
    current = now.astimezone(BEIJING).year
    years = sorted({figures.year, *range(current - YEARS_OFFERED + 1, current + 1)}, reverse=True)
    context = {"section": "stats", "stats": figures, "figures": stats_figures(figures), "years": years}
    return Template("stats/stats.html", context=context)


# What each column of the open-data CSV and xlsx holds (``listings.exports.EXPORT_COLUMNS``, in that
# order); a column added there without a line here fails tests/pages/test_home_pages.py.
OPEN_DATA_COLUMNS = {
    "cursor": "变更序号：同步时作为下一次请求的 since（整数，递增）",
    "listing_id": "项目 ID（UUID）",
    "number": "项目编号",
    "status": "项目状态代码（announced、auctioning、sold、unsold、withdrawn 等）",
    "public": "是否仍公开：false 表示已撤回或被驳回，仅保留此行作为删除标记，其余字段为空",
    "title": "成果名称",
    "field": "技术领域代码",
    "deal_type": "交易方式代码：transfer 转让、license 许可、equity 作价入股",
    "pricing_mode": "定价方式代码：negotiated 协议、listed 挂牌、auction 竞价",
    "asking_price": "挂牌价，单位：分（人民币）",
    "appraised_value": "评估价值，单位：分；无评估为空",
    "deposit": "保证金，单位：分",
    "increment": "竞价加价幅度，单位：分；非竞价为空",
    "keywords": "关键词，以分号分隔",
    "ip_assets": "知识产权，形如 类型:号码，以分号分隔",
    "seller_name": "转让方名称",
    "seller_kind": "转让方类型：university 高校、research_institute 科研院所、enterprise 企业",
    "first_announced_at": "首次公告时间（RFC 3339，UTC）",
    "announced_at": "本轮公告开始时间（RFC 3339，UTC）",
    "closes_at": "本轮公告截止时间（RFC 3339，UTC）",
    "updated_at": "最后变更时间（RFC 3339，UTC）",
    "summary": "成果简介",
    # The columns for people (after the machine columns above, which keep their order).
    "public_zh": "是否仍公开：是 / 否",
    "status_zh": "项目状态（中文）",
    "field_zh": "技术领域（中文）",
    "deal_type_zh": "交易方式（中文）",
    "pricing_mode_zh": "定价方式（中文）",
    "seller_kind_zh": "转让方类型（中文）",
    "asking_price_yuan": "挂牌价，单位：元（如 1,236,000.00）",
    "appraised_value_yuan": "评估价值，单位：元；无评估为空",
    "deposit_yuan": "保证金，单位：元",
    "increment_yuan": "竞价加价幅度，单位：元；非竞价为空",
    "first_announced_at_beijing": "首次公告时间（北京时间，如 2026-03-02 09:00:00）",
    "announced_at_beijing": "本轮公告开始时间（北京时间）",
    "closes_at_beijing": "本轮公告截止时间（北京时间）",
    "updated_at_beijing": "最后变更时间（北京时间）",
}


@get("/open-data", include_in_schema=False, name="open-data")
async def open_data() -> Template:
    columns = [(name, OPEN_DATA_COLUMNS.get(name, "")) for name in EXPORT_COLUMNS]
    return Template("stats/open_data.html", context={"section": "open-data", "columns": columns})


PAGE_HANDLERS = [home, stats, open_data]
