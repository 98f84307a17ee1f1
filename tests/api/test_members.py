"""An organisation's members over HTTP on both databases: invitations by email, joining with a role,
acting within it and refused beyond it, roles, removal, the admin hand-over and the last admin,
each change in the organisation's history."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from exchange.parties.models import User
from tests.conftest import make_settings, running
from tests.helpers import (
    PASSWORD,
    Party,
    accept,
    assert_problem,
    create_listing,
    db_of,
    invite,
    join,
    mailed_token,
    operator,
    register,
    verified,
)
from tests.trading_helpers import (
    announced,
    fund,
    intent,
    key,
    past_notice,
    to_end_of_announcement,
)

API = "/api/v1"


async def members(client, party: Party) -> dict[str, str]:
    response = await client.get(f"{API}/orgs/{party.org_id}/members", headers=party.headers)
    assert response.status_code == 200, response.text
    return {m["email"]: m["role"] for m in response.json()}


async def history(client, ops: Party, org_id: str) -> list[tuple[str, str]]:
    page = await client.get(f"{API}/orgs/{org_id}", headers=ops.headers)
    assert page.status_code == 200, page.text
    return [(e["action"], e["note"]) for e in page.json()["history"]]


async def test_an_invited_member_joins_and_lists_but_neither_signs_nor_pays(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "research_institute", name="中科院上海硅酸盐研究所")
    buyer = await verified(client, ops, name="宁德新能")
    await fund(app, buyer, 100_000_000)

    email = f"li.na-{uuid.uuid4().hex[:6]}@example.cn"
    invitation = await invite(client, seller, email)
    assert (invitation["email"], invitation["role"], invitation["accepted_at"]) == (email, "member", None)
    assert "token" not in invitation  # it travels by email only
    pending = await client.get(f"{API}/orgs/{seller.org_id}/invitations", headers=seller.headers)
    assert [i["id"] for i in pending.json()] == [invitation["id"]]
    mail = await mailed_token(db_of(client), "account.invitation", email)
    assert mail

    joined = await accept(client, email, "李娜")
    assert joined.status_code == 200, joined.text
    member = Party(joined.json()["access_token"], joined.json()["user"]["id"], seller.org_id, email)
    assert (await client.get(f"{API}/me", headers=member.headers)).json()["user"]["role"] == "member"
    assert await members(client, seller) == {seller.email: "admin", email: "member"}
    assert await members(client, member) == await members(client, seller)  # members see each other
    stranger = await register(client)
    assert_problem(await client.get(f"{API}/orgs/{seller.org_id}/members", headers=stranger.headers), 403, "forbidden")
    assert (await client.get(f"{API}/orgs/{seller.org_id}/invitations", headers=seller.headers)).json() == []

    # Within the role: a member drafts a listing for the organisation.
    draft = await create_listing(client, member)
    assert draft["status"] == "draft"

    # Beyond it: a member of the buyer neither signs nor pays.
    buyer_member = await join(client, buyer, name="王采购")
    listing = await announced(client, seller, ops, mode="listed")
    await intent(client, buyer, listing["id"])
    await to_end_of_announcement(app, client, listing, ops, seller, buyer, member, buyer_member)
    threads = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()
    (opening,) = threads["items"][0]["offers"]
    accepted = await client.post(
        f"{API}/negotiations/{threads['items'][0]['id']}/offers/{opening['id']}/accept", headers=buyer.headers
    )
    assert accepted.status_code == 201, accepted.text
    deal = accepted.json()
    await past_notice(app, client, deal["notice_id"], ops, seller, buyer, member, buyer_member)
    for party in (member, buyer_member):
        refused = await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)
        assert_problem(refused, 403, "admin-required", "role")
    for party in (seller, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    refused = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer_member.headers, **key()})
    assert_problem(refused, 403, "admin-required", "role")
    withdrawal = {"amount": 10_000, "payee": "招商银行 6225 **** 0001 宁德新能"}
    refused = await client.post(f"{API}/withdrawals", json=withdrawal, headers={**buyer_member.headers, **key()})
    assert_problem(refused, 403, "forbidden")
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.status_code == 200 and paid.json()["state"] == "settled", paid.text

    assert ("invited", f"{email} (member)") in await history(client, ops, seller.org_id)
    assert ("member_joined", f"{email} (member)") in await history(client, ops, seller.org_id)


async def test_invitations_are_single_use_expire_and_can_be_revoked(client, app, clock):
    admin = await register(client)  # an unverified organisation invites too
    used = f"used-{uuid.uuid4().hex[:6]}@example.cn"
    await invite(client, admin, used)
    token = await mailed_token(db_of(client), "account.invitation", used)
    assert (await accept(client, used)).status_code == 200
    again = await client.post(
        f"{API}/auth/accept-invitation", json={"token": token, "password": PASSWORD, "display_name": "x"}
    )
    assert_problem(again, 422, "invalid-token", "token")

    revoked = f"revoked-{uuid.uuid4().hex[:6]}@example.cn"
    invitation = await invite(client, admin, revoked)
    answer = await client.post(
        f"{API}/orgs/{admin.org_id}/invitations/{invitation['id']}/revoke", headers=admin.headers
    )
    assert answer.status_code == 200 and answer.json()["revoked_at"], answer.text
    assert_problem(await accept(client, revoked), 422, "invalid-token", "token")

    late = f"late-{uuid.uuid4().hex[:6]}@example.cn"
    await invite(client, admin, late)
    clock.advance(timedelta(days=7, seconds=1))
    assert_problem(await accept(client, late), 422, "invalid-token", "token")

    async with app.state.db.read() as session:
        emails = set((await session.scalars(select(User.email))).all())
    assert revoked not in emails and late not in emails


async def test_an_address_with_an_account_cannot_accept_and_members_cannot_invite(client):
    admin = await register(client)
    elsewhere = await register(client)
    await invite(client, admin, elsewhere.email)
    assert_problem(await accept(client, elsewhere.email), 409, "email-taken")

    member = await join(client, admin)
    refused = await client.post(
        f"{API}/orgs/{admin.org_id}/invitations", json={"email": "x@example.cn"}, headers=member.headers
    )
    assert_problem(refused, 403, "forbidden")
    foreign = await client.post(
        f"{API}/orgs/{elsewhere.org_id}/invitations", json={"email": "y@example.cn"}, headers=admin.headers
    )
    assert_problem(foreign, 403, "forbidden")
    already = await client.post(
        f"{API}/orgs/{admin.org_id}/invitations", json={"email": member.email}, headers=admin.headers
    )
    assert_problem(already, 409, "already-a-member", "email")
    weak = await client.post(
        f"{API}/auth/accept-invitation", json={"token": "t", "password": "qwertyuiop", "display_name": "x"}
    )
    assert_problem(weak, 422, "weak-password", "password")


async def test_the_last_admin_stays_until_handing_over(client, app):
    ops = await operator(client, app)
    admin = await register(client)
    member = await join(client, admin, name="接任者")
    member_url = f"{API}/orgs/{admin.org_id}/members/{member.user_id}"
    admin_url = f"{API}/orgs/{admin.org_id}/members/{admin.user_id}"

    assert_problem(await client.patch(admin_url, json={"role": "member"}, headers=admin.headers), 409, "last-admin")
    assert_problem(await client.delete(admin_url, headers=admin.headers), 409, "last-admin")
    assert_problem(await client.patch(member_url, json={"role": "admin"}, headers=member.headers), 403, "forbidden")
    assert_problem(await client.delete(admin_url, headers=member.headers), 403, "forbidden")

    # The hand-over: the admin makes the member admin, then steps down and leaves.
    promoted = await client.patch(member_url, json={"role": "admin"}, headers=admin.headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin", promoted.text
    stepped_down = await client.patch(admin_url, json={"role": "member"}, headers=admin.headers)
    assert stepped_down.status_code == 200 and stepped_down.json()["role"] == "member"
    assert_problem(await client.delete(member_url, headers=member.headers), 409, "last-admin")
    left = await client.delete(admin_url, headers=admin.headers)
    assert left.status_code == 204, left.text

    # The one who left can neither use their token nor sign in again.
    assert_problem(await client.get(f"{API}/me", headers=admin.headers), 401, "unauthorized")
    login = await client.post(f"{API}/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert_problem(login, 401, "unauthorized")
    assert await members(client, member) == {member.email: "admin"}

    actions = [action for action, _ in await history(client, ops, admin.org_id)]
    assert actions == ["registered", "invited", "member_joined", "role_changed", "role_changed", "member_removed"]
    notes = dict(reversed(await history(client, ops, admin.org_id)))
    assert notes["member_removed"] == f"{admin.email} (left)"


async def test_an_admin_removes_a_member_whose_sessions_end_at_once(client, app):
    admin = await register(client)
    member = await join(client, admin)
    removed = await client.delete(f"{API}/orgs/{admin.org_id}/members/{member.user_id}", headers=admin.headers)
    assert removed.status_code == 204, removed.text
    assert_problem(await client.get(f"{API}/me", headers=member.headers), 401, "unauthorized")
    assert await members(client, admin) == {admin.email: "admin"}
    async with app.state.db.read() as session:
        rows = await session.scalars(select(User).where(User.id == uuid.UUID(member.user_id)))
        assert rows.one().removed_at is not None  # kept: history names them

    # Invited again, the removed member gets their account back, in this organisation.
    await invite(client, admin, member.email)
    back = await accept(client, member.email, "回来的成员")
    assert back.status_code == 200, back.text
    assert back.json()["user"]["id"] == member.user_id
    assert await members(client, admin) == {admin.email: "admin", member.email: "member"}


async def test_invitations_are_limited_per_organisation_and_per_address(backend, keys_dir, clock):
    import httpx

    from exchange.server.app import create_app

    settings = make_settings(backend, keys_dir, invitations_per_day_per_org=3, account_mail_per_hour_per_address=2)
    app = create_app(settings, clock=clock, run_background_tasks=False)
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client,
    ):
        admin = await register(client)
        same = "same@example.cn"
        for _ in range(2):
            await invite(client, admin, same)
        per_address = await client.post(
            f"{API}/orgs/{admin.org_id}/invitations", json={"email": same}, headers=admin.headers
        )
        assert assert_problem(per_address, 429, "rate-limited")["limit"] == "account-mail-per-address"
        await invite(client, admin, "other@example.cn")
        per_org = await client.post(
            f"{API}/orgs/{admin.org_id}/invitations", json={"email": "third@example.cn"}, headers=admin.headers
        )
        assert assert_problem(per_org, 429, "rate-limited")["limit"] == "invitations-per-org"
        async with app.state.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 1
