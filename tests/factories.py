"""Helpers that make data through the API, as a client would."""

import uuid
from typing import Any

from httpx import AsyncClient


def unique_sku(prefix: str = "SKU") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create_company(client: AsyncClient, name: str = "Acme") -> dict[str, Any]:
    r = await client.post("/api/companies", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


async def create_warehouse(
    client: AsyncClient, company_id: int, name: str = "Main", **extra: Any
) -> dict[str, Any]:
    r = await client.post(f"/api/companies/{company_id}/warehouses", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def create_product(client: AsyncClient, company_id: int, **fields: Any) -> dict[str, Any]:
    body = {"name": "Widget", "sku": unique_sku(), "price": "9.99", **fields}
    r = await client.post(f"/api/companies/{company_id}/products", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def create_supplier(
    client: AsyncClient, company_id: int, name: str = "Supplier Corp", **extra: Any
) -> dict[str, Any]:
    r = await client.post(f"/api/companies/{company_id}/suppliers", json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()
