"""Helpers shared by the product and bundle tests."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.core.tenancy import scope_to_admin


async def create_product_type(
    client: AsyncClient, company_id: int, name: str = "Gadgets", threshold: int = 5
) -> dict[str, Any]:
    r = await client.post(
        f"/api/companies/{company_id}/product-types",
        json={"name": name, "low_stock_threshold": threshold},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def rows(app: FastAPI, sql: str, **params: Any) -> list[dict[str, Any]]:
    """What the database holds, read on the app's own (test) connection."""
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        result = await session.execute(text(sql), params)
        return [dict(row._mapping) for row in result]


async def stock_of(client: AsyncClient, company_id: int, product_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/companies/{company_id}/products/{product_id}")
    assert r.status_code == 200, r.text
    stock: list[dict[str, Any]] = r.json()["stock"]
    return stock


async def execute(app: FastAPI, sql: str, **params: Any) -> None:
    """Run a statement on the app's (test) connection and keep its effect for the test."""
    async with app.state.sessionmaker() as session:
        # As the owner (DDL such as test triggers is not the app role's), then back.
        await session.execute(text("SET LOCAL ROLE NONE"))
        await session.execute(text(sql), params)
        await session.execute(text("SET LOCAL ROLE stockflow_app"))
        await session.commit()
