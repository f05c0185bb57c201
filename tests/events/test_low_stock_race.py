"""Concurrent sales that cross the threshold open the alert once (real connections)."""

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import all_events
from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse


async def test_concurrent_sales_open_one_alert(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c, low_stock_threshold=5)
    await move(client, c, "receipt", [(p, w, 10)])

    async def sell() -> int:
        r = await client.post(
            f"/api/companies/{c}/stock-movements",
            json={"reason": "sale", "lines": [{"product_id": p, "warehouse_id": w, "delta": -1}]},
        )
        return r.status_code

    assert await asyncio.gather(*(sell() for _ in range(8))) == [201] * 8
    events = await all_events(committed_app, client, c)
    opened = [e["data"] for e in events if e["type"] == "low_stock.opened"]
    assert opened == [{"product_id": p, "warehouse_id": w, "current_stock": 4, "threshold": 5}]
    assert sum(e["type"] == "stock.changed" for e in events) == 9
