"""The listing terms a seller answers for, over HTTP on both databases: the appraisal of record
(a public institution lists at or above it, relists at 90 % of it, replaces it only with a new
report), the inventors' declared reward share (shown, certified and settled), and the auction that
opens at the set time of the next working day after the announcement — never at midnight."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.helpers import assert_problem, listing_body, operator, register, relogin, verified
from tests.trading_helpers import (
    API,
    advance,
    announced,
    assert_ledger_sound,
    balance,
    fund,
    intent,
    key,
    past_notice,
    sweep,
    to_auction_opening,
    to_end_of_announcement,
)

REPORT = {"report_number": "申城评报字(2026)第0101号", "appraiser": "申城资产评估事务所", "report_date": "2026-02-10"}
NEW_REPORT = {
    "report_number": "申城评报字(2026)第0377号",
    "appraiser": "申城资产评估事务所",
    "report_date": "2026-03-25",
}
APPRAISED = 1_000_000
FUNDS = 100_000_000


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def notice_body(client, listing: dict) -> dict:
    notice = (await client.get(f"{API}/notices/{listing['announcement']['notice_id']}")).json()
    return notice["content"]["body"]


async def log(client, listing_id: str, party) -> list[dict]:
    return (await client.get(f"{API}/listings/{listing_id}/transitions", headers=party.headers)).json()["items"]


async def test_leaving_the_appraisal_out_does_not_take_a_public_institution_below_it(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    pricing = {"mode": "listed", "asking_price": APPRAISED, "appraised_value": APPRAISED}
    listing = await announced(client, seller, ops, mode="listed", pricing=pricing)
    url = f"{API}/listings/{listing['id']}"
    below = {"pricing": {"mode": "listed", "asking_price": APPRAISED // 2}}
    assert_problem(
        await client.patch(url, json=below, headers=seller.headers), 422, "invalid-listing", "pricing.asking_price"
    )
    clock.set(parse(listing["announcement"]["closes_at"]) + timedelta(minutes=1))
    await sweep(app)
    await relogin(client, seller)
    relisted = await client.post(f"{url}/relist", json=below, headers=seller.headers)
    assert_problem(relisted, 422, "invalid-listing", "pricing.asking_price")
    shown = (await client.get(url)).json()
    assert (shown["status"], shown["pricing"]["appraised_value"], shown["version"]) == ("unsold", APPRAISED, 1)


async def test_the_appraisal_of_record_stays_with_the_listing(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", name="东海理工大学技术转移中心")
    pricing = {"mode": "auction", "asking_price": APPRAISED, "appraised_value": APPRAISED, "appraisal_report": REPORT}
    listing = await announced(client, seller, ops, mode="auction", pricing=pricing)
    lid = listing["id"]
    assert listing["pricing"]["appraisal_report"] == REPORT
    assert (await notice_body(client, listing))["pricing"]["appraisal_report"] == REPORT

    # During the announcement: leaving the appraisal out does not take the price below it.
    url = f"{API}/listings/{lid}"
    cheaper = {"mode": "auction", "asking_price": 800_000}
    body = assert_problem(
        await client.patch(url, json={"pricing": cheaper}, headers=seller.headers),
        422,
        "invalid-listing",
        "pricing.asking_price",
    )
    assert "1000000 fen" in body["detail"]
    # A lower appraisal needs a new report; the report of record is not a new one.
    lower = {**cheaper, "appraised_value": 800_000}
    assert_problem(
        await client.patch(url, json={"pricing": lower}, headers=seller.headers),
        422,
        "invalid-listing",
        "pricing.appraisal_report",
    )
    assert_problem(
        await client.patch(url, json={"pricing": {**lower, "appraisal_report": REPORT}}, headers=seller.headers),
        422,
        "invalid-listing",
        "pricing.appraisal_report.report_number",
    )
    unchanged = (await client.get(url)).json()
    assert unchanged["version"] == 1 and unchanged["pricing"]["asking_price"] == APPRAISED
    # Dearer, with the appraisal left out: accepted, the appraisal of record and its report kept.
    dearer = await client.patch(
        url, json={"pricing": {"mode": "auction", "asking_price": 1_100_000}}, headers=seller.headers
    )
    assert dearer.status_code == 200, dearer.text
    kept = dearer.json()["pricing"]
    assert (kept["asking_price"], kept["appraised_value"], kept["appraisal_report"]) == (1_100_000, APPRAISED, REPORT)

    # No buyer: unsold. A relisting may go to 90% of the appraisal of record, not below it.
    clock.set(parse(dearer.json()["announcement"]["closes_at"]) + timedelta(minutes=1))
    await sweep(app)
    await relogin(client, seller, ops)
    relist = f"{API}/listings/{lid}/relist"
    assert_problem(
        await client.post(
            relist, json={"pricing": {"mode": "auction", "asking_price": 899_999}}, headers=seller.headers
        ),
        422,
        "invalid-listing",
        "pricing.asking_price",
    )
    lower = {"mode": "auction", "asking_price": 720_000, "appraised_value": 800_000}
    assert_problem(
        await client.post(relist, json={"pricing": lower}, headers=seller.headers),
        422,
        "invalid-listing",
        "pricing.appraisal_report",
    )
    assert (await client.get(url)).json()["status"] == "unsold"

    # A new appraisal report replaces it: logged, and shown in the new notice.
    relisted = await client.post(
        relist, json={"pricing": {**lower, "appraisal_report": NEW_REPORT}}, headers=seller.headers
    )
    assert relisted.status_code == 200, relisted.text
    shown = relisted.json()
    assert (shown["status"], shown["pricing"]["appraised_value"]) == ("announced", 800_000)
    assert shown["pricing"]["appraisal_report"] == NEW_REPORT
    body = await notice_body(client, shown)
    assert body["pricing"]["appraised_value"] == 800_000 and body["pricing"]["appraisal_report"] == NEW_REPORT
    relist_row = (await log(client, lid, seller))[-1]
    assert relist_row["action"] == "relist"
    assert "appraisal of record replaced" in relist_row["reason"]
    assert NEW_REPORT["report_number"] in relist_row["reason"] and REPORT["report_number"] in relist_row["reason"]

    # An amendment that replaces it is logged with the amendment.
    newest = {**NEW_REPORT, "report_number": "申城评报字(2026)第0420号", "report_date": "2026-04-01"}
    clock.set(parse(shown["announcement"]["opens_at"]) + timedelta(days=2))
    await relogin(client, seller)
    amended = await client.patch(
        url,
        json={
            "pricing": {
                "mode": "auction",
                "asking_price": 900_000,
                "appraised_value": 950_000,
                "appraisal_report": newest,
            }
        },
        headers=seller.headers,
    )
    assert amended.status_code == 200, amended.text
    amend_row = (await log(client, lid, seller))[-1]
    assert amend_row["action"] == "amend" and newest["report_number"] in amend_row["reason"]
    assert (await notice_body(client, amended.json()))["pricing"]["appraisal_report"] == newest


async def test_the_declared_inventor_reward_share_is_shown_certified_and_settled(client, app):
    ops = await operator(client, app)
    university = await verified(client, ops, "university", name="申江医科大学成果转化办公室")
    enterprise = await verified(client, ops, "enterprise")
    too_low = await client.post(
        f"{API}/listings", json=listing_body(inventor_reward_bp=6999), headers=university.headers
    )
    assert "70%" in assert_problem(too_low, 422, "invalid-listing", "inventor_reward_bp")["detail"]
    not_theirs = await client.post(
        f"{API}/listings", json=listing_body(inventor_reward_bp=8000), headers=enterprise.headers
    )
    assert_problem(not_theirs, 422, "invalid-listing", "inventor_reward_bp")
    defaulted = await client.post(f"{API}/listings", json=listing_body(), headers=university.headers)
    assert defaulted.json()["inventor_reward_bp"] == 7000  # left out: the minimum is declared
    plain = await client.post(f"{API}/listings", json=listing_body(), headers=enterprise.headers)
    assert plain.json()["inventor_reward_bp"] is None

    buyer = await verified(client, ops, name="杭州康源生物医药有限公司")
    await fund(app, buyer, FUNDS)
    listing = await announced(client, university, ops, mode="auction", inventor_reward_bp=8000)
    assert listing["inventor_reward_bp"] == 8000
    # Declaring more is no material change: a new notice shows it, the period keeps its end.
    amended = await client.patch(
        f"{API}/listings/{listing['id']}", json={"inventor_reward_bp": 8500}, headers=university.headers
    )
    assert amended.status_code == 200, amended.text
    listing = amended.json()
    assert listing["inventor_reward_bp"] == 8500
    assert (await notice_body(client, listing))["inventor_reward_bp"] == 8500
    assert listing["announcement"]["closes_at"] == "2026-03-30T16:00:00Z"

    everyone = (ops, university, buyer)
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, *everyone)
    await to_auction_opening(app, client, listing, *everyone)
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=buyer.headers)).json()
    price = 50_000_000
    placed = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": price}, headers={**buyer.headers, **key()}
    )
    assert placed.status_code == 201, placed.text
    await advance(app, client, timedelta(minutes=31), *everyone)
    (deal,) = (await client.get(f"{API}/deals", headers=buyer.headers)).json()["items"]
    await past_notice(app, client, deal["notice_id"], *everyone)
    for party in (university, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    certificate = (await client.get(f"{API}/deals/{deal['id']}/certificate", headers=buyer.headers)).json()
    assert certificate["content"]["inventor_reward_bp"] == 8500
    assert certificate["content"]["listing"]["inventor_reward_bp"] == 8500
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200, paid.text

    fee = 500_000  # 1% of ¥500,000
    reward = (price - fee) * 85 // 100
    assert paid.json()["fees"]["inventor_reward_bp"] == 8500 and paid.json()["fees"]["inventor_reward"] == reward
    assert certificate["content"]["inventor_reward"] == reward
    assert await balance(app, f"org:{university.org_id}:inventor_rewards") == reward == 42_075_000
    assert await balance(app, f"org:{university.org_id}:cash") == price - fee - reward
    await assert_ledger_sound(app)


async def test_the_auction_opens_at_the_set_time_of_the_next_working_day(client, app, clock):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute")
    a, b = await verified(client, ops), await verified(client, ops)
    for buyer in (a, b):
        await fund(app, buyer, FUNDS)
    everyone = (ops, seller, a, b)
    listing = await announced(client, seller, ops, mode="auction")
    objected = await announced(client, seller, ops, mode="listed")
    negotiated = await announced(client, seller, ops, mode="negotiated")
    # Shown from the start: the announcement ends at 24:00 on Monday 30 March (Beijing); the
    # auction opens at 10:00 on Tuesday 31 March, not at midnight.
    opens = "2026-03-31T02:00:00Z"
    assert listing["announcement"]["closes_at"] == "2026-03-30T16:00:00Z"
    assert listing["announcement"]["auction_opens_at"] == opens
    assert (await notice_body(client, listing))["announcement"]["auction_opens_at"] == opens
    assert negotiated["announcement"]["auction_opens_at"] is None
    for buyer in (a, b):
        await intent(client, buyer, listing["id"])
        await intent(client, buyer, objected["id"])
    objector = await register(client)
    filed = await client.post(
        f"{API}/notices/{objected['announcement']['notice_id']}/objections",
        json={"reason": "挂牌价格明显低于同类专利近期成交价，请核查。"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text

    await to_end_of_announcement(app, client, listing, *everyone)
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "auctioning"
    auction = (await client.get(f"{API}/listings/{listing['id']}/auction", headers=a.headers)).json()
    assert (auction["status"], auction["starts_at"]) == ("scheduled", opens)
    assert parse(auction["ends_at"]) == parse(opens) + timedelta(minutes=30) == parse(auction["scheduled_end"])

    def bid(party, amount):
        return client.post(
            f"{API}/auctions/{auction['id']}/bids", json={"amount": amount}, headers={**party.headers, **key()}
        )

    early = assert_problem(await bid(a, 50_000_000), 409, "auction-not-open")
    assert early["opens_at"] == opens and opens in early["detail"] and early["state"] == "scheduled"
    clock.set(parse(opens) - timedelta(seconds=1))
    await relogin(client, *everyone)
    assert_problem(await bid(b, 50_000_000), 409, "auction-not-open")
    assert (await sweep(app)).get("auction-close", 0) == 0  # nothing to close before it ran

    clock.set(parse(opens))
    assert (await bid(a, 50_000_000)).status_code == 201
    shown = (await client.get(f"{API}/auctions/{auction['id']}", headers=b.headers)).json()
    assert (shown["status"], shown["bid_count"]) == ("open", 1)
    await advance(app, client, timedelta(minutes=30), *everyone)
    assert (await client.get(f"{API}/auctions/{auction['id']}", headers=b.headers)).json()["status"] == "closed"

    # An objection held the other announcement past its announced opening: dismissed on Thursday
    # afternoon, its auction opens at 10:00 the next working day, with notice, not at once.
    assert (await client.get(f"{API}/listings/{objected['id']}")).json()["status"] == "suspended"
    clock.set(datetime.fromisoformat("2026-04-02T07:00:00+00:00"))  # Thursday 15:00 in Beijing
    await relogin(client, *everyone)
    dismissed = await client.post(
        f"{API}/objections/{filed.json()['id']}/resolve",
        json={"decision": "dismissed", "note": "价格依据评估报告，异议不成立"},
        headers=ops.headers,
    )
    assert dismissed.status_code == 200, dismissed.text
    reopened = (await client.get(f"{API}/listings/{objected['id']}")).json()
    assert reopened["status"] == "auctioning"
    assert reopened["announcement"]["auction_opens_at"] == "2026-04-03T02:00:00Z"  # Friday 10:00
    other = (await client.get(f"{API}/listings/{objected['id']}/auction", headers=a.headers)).json()
    assert (other["status"], other["starts_at"]) == ("scheduled", "2026-04-03T02:00:00Z")
    ended = next(r for r in await log(client, objected["id"], seller) if r["action"] == "end_announcement")
    assert "2026-04-03T02:00:00Z" in ended["reason"]
