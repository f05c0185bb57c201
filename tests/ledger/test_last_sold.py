"""Each level's `last_sold_at` (what the low-stock report starts from) agrees with the
ledger after every kind of movement: it is the latest `occurred_at` of its sales."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.core.tenancy import scope_to_admin
from tests.factories import create_company
from tests.ledger.helpers import assert_ledger_explains_levels, bundle, move, product, warehouse


async def _last_sold(app: FastAPI, pid: int, wid: int) -> datetime | None:
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        value: Any = await session.scalar(
            text(
                "SELECT last_sold_at FROM inventory_levels "
                "WHERE product_id = :p AND warehouse_id = :w"
            ),
            {"p": pid, "w": wid},
        )
        return value  # type: ignore[no-any-return]


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def test_last_sale_moves_forward_only(isolated_app: FastAPI, client: AsyncClient) -> None:
    cid = (await create_company(client))["id"]
    wid, other_wid = await warehouse(client, cid), await warehouse(client, cid, "Other")
    pid = await product(client, cid, warehouse_id=wid, initial_quantity=100)
    assert await _last_sold(isolated_app, pid, wid) is None  # a receipt is not a sale

    sold = await move(client, cid, "sale", [(pid, wid, -1)], occurred_at=_ago(2))
    two_days_ago = datetime.fromisoformat(sold["entries"][0]["occurred_at"])
    assert await _last_sold(isolated_app, pid, wid) == two_days_ago

    # A back-dated sale is not the latest one; adjustments, returns and transfers are
    # not sales at all.
    await move(client, cid, "sale", [(pid, wid, -1)], occurred_at=_ago(10))
    await move(client, cid, "adjustment", [(pid, wid, -1)])
    await move(client, cid, "return", [(pid, wid, 1)])
    r = await client.post(
        f"/api/companies/{cid}/stock-transfers",
        json={
            "product_id": pid,
            "from_warehouse_id": wid,
            "to_warehouse_id": other_wid,
            "quantity": 5,
        },
    )
    assert r.status_code == 201
    assert await _last_sold(isolated_app, pid, wid) == two_days_ago
    assert await _last_sold(isolated_app, pid, other_wid) is None

    # A rejected sale leaves it alone; a newer one moves it.
    r = await client.post(
        f"/api/companies/{cid}/stock-movements",
        json={
            "reason": "sale",
            "lines": [{"product_id": pid, "warehouse_id": wid, "delta": -1000}],
        },
    )
    assert r.status_code == 409
    assert await _last_sold(isolated_app, pid, wid) == two_days_ago
    newest = await move(client, cid, "sale", [(pid, wid, -1)])
    assert await _last_sold(isolated_app, pid, wid) == datetime.fromisoformat(
        newest["entries"][0]["occurred_at"]
    )
    await assert_ledger_explains_levels(isolated_app)


async def test_bundle_sales_mark_their_components(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    cid = (await create_company(client))["id"]
    wid = await warehouse(client, cid)
    a = await product(client, cid, warehouse_id=wid, initial_quantity=10)
    b = await product(client, cid, warehouse_id=wid, initial_quantity=10)
    inner = await bundle(client, cid, {a: 1})
    outer = await bundle(client, cid, {inner: 2, b: 1})
    await move(client, cid, "sale", [(outer, wid, -1)], occurred_at=_ago(1))
    assert await _last_sold(isolated_app, a, wid) is not None
    assert await _last_sold(isolated_app, b, wid) is not None
    # A +n and -n of the same level in one movement leave the quantity as it was, but a
    # sale still happened.
    c = await product(client, cid, warehouse_id=wid, initial_quantity=5)
    await move(client, cid, "adjustment", [(c, wid, 3)])
    await move(client, cid, "sale", [(c, wid, -3)], occurred_at=_ago(3))
    assert await _last_sold(isolated_app, c, wid) is not None
    await assert_ledger_explains_levels(isolated_app)
