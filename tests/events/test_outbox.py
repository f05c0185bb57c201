"""Events are written with the change they describe, and only then."""

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import all_events, feed, sequence
from tests.factories import create_company
from tests.ledger.helpers import bundle, move, product, warehouse


async def test_movement_writes_one_stock_changed_event(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p1, p2 = await product(client, c), await product(client, c)
    moved = await move(client, c, "receipt", [(p1, w, 5), (p2, w, 7)], reference="PO-1")

    events = [e for e in await all_events(isolated_app, client, c) if e["type"] == "stock.changed"]
    assert len(events) == 1
    event = events[0]
    assert event["company_id"] == c
    assert event["data"]["reason"] == "receipt"
    assert event["data"]["reference"] == "PO-1"
    assert event["data"]["entries"] == moved["entries"]
    assert set(event) == {"id", "type", "company_id", "occurred_at", "data"}


async def test_transfer_and_initial_stock_reasons(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    w1, w2 = await warehouse(client, c, "A"), await warehouse(client, c, "B")
    r = await client.post(
        f"/api/companies/{c}/products",
        json={
            "name": "W",
            "sku": "EV-INIT-1",
            "price": "1",
            "warehouse_id": w1,
            "initial_quantity": 9,
        },
    )
    assert r.status_code == 201
    p = r.json()["id"]
    r = await client.post(
        f"/api/companies/{c}/stock-transfers",
        json={"product_id": p, "from_warehouse_id": w1, "to_warehouse_id": w2, "quantity": 4},
    )
    assert r.status_code == 201
    events = await all_events(isolated_app, client, c)
    assert [e["type"] for e in events] == ["product.created", "stock.changed", "stock.changed"]
    assert events[0]["data"]["id"] == p and events[0]["data"]["price"] == "1.00"
    assert events[1]["data"]["reason"] == "receipt"
    assert events[2]["data"]["reason"] == "transfer"
    assert [e["reason"] for e in events[2]["data"]["entries"]] == ["transfer_out", "transfer_in"]


async def test_rejected_movement_leaves_no_event(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c)
    await move(client, c, "receipt", [(p, w, 2)])
    before = await all_events(isolated_app, client, c)

    # The first line applies, the second fails: the whole movement rolls back, 409.
    r = await client.post(
        f"/api/companies/{c}/stock-movements",
        json={
            "reason": "adjustment",
            "lines": [
                {"product_id": p, "warehouse_id": w, "delta": 1},
                {"product_id": p, "warehouse_id": w, "delta": -10},
            ],
        },
    )
    assert r.status_code == 409
    assert await all_events(isolated_app, client, c) == before


async def test_product_events(isolated_app: FastAPI, client: AsyncClient) -> None:
    c = (await create_company(client))["id"]
    p = await product(client, c, name="Old")
    assert (
        await client.patch(f"/api/companies/{c}/products/{p}", json={"name": "New"})
    ).status_code == 200
    assert (await client.delete(f"/api/companies/{c}/products/{p}")).status_code == 204
    # Already inactive: nothing more.
    assert (await client.delete(f"/api/companies/{c}/products/{p}")).status_code == 204
    events = await all_events(isolated_app, client, c)
    assert [e["type"] for e in events] == [
        "product.created",
        "product.updated",
        "product.deactivated",
    ]
    assert events[1]["data"]["name"] == "New"
    assert events[2]["data"]["is_active"] is False


async def test_feed_paging_filters_and_tenancy(
    isolated_app: FastAPI, client: AsyncClient, client_for
) -> None:  # type: ignore[no-untyped-def]
    company = await create_company(client)
    c = company["id"]
    other = await create_company(client, "Other")
    for i in range(5):
        await product(client, c, name=f"P{i}")
    await product(client, other["id"])
    await sequence(isolated_app)

    page1 = await feed(client, c, limit=2)
    assert len(page1["items"]) == 2
    page2 = await feed(client, c, page1["next_after"], limit=2)
    page3 = await feed(client, c, page2["next_after"], limit=2)
    page4 = await feed(client, c, page3["next_after"], limit=2)
    ids = [e["id"] for p in (page1, page2, page3) for e in p["items"]]
    assert len(ids) == 5 and ids == sorted(ids)
    assert page4 == {"items": [], "next_after": page3["next_after"]}
    assert all(e["company_id"] == c for p in (page1, page2, page3) for e in p["items"])

    only = await feed(client, c, type=["product.updated"])
    assert only["items"] == [] and only["next_after"] == 0
    assert (
        await client.get(f"/api/companies/{c}/events", params={"type": "nope"})
    ).status_code == 422
    assert (
        await client.get(f"/api/companies/{c}/events", params={"limit": 501})
    ).status_code == 422
    assert (await client.get(f"/api/companies/{c}/events", params={"after": -1})).status_code == 422

    # Another company's key: the feed is 404, never another company's events.
    other_client = client_for(other["api_key"])
    assert (await other_client.get(f"/api/companies/{c}/events")).status_code == 404


async def test_bundle_sale_is_one_event(isolated_app: FastAPI, client: AsyncClient) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    a, b = await product(client, c), await product(client, c)
    kit = await bundle(client, c, {a: 1, b: 2})
    await move(client, c, "receipt", [(a, w, 50), (b, w, 50)])
    await move(client, c, "sale", [(kit, w, -3)])
    changes = [e for e in await all_events(isolated_app, client, c) if e["type"] == "stock.changed"]
    assert changes[-1]["data"]["reason"] == "sale"
    assert {(e["product_id"], e["delta"]) for e in changes[-1]["data"]["entries"]} == {
        (a, -3),
        (b, -6),
    }
