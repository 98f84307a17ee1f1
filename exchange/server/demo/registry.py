"""The demo's achievement registry (科技成果登记), at the present:

- the sellers of three announced demo listings register them (prefilled from the listing), the
  operator registers two and returns the third with a reason;
- a bulk import from a partner platform (浦江成果转化平台) of four achievements, as
  ``techx registry import`` would run it: one run record, four registrations in the feed.

Every act goes through the registry's services at the clock's moment, as the pages do.
"""

from __future__ import annotations

from exchange.registry import imports, service
from exchange.registry.domain import Action, Level
from exchange.registry.schemas import AchievementIn
from exchange.server.demo.stage import Demo
from kernel.csvtext import csv_text
from listings.models import Listing

CONTACT = {"contact_name": "陈立新", "contact_phone": "021-6598 1234", "contact_email": "tto@donghai.example.cn"}
HEADER = ("来源编号", "成果名称", "成果简介", "成果类别", "关键词", "成果水平", "成果阶段", "所属领域", "经费来源",
          "项目编号", "联系人", "联系电话", "完成单位")  # fmt: skip
PARTNER_ROWS = [
    ("PJ-2025-017", "高通量基因测序样本制备方法", "一种自动化的测序文库制备方法，缩短样本准备时间一半。", "应用技术",
     "基因测序；文库制备", "国内领先", "中期", "生物医药", "市科委科技创新行动计划", "23S11900100", "周敏",
     "021-5566 7788", "浦江生命科学研究院"),
    ("PJ-2025-018", "城市污泥低温干化工艺", "利用余热的污泥低温干化成套工艺，含水率降至30%以下。", "应用技术",
     "污泥干化；余热利用", "国内先进", "成熟", "节能环保", "企业自筹", "", "吴刚", "021-5566 7790",
     "东海环境工程有限公司"),
    ("PJ-2025-021", "长三角技术转移政策评估", "对长三角技术转移政策的比较评估与建议。", "软科学", "技术转移；政策评估",
     "其他", "成熟", "其他", "市哲学社会科学规划课题", "2024BGL003", "郑洁", "021-5566 7791", "东海社会科学院"),
    ("PJ-2025-024", "钙钛矿薄膜缺陷钝化机理", "钙钛矿薄膜晶界缺陷钝化的机理研究。", "基础理论", "钙钛矿；缺陷钝化",
     "国际先进", "初期", "新能源", "国家自然科学基金", "52272001", "孙磊", "021-5566 7792", "东海理工大学"),
]  # fmt: skip


async def scene_registry(demo: Demo) -> str:
    registry = demo.modules.registry
    operator = demo.principals["ops"]
    by_org = {p.org_id: p for p in demo.principals.values() if p.is_admin}
    async with demo.db.read() as session:
        ids = list(demo.listings.values())
        listings = [(await session.get(Listing, i)) for i in ids]
    announced = [item for item in listings if item is not None and item.first_announced_at is not None]
    drafts = []
    for listing in announced[:3]:
        owner = by_org.get(listing.seller_org_id)
        if owner is None:
            continue
        data = AchievementIn(listing_id=listing.id, level=Level.DOMESTIC_LEADING, **CONTACT)
        made = await demo.tx(lambda s, o=owner, d=data: service.create_draft(s, registry, o, d, demo.now))
        await demo.tx(lambda s, o=owner, i=made.id: service.submit(s, o, i, demo.now))
        drafts.append(made.id)
    for n, achievement_id in enumerate(drafts):
        action, reason = (Action.RETURN, "请补充经费来源与项目编号。") if n == 2 else (Action.REGISTER, "")
        await demo.tx(
            lambda s, i=achievement_id, a=action, r=reason: service.decide(s, registry, operator, i, a, r, demo.now)
        )
    partner_file = csv_text([HEADER, *PARTNER_ROWS]).encode("utf-8")
    result = await imports.import_file(
        demo.db, registry, demo.clock, filename="pujiang-2025.csv", content=partner_file,
        source="浦江成果转化平台", by="techx registry import pujiang-2025.csv (demo)",
    )  # fmt: skip
    return (
        f"registry: {len(drafts)} listings submitted ({min(len(drafts), 2)} registered), "
        f"{result.created} achievements imported"
    )
