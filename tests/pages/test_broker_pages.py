"""The pages of technology brokers: a service provider registers its brokers from its workspace (a
malformed credential is shown again with the Chinese words next to it, nothing written); an
operator verifies one and rejects another with a reason from the console, their organisation is
told; the public list and a broker's page show the verified one with its record in yuan; a seller
engages the broker from its workspace with a commission typed in per cent or yuan (bad input shown
again next to its input, nothing written), the broker's organisation is told and accepts, the
seller is told."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from exchange.brokers.models import Broker, Engagement
from exchange.platform.outbox import OutboxEvent
from tests.helpers import announced_listing, operator, verified
from tests.page_helpers import browser_of, htmx_post, post_form

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def count(app: Any, model: Any) -> int:
    async with app.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def told(app: Any, kind: str) -> list[OutboxEvent]:
    async with app.state.db.read() as session:
        return list((await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind))).all())


def error_next_to(page: str, name: str) -> str:
    """The words shown next to the input ``name`` (its ``…-error`` element)."""
    assert f'id="{name}-error"' in page, page
    return page.split(f'id="{name}-error">', 1)[1].split("</span>", 1)[0]


async def registered(app: Any, agency: Any, name: str, number: str) -> str:
    async with browser_of(app, agency) as office:
        await office.get("/workspace/brokers")
        made = await post_form(
            office, "/workspace/brokers", name=name, credential_number=number, issuing_body="上海市技术市场协会",
            contact="021-6000 0000",
        )  # fmt: skip
        assert made.status_code == 303, made.text
    async with app.state.db.read() as session:
        return str(await session.scalar(select(Broker.id).where(Broker.name == name)))


async def test_register_verify_reject_and_the_public_pages(client, app) -> None:
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    async with browser_of(app, agency) as office:
        page = await office.get("/workspace/brokers")
        assert page.status_code == 200 and "登记技术经纪人" in page.text and "技术经纪人与委托" in page.text
        bad = await post_form(
            office, "/workspace/brokers", name="王经纪", credential_number="12", issuing_body="上海市技术市场协会",
            contact="021-6000 0000",
        )  # fmt: skip
        assert bad.status_code == 422, bad.text
        assert "证书编号须为 8 至 32 位" in error_next_to(bad.text, "credential_number")
        assert 'value="王经纪"' in bad.text  # shown again as typed
    assert await count(app, Broker) == 0
    good = await registered(app, agency, "王经纪", "JSJJR-310000-2024-000123")
    other = await registered(app, agency, "李经纪", "JSJJR-310000-2024-000456")

    async with browser_of(app, ops) as console:
        queue = await console.get("/console/brokers")
        assert queue.status_code == 200 and "王经纪" in queue.text and "JSJJR-310000-2024-000456" in queue.text
        assert "技术经纪人认证" in queue.text  # in the console's navigation
        no_reason = await htmx_post(console, f"/console/brokers/{other}/reject", reason="")
        assert no_reason.status_code == 422 and "技术经纪" in no_reason.text
        ok = await post_form(console, f"/console/brokers/{good}/verify")
        assert ok.status_code == 303 and ok.headers["location"] == "/console/brokers?notice=broker-verified"
        rejected = await htmx_post(console, f"/console/brokers/{other}/reject", reason="证书编号与发证机构记录不符")
        assert rejected.status_code == 200 and "未通过认证" in rejected.text
    (verified_,) = await told(app, "broker.verified")
    (rejected_,) = await told(app, "broker.rejected")
    assert verified_.audience["orgs"] == [agency.org_id] and verified_.data["broker_name"] == "王经纪"
    assert rejected_.data["reason"] == "证书编号与发证机构记录不符"

    services = (await client.get("/services", headers={"accept": "text/html"})).text
    assert 'href="/brokers"' in services
    listed = (await client.get("/brokers", headers={"accept": "text/html"})).text
    assert "王经纪" in listed and "李经纪" not in listed and "上海技术经纪服务有限公司" in listed
    page = (await client.get(f"/brokers/{good}", headers={"accept": "text/html"})).text
    assert "JSJJR-310000-2024-000123" in page and "证书已经交易所核验" in page
    assert "已收佣金</dt><dd>¥0.00" in page and "未评级" in page and "0 条" in page  # not yet rated
    assert f'href="/credit/providers/{agency.org_id}"' in page
    hidden = await client.get(f"/brokers/{other}", headers={"accept": "text/html"})
    assert hidden.status_code == 404

    # The rejected broker, corrected, is registered again under its number: the same record, pending.
    again = await registered(app, agency, "李经纪（更正）", "JSJJR-310000-2024-000456")
    assert again == other and await count(app, Broker) == 2
    async with browser_of(app, ops) as console:
        assert "李经纪（更正）" in (await console.get("/console/brokers")).text
        # Suspending and reinstating a verified broker are told to its organisation.
        assert (
            await htmx_post(console, f"/console/brokers/{good}/suspend", reason="涉嫌违规，调查中")
        ).status_code == 200
        assert (await htmx_post(console, f"/console/brokers/{good}/reinstate")).status_code == 200
    (suspended,) = await told(app, "broker.suspended")
    (reinstated,) = await told(app, "broker.reinstated")
    assert suspended.data["reason"] == "涉嫌违规，调查中" and reinstated.audience["orgs"] == [agency.org_id]


async def test_a_seller_engages_a_broker_from_its_workspace(client, app) -> None:
    ops = await operator(client, app)
    agency = await verified(client, ops, "service_provider", "上海技术经纪服务有限公司")
    seller = await verified(client, ops, "enterprise", "上海固能新材料有限公司")
    broker = await registered(app, agency, "王经纪", "JSJJR-310000-2024-000123")
    verified_ = await client.post(f"/api/v1/brokers/{broker}/verify", headers=ops.headers)
    assert verified_.status_code == 200, verified_.text
    listing = await announced_listing(client, seller, ops, mode="listed")
    form = {"broker_id": broker, "subject_kind": "listing", "subject_id": listing["id"], "owed_by": "seller"}
    async with browser_of(app, seller) as firm:
        page = await firm.get(f"/workspace/brokerage?broker_id={broker}")
        assert page.status_code == 200 and "王经纪（上海技术经纪服务有限公司" in page.text
        assert f'<option value="{broker}" selected>' in page.text
        for typed, name, words in (
            ({"basis": "percent", "commission_percent": "三"}, "commission_percent", "佣金比例须为大于 0"),
            ({"basis": "percent", "commission_percent": "2.555"}, "commission_percent", "最多两位小数"),
            ({"basis": "fixed", "commission_yuan": "8000.001"}, "commission_yuan", "固定佣金须为大于 0 的金额（元）"),
            ({"basis": "fixed", "commission_yuan": "0"}, "commission_yuan", "固定佣金须为大于 0 的金额（元）"),
            ({"basis": "fixed", "commission_yuan": "99,999,999"}, "commission_yuan", "超出承担方可承担的金额"),
            ({"basis": "percent", "commission_percent": "3", "owed_by": "buyer"}, "owed_by", "本机构在该事项中的身份"),
        ):
            refused = await post_form(firm, "/workspace/brokerage", **{**form, **typed})
            assert refused.status_code == 422, (typed, refused.text)
            assert words in error_next_to(refused.text, name), (typed, refused.text)
        assert await count(app, Engagement) == 0  # nothing written
        made = await post_form(firm, "/workspace/brokerage", **form, basis="fixed", commission_yuan="8,000")
        assert made.status_code == 303, made.text
        mine = await firm.get("/workspace/brokerage")
        assert "固定金额 ¥8,000.00" in mine.text and "待经纪机构答复" in mine.text
    async with app.state.db.read() as session:
        engagement = await session.scalar(select(Engagement))
    assert engagement is not None and engagement.commission_fen == 800_000 and engagement.commission_bp is None
    (proposed,) = await told(app, "broker_engagement.proposed")
    assert proposed.audience["orgs"] == [agency.org_id] and proposed.data["basis"] == "固定金额 ¥8,000.00"

    async with browser_of(app, agency) as office:
        received = await office.get("/workspace/brokers")
        assert "上海固能新材料有限公司" in received.text and "接受委托" in received.text
        accepted = await post_form(office, f"/workspace/brokerage/{engagement.id}/accept")
        assert accepted.status_code == 303, accepted.text
    (told_accepted,) = await told(app, "broker_engagement.accepted")
    assert told_accepted.audience["orgs"] == [seller.org_id]
    assert told_accepted.data["listing_title"] == listing["title"]

    # A share of the price, typed in per cent, is shown as a percentage with two decimals.
    async with browser_of(app, seller) as firm:
        await firm.get("/workspace/brokerage")
        made = await post_form(firm, "/workspace/brokerage", **form, basis="percent", commission_percent="3")
        assert made.status_code == 303, made.text
        assert "成交价的 3.00%" in (await firm.get("/workspace/brokerage")).text
    async with app.state.db.read() as session:
        second = await session.scalar(select(Engagement).where(Engagement.commission_bp.is_not(None)))
    assert second is not None and second.commission_bp == 300
    async with browser_of(app, agency) as office:
        await office.get("/workspace/brokers")
        declined = await post_form(office, f"/workspace/brokerage/{second.id}/decline", reason="利益冲突，无法受托")
        assert declined.status_code == 303, declined.text
    (told_declined,) = await told(app, "broker_engagement.declined")
    assert told_declined.data["reason"] == "利益冲突，无法受托"
