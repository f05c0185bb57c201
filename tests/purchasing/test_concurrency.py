"""Racing receipts on real, separate connections (committed_app)."""

import asyncio
from collections import Counter
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.core.tenancy import scope_to_admin
from tests.ledger.helpers import assert_ledger_explains_levels, levels
from tests.purchasing.helpers import make_shop


async def _stored(app: FastAPI, order_id: int) -> list[Any]:
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        rows = await session.execute(
            text(
                "SELECT product_id, quantity, received_quantity FROM purchase_order_lines "
                "WHERE purchase_order_id = :o ORDER BY position"
            ),
            {"o": order_id},
        )
        return [tuple(r) for r in rows]


async def _on_order(app: FastAPI, company_id: int) -> dict[tuple[int, int], int]:
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        rows = await session.execute(
            text(
                "SELECT product_id, warehouse_id, on_order FROM inventory_levels "
                "WHERE company_id = :c"
            ),
            {"c": company_id},
        )
        return {(r.product_id, r.warehouse_id): r.on_order for r in rows}


async def test_racing_receipts_never_over_receive(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    shop = await make_shop(committed_client)
    a = await shop.product()
    order = await shop.placed([(a, 10)])
    results = await asyncio.gather(*[shop.receive(order["id"], [(a, 3)]) for _ in range(8)])
    assert Counter(r.status_code for r in results) == {201: 3, 409: 5}
    assert await _stored(committed_app, order["id"]) == [(a, 10, 9)]
    assert await levels(committed_app, shop.company_id) == {(a, shop.warehouse_id): 9}
    assert await _on_order(committed_app, shop.company_id) == {(a, shop.warehouse_id): 1}
    # the last unit: two racers, one wins
    results = await asyncio.gather(*[shop.receive(order["id"], [(a, 1)]) for _ in range(2)])
    assert sorted(r.status_code for r in results) == [201, 409]
    final = next(r for r in results if r.status_code == 201).json()["purchase_order"]
    assert final["status"] == "received"
    await assert_ledger_explains_levels(committed_app)


async def test_receipts_sales_orders_and_cancels_do_not_deadlock(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    shop = await make_shop(committed_client)
    a, b = await shop.product(), await shop.product()
    orders = [await shop.placed([(a, 50), (b, 50)]) for _ in range(3)]
    url = f"{shop.base}/stock-movements"

    async def sell(lines: list[tuple[int, int]]) -> int:
        body = {
            "reason": "sale",
            "lines": [
                {"product_id": p, "warehouse_id": shop.warehouse_id, "delta": d} for p, d in lines
            ],
        }
        return (await committed_client.post(url, json=body)).status_code

    work: list[Any] = []
    for o in orders:
        work.append(shop.receive(o["id"], [(b, 5), (a, 5)]))
        work.append(shop.receive(o["id"], [(a, 5), (b, 5)]))
        work.append(sell([(b, -1), (a, -1)]))
        work.append(shop.placed([(b, 1), (a, 1)]))
    work.append(committed_client.post(f"{shop.base}/purchase-orders/{orders[0]['id']}/cancel"))
    results = await asyncio.wait_for(asyncio.gather(*work), timeout=120)
    statuses = [r if isinstance(r, int) else getattr(r, "status_code", 200) for r in results]
    assert 500 not in statuses and 503 not in statuses
    await assert_ledger_explains_levels(committed_app)
    # on_order = what the open orders still expect, whatever interleaving happened
    async with committed_app.state.sessionmaker() as session:
        await scope_to_admin(session)
        expected = await session.execute(
            text(
                "SELECT l.product_id, sum(l.quantity - l.received_quantity) AS expect "
                "FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.purchase_order_id "
                "WHERE o.status IN ('ordered', 'partially_received') GROUP BY l.product_id"
            )
        )
        want = {(r.product_id, shop.warehouse_id): int(r.expect) for r in expected}
    got = await _on_order(committed_app, shop.company_id)
    assert {k: v for k, v in got.items() if v} == want


async def test_concurrent_from_alerts_do_not_duplicate_drafts(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    shop = await make_shop(committed_client)
    products = [await shop.product(low_stock_threshold=20) for _ in range(3)]
    url = f"{shop.base}/stock-movements"
    for pid in products:
        await shop.link(pid)
        for reason, delta in (("receipt", 10), ("sale", -5)):
            body = {
                "reason": reason,
                "lines": [{"product_id": pid, "warehouse_id": shop.warehouse_id, "delta": delta}],
            }
            assert (await committed_client.post(url, json=body)).status_code == 201
    results = await asyncio.gather(
        *[committed_client.post(f"{shop.base}/purchase-orders/from-alerts") for _ in range(4)]
    )
    assert [r.status_code for r in results] == [201] * 4
    drafted = [o for r in results for o in r.json()["purchase_orders"]]
    assert len(drafted) == 1
    assert sorted(ln["product_id"] for ln in drafted[0]["lines"]) == sorted(products)
    skipped = [s for r in results for s in r.json()["skipped"]]
    assert len(skipped) == 3 * 3 and {s["reason"] for s in skipped} == {"in-draft"}
