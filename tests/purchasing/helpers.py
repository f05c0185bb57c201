"""Builders for purchasing tests: a company with a warehouse, a supplier and products."""

from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response

from tests.factories import create_company, create_product, create_supplier, create_warehouse


@dataclass
class Shop:
    client: AsyncClient
    company_id: int
    warehouse_id: int
    supplier_id: int

    @property
    def base(self) -> str:
        return f"/api/companies/{self.company_id}"

    async def product(self, **fields: Any) -> int:
        return int((await create_product(self.client, self.company_id, **fields))["id"])

    async def link(self, product_id: int, supplier_id: int | None = None, **terms: Any) -> None:
        sid = supplier_id or self.supplier_id
        r = await self.client.put(f"{self.base}/products/{product_id}/suppliers/{sid}", json=terms)
        assert r.status_code == 200, r.text

    async def create(self, lines: list[tuple[int, int]], **extra: Any) -> Response:
        body = {
            "supplier_id": self.supplier_id,
            "warehouse_id": self.warehouse_id,
            "lines": [{"product_id": p, "quantity": q} for p, q in lines],
            **extra,
        }
        return await self.client.post(f"{self.base}/purchase-orders", json=body)

    async def draft(self, lines: list[tuple[int, int]], **extra: Any) -> dict[str, Any]:
        r = await self.create(lines, **extra)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def placed(self, lines: list[tuple[int, int]], **extra: Any) -> dict[str, Any]:
        order = await self.draft(lines, **extra)
        r = await self.client.post(f"{self.base}/purchase-orders/{order['id']}/order")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def receive(self, order_id: int, lines: list[tuple[int, int]], **extra: Any) -> Response:
        body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines], **extra}
        return await self.client.post(f"{self.base}/purchase-orders/{order_id}/receipts", json=body)

    async def level(self, product_id: int) -> dict[str, Any] | None:
        r = await self.client.get(
            f"{self.base}/inventory",
            params={"product_id": product_id, "warehouse_id": self.warehouse_id},
        )
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items[0] if items else None


async def make_shop(client: AsyncClient) -> Shop:
    company = (await create_company(client))["id"]
    warehouse = (await create_warehouse(client, company))["id"]
    supplier = (await create_supplier(client, company))["id"]
    return Shop(client, company, warehouse, supplier)
