"""One intent's notifications, on both databases: an operator reading an older intent of a listing
with many intents sees all of its notifications."""

from __future__ import annotations

import uuid

from exchange.parties.models import Org, User
from exchange.platform.outbox import Kind
from exchange.platform.tables import new_id
from exchange.trading.models import Intent
from tests.helpers import _PASSWORD_HASH, credit_code, operator, verified
from tests.notification_helpers import only
from tests.trading_helpers import API, announced, fund, intent

OTHERS = 120  # more intents on the listing than any page of them holds


async def test_an_operator_sees_the_notifications_of_an_intent_among_many(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    buyer = await verified(client, ops)
    await fund(app, buyer, 100_000_000)
    listing = await announced(client, seller, ops, mode="listed")
    mine = await intent(client, buyer, listing["id"])
    now = app.state.clock.now()

    async def later_intents(session):
        # Newer intents of other organisations, written directly: many organisations through the API
        # would take minutes.
        for number in range(OTHERS):
            org = Org(name=f"机构 {number}", credit_code=credit_code(), kind="enterprise", created_at=now)
            session.add(org)
            await session.flush()
            user = User(
                email=f"u{number}-{uuid.uuid4().hex[:6]}@example.cn",
                password_hash=_PASSWORD_HASH,
                display_name="买方",
                org_id=org.id,
                role="admin",
                created_at=now,
            )
            session.add(user)
            await session.flush()
            session.add(
                Intent(
                    id=new_id(),
                    listing_id=uuid.UUID(listing["id"]),
                    org_id=org.id,
                    user_id=user.id,
                    number=number + 2,
                    status="active",
                    deposit=0,
                    created_at=now,
                )
            )

    await app.state.db.transaction(later_intents)
    # A material amendment tells every intent holder, the first one included.
    pricing = {"mode": "listed", "asking_price": 60_000_000, "appraised_value": 45_000_000}
    amended = await client.patch(f"{API}/listings/{listing['id']}", json={"pricing": pricing}, headers=seller.headers)
    assert amended.status_code == 200, amended.text

    for reader in (ops, buyer):
        shown = await client.get(f"{API}/intents/{mine['id']}", headers=reader.headers)
        assert shown.status_code == 200, shown.text
        (note,) = shown.json()["notifications"]
        assert note["kind"] == "listing_amended" and "pricing" in note["details"]["changed"]
    amended_row = await only(app.state.db, Kind.LISTING_AMENDED)
    assert buyer.org_id in amended_row.audience["orgs"] and amended_row.data["material"] is True
