"""The inbox, preferences and webhook endpoints over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from exchange.platform.outbox import Audience, Kind, Subject, notify
from tests.conftest import make_settings
from tests.helpers import assert_problem, operator, register, verified


@pytest.fixture
def settings(backend, keys_dir):
    return make_settings(backend, keys_dir, public_base_url="https://techx.example")


async def tell(app, kind, to, *, subject=None, data=None):
    await app.state.db.transaction(lambda s: _notify(s, kind, to, app.state.clock.now(), subject, data))


async def _notify(session, kind, to, now, subject, data):
    notify(session, kind, to=to, now=now, subject=subject, data=data)


async def deliver(app):
    return await app.state.notifier.run_once(app.state.db, app.state.clock)


async def test_the_inbox_lists_newest_first_counts_unread_and_marks_read(client, app, clock):
    buyer = await register(client)
    other = await register(client)
    listing_id = uuid.uuid4()
    await tell(
        app,
        Kind.OUTBID,
        Audience(users=(uuid.UUID(buyer.user_id),)),
        subject=Subject("listing", listing_id),
        data={"listing_title": "一种锂电池隔膜", "high_bid_fen": 1_236_000_00},
    )
    clock.advance(timedelta(seconds=1))
    await tell(
        app,
        Kind.AUCTION_WON,
        Audience.of_orgs(uuid.UUID(buyer.org_id)),
        data={"listing_title": "隔膜", "price_fen": 500},
    )
    await deliver(app)

    page = (await client.get("/api/v1/notifications", headers=buyer.headers)).json()
    assert [i["kind"] for i in page["items"]] == ["auction.won", "auction.outbid"]
    outbid = page["items"][1]
    assert outbid["title"] == "您的出价已被超过：一种锂电池隔膜"
    assert "¥1,236,000.00" in outbid["body"]
    assert outbid["link"] == f"https://techx.example/listings/{listing_id}"
    assert outbid["subject"] == {"type": "listing", "id": str(listing_id)}
    assert outbid["read_at"] is None
    assert (await client.get("/api/v1/notifications/unread-count", headers=buyer.headers)).json() == {"unread": 2}

    first = (await client.get("/api/v1/notifications?limit=1", headers=buyer.headers)).json()
    second = (
        await client.get(f"/api/v1/notifications?limit=1&cursor={first['next_cursor']}", headers=buyer.headers)
    ).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [i["id"] for i in page["items"]]
    assert second["next_cursor"] is None

    read = await client.post(f"/api/v1/notifications/{outbid['id']}/read", headers=buyer.headers)
    assert read.status_code == 200 and read.json()["read_at"] == clock.now().isoformat().replace("+00:00", "Z")
    unread = (await client.get("/api/v1/notifications?unread=true", headers=buyer.headers)).json()
    assert [i["kind"] for i in unread["items"]] == ["auction.won"]
    assert (await client.get("/api/v1/notifications/unread-count", headers=buyer.headers)).json() == {"unread": 1}

    # Another user's item is not found, neither to read nor to mark.
    assert_problem(
        await client.post(f"/api/v1/notifications/{outbid['id']}/read", headers=other.headers), 404, "not-found"
    )
    assert (await client.get("/api/v1/notifications", headers=other.headers)).json()["items"] == []

    done = await client.post("/api/v1/notifications/read-all", headers=buyer.headers)
    assert done.json() == {"marked": 1}
    assert (await client.get("/api/v1/notifications/unread-count", headers=buyer.headers)).json() == {"unread": 0}
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_preferences_switch_kinds_per_channel_but_never_mandatory_ones(client, app):
    user = await register(client)
    prefs = (await client.get("/api/v1/notifications/preferences", headers=user.headers)).json()
    assert prefs["language"] == "zh"
    by_kind = {k["kind"]: k for k in prefs["kinds"]}
    assert set(by_kind) >= {k.value for k in Kind}
    assert by_kind["payment.due"]["mandatory"] and by_kind["auction.outbid"]["email"]

    changed = await client.put(
        "/api/v1/notifications/preferences",
        headers=user.headers,
        json={"language": "en", "kinds": {"auction.outbid": {"email": False}}},
    )
    assert changed.status_code == 200, changed.text
    outbid = next(k for k in changed.json()["kinds"] if k["kind"] == "auction.outbid")
    assert (outbid["email"], outbid["inbox"], changed.json()["language"]) == (False, True, "en")

    refused = await client.put(
        "/api/v1/notifications/preferences", headers=user.headers, json={"kinds": {"payment.due": {"email": False}}}
    )
    body = assert_problem(refused, 422, "notification-mandatory", "kinds.payment.due.email")
    assert body["kind"] == "payment.due"
    unknown = await client.put(
        "/api/v1/notifications/preferences", headers=user.headers, json={"kinds": {"x.y": {"email": False}}}
    )
    assert_problem(unknown, 422, "unknown-notification-kind", "kinds.x.y")
    bad_language = await client.put("/api/v1/notifications/preferences", headers=user.headers, json={"language": "fr"})
    assert bad_language.status_code == 400 and bad_language.json()["errors"][0]["field"] == "language"

    # The inbox speaks the chosen language.
    await deliver(app)  # the mail of the registration first
    await tell(app, Kind.OUTBID, Audience(users=(uuid.UUID(user.user_id),)), data={"listing_title": "Separator"})
    counts = await deliver(app)
    assert counts["expanded"] == 1
    [item] = (await client.get("/api/v1/notifications", headers=user.headers)).json()["items"]
    assert item["title"] == "You were outbid: Separator"


async def test_webhooks_are_registered_by_an_org_admin_with_a_secret_shown_once(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    base = f"/api/v1/orgs/{seller.org_id}/webhooks"
    for url in (
        "https://127.0.0.1/hooks",
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/",
        "http://93.184.216.34/",
    ):
        assert_problem(
            await client.post(base, headers=seller.headers, json={"url": url}), 422, "webhook-url-refused", "url"
        )
    unknown = await client.post(
        base, headers=seller.headers, json={"url": "https://93.184.216.34/h", "kinds": ["account.invitation"]}
    )
    assert_problem(unknown, 422, "unknown-notification-kind", "kinds.0")
    empty = await client.post(
        base, headers=seller.headers, json={"url": "https://93.184.216.34/h", "kinds": ["deal.settled", ""]}
    )
    assert_problem(empty, 422, "unknown-notification-kind", "kinds.1")

    created = await client.post(
        base, headers=seller.headers, json={"url": "https://93.184.216.34/hooks", "kinds": ["deal.settled"]}
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["active"] and hook["kinds"] == ["deal.settled"]
    listed = (await client.get(base, headers=seller.headers)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    stranger = await verified(client, ops)
    assert (await client.get(base, headers=stranger.headers)).status_code == 403
    assert (
        await client.post(base, headers=stranger.headers, json={"url": "https://93.184.216.34/x"})
    ).status_code == 403

    deliveries = await client.get(f"{base}/{hook['id']}/deliveries", headers=seller.headers)
    assert deliveries.status_code == 200 and deliveries.json()["items"] == []
    missing = await client.post(f"{base}/{hook['id']}/deliveries/{uuid.uuid4()}/redeliver", headers=seller.headers)
    assert_problem(missing, 404, "not-found")

    assert (await client.delete(f"{base}/{hook['id']}", headers=seller.headers)).status_code == 204
    assert (await client.get(base, headers=seller.headers)).json()[0]["active"] is False
    assert (await client.delete(f"{base}/{uuid.uuid4()}", headers=seller.headers)).status_code == 404
