"""The report's on-order stock and drafting orders from it (SPEC 'The low-stock report',
'Purchase orders')."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import create_supplier, create_warehouse
from tests.ledger.helpers import move
from tests.purchasing.helpers import Shop, make_shop

DAY = timedelta(days=1)


@pytest.fixture
async def shop(client: AsyncClient) -> Shop:
    return await make_shop(client)


async def alerts(shop: Shop, **params: Any) -> dict[tuple[int, int], dict[str, Any]]:
    r = await shop.client.get(f"{shop.base}/alerts/low-stock", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_alerts"] == len(body["alerts"])
    return {(a["product_id"], a["warehouse_id"]): a for a in body["alerts"]}


async def low(shop: Shop, warehouse_id: int | None = None, **fields: Any) -> int:
    """A product with threshold 20 that sold 12 of its 17 units 3 days ago: stock 5."""
    wid = warehouse_id or shop.warehouse_id
    pid = await shop.product(low_stock_threshold=20, **fields)
    now = datetime.now(UTC)
    await move(
        shop.client,
        shop.company_id,
        "receipt",
        [(pid, wid, 17)],
        occurred_at=(now - 40 * DAY).isoformat(),
    )
    await move(
        shop.client,
        shop.company_id,
        "sale",
        [(pid, wid, -12)],
        occurred_at=(now - 3 * DAY).isoformat(),
    )
    return pid


async def test_on_order_lowers_the_recommendation_and_receipts_follow(shop: Shop) -> None:
    pid = await low(shop)
    await shop.link(pid, is_primary=True, lead_time_days=7)
    key = (pid, shop.warehouse_id)
    before = (await alerts(shop))[key]
    # 20 - 5 - 0 + ceil(12 * 7 / 30) = 18; order by today + (12 - 7) days
    assert (before["recommended_order_quantity"], before["on_order"]) == (18, 0)
    today = datetime.now(UTC).date()
    assert before["order_by"] == (today + 5 * DAY).isoformat()

    order = await shop.placed([(pid, 10)])
    after = (await alerts(shop))[key]
    assert (after["recommended_order_quantity"], after["on_order"]) == (8, 10)
    assert (await alerts(shop, needs_order="true"))[key]["recommended_order_quantity"] == 8

    assert (await shop.receive(order["id"], [(pid, 4)])).status_code == 201
    # stock 9, on order 6: 20 - 9 - 6 + 3 = 8; days = floor(9 * 30 / 12) = 22
    mid = (await alerts(shop))[key]
    assert (mid["current_stock"], mid["on_order"], mid["recommended_order_quantity"]) == (9, 6, 8)
    assert mid["order_by"] == (today + 15 * DAY).isoformat()

    bigger = await shop.placed([(pid, 20)])
    full = (await alerts(shop))[key]
    assert (full["on_order"], full["recommended_order_quantity"]) == (26, 0)
    assert key not in await alerts(shop, needs_order="true")
    assert key in await alerts(shop, needs_order="false")
    r = await shop.client.post(f"{shop.base}/purchase-orders/{bigger['id']}/cancel")
    assert r.status_code == 200
    assert (await alerts(shop))[key]["on_order"] == 6


async def test_order_by_may_lie_in_the_past(shop: Shop) -> None:
    pid = await low(shop)
    await shop.link(pid, lead_time_days=30)
    alert = (await alerts(shop))[(pid, shop.warehouse_id)]
    today = datetime.now(UTC).date()
    assert alert["order_by"] == (today + (12 - 30) * DAY).isoformat()


async def test_from_alerts_drafts_per_supplier_and_warehouse(
    client: AsyncClient, shop: Shop
) -> None:
    annex = (await create_warehouse(client, shop.company_id, "Annex"))["id"]
    other_sup = (await create_supplier(client, shop.company_id, "Other"))["id"]
    a, b = await low(shop), await low(shop)
    c = await low(shop)  # supplied by the other supplier
    a_annex = await low(shop)  # sold in the annex
    await move(client, shop.company_id, "receipt", [(a, annex, 3)])
    nosup = await low(shop)
    enough = await low(shop)
    for pid in (a, b, enough):
        await shop.link(pid, is_primary=True, unit_cost="1.25", min_order_qty=5)
    await shop.link(c, other_sup, lead_time_days=2, unit_cost="9.00")
    await shop.link(a_annex, lead_time_days=1)
    await shop.placed([(enough, 100)])  # needs nothing: left out of both lists
    # a_annex's stock in the annex: a sale there makes it an alert in the annex too
    await move(client, shop.company_id, "receipt", [(a_annex, annex, 5)])
    await move(client, shop.company_id, "sale", [(a_annex, annex, -1)])

    report = await alerts(shop)
    url = f"{shop.base}/purchase-orders/from-alerts"
    r = await client.post(url, json={})
    assert r.status_code == 201, r.text
    body = r.json()
    orders = body["purchase_orders"]
    keys = [(o["supplier_id"], o["warehouse_id"]) for o in orders]
    assert keys == sorted(keys)
    got = {
        (o["supplier_id"], o["warehouse_id"], ln["product_id"]): (ln["quantity"], ln["unit_cost"])
        for o in orders
        for ln in o["lines"]
    }
    expected = {}
    for (pid, wid), alert in report.items():
        if alert["supplier"] and alert["recommended_order_quantity"] > 0:
            cost = {a: "1.25", b: "1.25", c: "9.00"}.get(pid)
            expected[(alert["supplier"]["id"], wid, pid)] = (
                alert["recommended_order_quantity"],
                cost,
            )
    assert got == expected
    assert (shop.supplier_id, shop.warehouse_id, a) in got
    assert (shop.supplier_id, annex, a_annex) in got
    assert got[(shop.supplier_id, shop.warehouse_id, a)][0] % 5 == 0
    for o in orders:
        assert o["status"] == "draft" and o["reference"] is None and o["expected_at"] is None
        # the answer is written by hand (pre-serialized): it is what a GET gives
        assert (await client.get(f"{shop.base}/purchase-orders/{o['id']}")).json() == o
        assert [ln["product_id"] for ln in o["lines"]] == sorted(
            ln["product_id"] for ln in o["lines"]
        )
    assert body["skipped"] == [
        {"product_id": nosup, "warehouse_id": shop.warehouse_id, "reason": "no-supplier"}
    ]

    # a second run drafts nothing new
    again = (await client.post(url)).json()
    assert again["purchase_orders"] == []
    assert again["skipped"] == sorted(
        [{"product_id": nosup, "warehouse_id": shop.warehouse_id, "reason": "no-supplier"}]
        + [{"product_id": p, "warehouse_id": w, "reason": "in-draft"} for _, w, p in got],
        key=lambda s: (s["product_id"], s["warehouse_id"]),
    )
    r = await client.get(f"{shop.base}/purchase-orders", params={"status": "draft"})
    assert len(r.json()["items"]) == len(orders)

    # warehouse filter and its 404
    assert (await client.post(url, json={"warehouse_id": 10**9})).status_code == 404
    only = (await client.post(url, json={"warehouse_id": annex})).json()
    assert only["purchase_orders"] == [] and {s["warehouse_id"] for s in only["skipped"]} == {annex}
    assert (await client.post(url, json={"window_days": 0})).status_code == 422
