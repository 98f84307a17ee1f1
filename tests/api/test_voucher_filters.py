"""The filters the voucher workspaces read through: a government's own programs, and one side of
the caller's service orders."""

from __future__ import annotations

from tests.voucher_helpers import API, cast, create_program, grant, order, service


async def test_programs_by_owner_and_orders_by_side(client, app) -> None:
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await grant(client, c.gov, program["id"], c.ent.org_id, 1_000_000)
    offered = await service(client, c.prov, price=2_000_000)
    placed = await order(client, c.ent, offered["id"], 1_000_000)
    assert placed.status_code == 201, placed.text

    mine = (await client.get(f"{API}/voucher-programs", params={"owner_org_id": c.gov.org_id})).json()["items"]
    assert [p["id"] for p in mine] == [program["id"]]
    assert (await client.get(f"{API}/voucher-programs", params={"owner_org_id": c.ent.org_id})).json()["items"] == []

    def ids(response) -> list[str]:
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    orders = f"{API}/service-orders"
    assert ids(await client.get(orders, params={"side": "buyer"}, headers=c.ent.headers)) == [placed.json()["id"]]
    assert ids(await client.get(orders, params={"side": "provider"}, headers=c.ent.headers)) == []
    assert ids(await client.get(orders, params={"side": "provider"}, headers=c.prov.headers)) == [placed.json()["id"]]
    assert ids(await client.get(orders, headers=c.prov.headers)) == [placed.json()["id"]]
    refused = await client.get(orders, params={"side": "seller"}, headers=c.prov.headers)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "side"
