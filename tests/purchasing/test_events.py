"""Every change of a purchase order sends `purchase_order.updated` with the order as it is
after the change; a refused change sends nothing."""

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import all_events
from tests.purchasing.helpers import make_shop


async def test_each_change_sends_the_order_after_it(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    shop = await make_shop(client)
    a, b = await shop.product(), await shop.product()
    await shop.link(a)
    await shop.link(b)
    order = await shop.draft([(a, 4)])
    base = f"{shop.base}/purchase-orders/{order['id']}"
    patched = await client.patch(base, json={"lines": [{"product_id": a, "quantity": 5}]})
    assert patched.status_code == 200, patched.text
    assert (await client.post(f"{base}/order")).status_code == 200
    assert (await shop.receive(order["id"], [(a, 2)])).status_code == 201
    assert (await shop.receive(order["id"], [(a, 9)])).status_code == 409  # over-receipt
    cancelled = await client.post(f"{base}/cancel")
    assert cancelled.status_code == 200
    other = await shop.draft([(b, 1)])

    events = [
        e
        for e in await all_events(isolated_app, client, shop.company_id)
        if e["type"] == "purchase_order.updated"
    ]
    states = [
        (
            e["data"]["id"],
            e["data"]["status"],
            [ln["received_quantity"] for ln in e["data"]["lines"]],
        )
        for e in events
    ]
    assert states == [
        (order["id"], "draft", [0]),
        (order["id"], "draft", [0]),
        (order["id"], "ordered", [0]),
        (order["id"], "partially_received", [2]),
        (order["id"], "cancelled", [2]),
        (other["id"], "draft", [0]),
    ]
    assert events[-2]["data"] == cancelled.json()
    assert events[1]["data"]["lines"][0]["quantity"] == 5


async def test_drafts_from_alerts_send_one_event_each(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    shop = await make_shop(client)
    p = await shop.product(low_stock_threshold=10)
    await shop.link(p)
    r = await client.post(
        f"{shop.base}/stock-movements",
        json={
            "reason": "receipt",
            "lines": [{"product_id": p, "warehouse_id": shop.warehouse_id, "delta": 5}],
        },
    )
    assert r.status_code == 201
    r = await client.post(
        f"{shop.base}/stock-movements",
        json={
            "reason": "sale",
            "lines": [{"product_id": p, "warehouse_id": shop.warehouse_id, "delta": -1}],
        },
    )
    assert r.status_code == 201
    r = await client.post(f"{shop.base}/purchase-orders/from-alerts", json={})
    assert r.status_code == 201, r.text
    drafts = r.json()["purchase_orders"]
    assert len(drafts) == 1
    events = [
        e["data"]
        for e in await all_events(isolated_app, client, shop.company_id)
        if e["type"] == "purchase_order.updated"
    ]
    assert events == drafts
