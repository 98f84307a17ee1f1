"""技术合同认定登记 of a signed deal, on both databases: the seller's office records it once both
parties signed, once per deal; both parties and operators read it; the buyer, a member without the
office role and a stranger are refused."""

from __future__ import annotations

from tests.helpers import assert_problem, join, operator, verified
from tests.trading_helpers import API, announced, fund, intent, past_notice, to_end_of_announcement

BODY = {
    "contract_number": "2026310000000123",
    "registry_name": "上海市技术合同登记处",
    "registered_on": "2026-03-02",
    "certified_amount": 50_000_000,
}


async def test_the_sellers_office_registers_a_signed_deals_contract_once(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute", name="中科院上海硅酸盐研究所")
    buyer = await verified(client, ops, name="宁德新能")
    stranger = await verified(client, ops, name="无关公司")
    member = await join(client, seller, name="普通成员")
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    everyone = (ops, seller, buyer, stranger, member)
    await to_end_of_announcement(app, client, listing, *everyone)
    threads = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()
    thread = threads["items"][0]
    accepted = await client.post(
        f"{API}/negotiations/{thread['id']}/offers/{thread['offers'][0]['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    url = f"{API}/deals/{deal['id']}/contract-registration"

    # Before the signatures: refused, nothing recorded.
    assert_problem(await client.post(url, json=BODY, headers=seller.headers), 409, "invalid-state")
    assert_problem(await client.get(url, headers=seller.headers), 404, "not-found")

    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (seller, buyer):
        signed = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert signed.status_code == 200, signed.text

    # A stranger learns nothing of the deal; the buyer and a member without the office role may not record.
    assert_problem(await client.post(url, json=BODY, headers=stranger.headers), 404, "not-found")
    assert_problem(await client.get(url, headers=stranger.headers), 404, "not-found")
    assert_problem(await client.post(url, json=BODY, headers=buyer.headers), 403, "forbidden")
    assert_problem(await client.post(url, json=BODY, headers=member.headers), 403, "forbidden")
    # A registration dated after today is refused, naming the field.
    future = {**BODY, "registered_on": "2099-01-01"}
    assert_problem(await client.post(url, json=future, headers=seller.headers), 422, "invalid-step-record",
                   "registered_on")  # fmt: skip

    today = {**BODY, "registered_on": app.state.clock.now().date().isoformat()}
    recorded = await client.post(url, json=today, headers=seller.headers)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["contract_number"] == "2026310000000123"
    assert recorded.json()["certified_amount"] == 50_000_000
    # One per deal.
    assert_problem(await client.post(url, json={**BODY, "contract_number": "X"}, headers=seller.headers), 409,
                   "already-registered")  # fmt: skip
    for party in (seller, buyer, ops, member):
        shown = await client.get(url, headers=party.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["registry_name"] == "上海市技术合同登记处"
