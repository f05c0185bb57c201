"""Data builders and ledger checks shared by the ledger and inventory tests."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.core.tenancy import scope_to_admin
from tests.factories import create_product, create_warehouse


async def warehouse(client: AsyncClient, company_id: int, name: str = "Main") -> int:
    """A new warehouse's id, made through the API."""
    return int((await create_warehouse(client, company_id, name))["id"])


async def product(client: AsyncClient, company_id: int, **fields: Any) -> int:
    return int((await create_product(client, company_id, **fields))["id"])


async def bundle(
    client: AsyncClient, company_id: int, components: dict[int, int], **fields: Any
) -> int:
    """A bundle product holding `components` ({product id: units per bundle})."""
    bundle_id = await product(client, company_id, is_bundle=True, **fields)
    if components:
        body = [{"product_id": p, "quantity": q} for p, q in components.items()]
        r = await client.put(
            f"/api/companies/{company_id}/products/{bundle_id}/components", json=body
        )
        assert r.status_code == 200, r.text
    return bundle_id


async def move(
    client: AsyncClient,
    company_id: int,
    reason: str,
    lines: list[tuple[int, int, int]],
    **extra: Any,
) -> dict[str, Any]:
    """Post a movement of (product, warehouse, delta) lines that must succeed."""
    r = await client.post(
        f"/api/companies/{company_id}/stock-movements",
        json={
            "reason": reason,
            "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in lines],
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def levels(app: FastAPI, company_id: int) -> dict[tuple[int, int], int]:
    """{(product, warehouse): quantity} as stored."""
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        rows = await session.execute(
            text(
                "SELECT product_id, warehouse_id, quantity FROM inventory_levels "
                "WHERE company_id = :c"
            ),
            {"c": company_id},
        )
        return {(r.product_id, r.warehouse_id): r.quantity for r in rows}


async def entry_count(app: FastAPI, company_id: int) -> int:
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        count = await session.scalar(
            text("SELECT count(*) FROM ledger_entries WHERE company_id = :c"), {"c": company_id}
        )
        return int(count or 0)


async def assert_ledger_explains_levels(app: FastAPI) -> None:
    """For every (product, warehouse): level = sum of its ledger deltas, never negative,
    and each entry's quantity_after is the running sum in id order."""
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        mismatched = (
            await session.execute(
                text(
                    """
                    SELECT l.product_id, l.warehouse_id, l.quantity, coalesce(s.total, 0) AS total
                    FROM inventory_levels AS l
                    FULL JOIN (
                        SELECT product_id, warehouse_id, sum(delta) AS total
                        FROM ledger_entries GROUP BY product_id, warehouse_id
                    ) AS s USING (product_id, warehouse_id)
                    WHERE l.quantity IS DISTINCT FROM coalesce(s.total, 0) OR l.quantity < 0
                    """
                )
            )
        ).all()
        assert mismatched == [], mismatched
        bad_after = (
            await session.execute(
                text(
                    """
                    SELECT id FROM (
                        SELECT id, quantity_after, sum(delta) OVER (
                            PARTITION BY product_id, warehouse_id ORDER BY id
                        ) AS running
                        FROM ledger_entries
                    ) AS e
                    WHERE quantity_after <> running
                    """
                )
            )
        ).all()
        assert bad_after == [], bad_after
        # The summary the low-stock report starts from agrees with the ledger too.
        stale = (
            await session.execute(
                text(
                    """
                    SELECT l.product_id, l.warehouse_id, l.last_sold_at, s.latest
                    FROM inventory_levels AS l
                    LEFT JOIN (
                        SELECT product_id, warehouse_id, max(occurred_at) AS latest
                        FROM ledger_entries WHERE reason = 'sale'
                        GROUP BY product_id, warehouse_id
                    ) AS s USING (product_id, warehouse_id)
                    WHERE l.last_sold_at IS DISTINCT FROM s.latest
                    """
                )
            )
        ).all()
        assert stale == [], stale
