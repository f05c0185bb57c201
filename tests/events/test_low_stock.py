"""Low-stock alerts open once and resolve once, with the report's threshold chain."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import all_events
from tests.factories import create_company
from tests.ledger.helpers import bundle, move, product, warehouse


def _alerts(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(e["type"], e["data"]) for e in events if e["type"].startswith("low_stock.")]


async def test_opens_once_and_resolves(isolated_app: FastAPI, client: AsyncClient) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c, low_stock_threshold=5)
    await move(client, c, "receipt", [(p, w, 10)])
    await move(client, c, "sale", [(p, w, -3)])  # 7: not low
    await move(client, c, "sale", [(p, w, -3)])  # 4: low -> opened
    await move(client, c, "sale", [(p, w, -1)])  # 3: still low, already open
    await move(client, c, "receipt", [(p, w, 1)])  # 4: still low
    await move(client, c, "receipt", [(p, w, 1)])  # 5: at threshold -> resolved
    await move(client, c, "receipt", [(p, w, 1)])  # nothing
    alerts = _alerts(await all_events(isolated_app, client, c))
    assert alerts == [
        (
            "low_stock.opened",
            {"product_id": p, "warehouse_id": w, "current_stock": 4, "threshold": 5},
        ),
        (
            "low_stock.resolved",
            {"product_id": p, "warehouse_id": w, "current_stock": 5, "threshold": 5},
        ),
    ]


async def test_needs_recent_sales_and_uses_threshold_chain(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    r = await client.post(
        f"/api/companies/{c}/product-types", json={"name": "T", "low_stock_threshold": 8}
    )
    assert r.status_code == 201
    p = await product(client, c, product_type_id=r.json()["id"])
    # Low but never sold: no alert.
    await move(client, c, "receipt", [(p, w, 3)])
    assert _alerts(await all_events(isolated_app, client, c)) == []
    # The warehouse-level threshold wins over the type's 8.
    r = await client.put(
        f"/api/companies/{c}/warehouses/{w}/thresholds/{p}", json={"low_stock_threshold": 2}
    )
    assert r.status_code == 200
    await move(client, c, "sale", [(p, w, -1)])  # 2, threshold 2: not low
    assert _alerts(await all_events(isolated_app, client, c)) == []
    await move(client, c, "sale", [(p, w, -1)])  # 1 < 2
    assert _alerts(await all_events(isolated_app, client, c))[-1] == (
        "low_stock.opened",
        {"product_id": p, "warehouse_id": w, "current_stock": 1, "threshold": 2},
    )


async def test_deactivation_resolves_and_bundles_never_alert(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    a = await product(client, c, low_stock_threshold=100)
    kit = await bundle(client, c, {a: 1}, low_stock_threshold=1000)
    await move(client, c, "receipt", [(a, w, 10)])
    await move(client, c, "sale", [(kit, w, -1)])
    alerts = _alerts(await all_events(isolated_app, client, c))
    assert [(t, d["product_id"]) for t, d in alerts] == [("low_stock.opened", a)]

    assert (await client.delete(f"/api/companies/{c}/products/{a}")).status_code == 204
    alerts = _alerts(await all_events(isolated_app, client, c))
    assert alerts[-1] == (
        "low_stock.resolved",
        {"product_id": a, "warehouse_id": w, "current_stock": 9, "threshold": 100},
    )
    # Inactive: an adjustment further down opens nothing.
    await move(client, c, "adjustment", [(a, w, -1)])
    assert len(_alerts(await all_events(isolated_app, client, c))) == 2
