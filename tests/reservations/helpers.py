"""Reservation helpers shared by the reservation tests."""

from typing import Any

from httpx import AsyncClient, Response


def lines(*items: tuple[int, int, int]) -> list[dict[str, int]]:
    return [{"product_id": p, "warehouse_id": w, "quantity": q} for p, w, q in items]


async def reserve(
    client: AsyncClient, company: int, *items: tuple[int, int, int], **extra: Any
) -> Response:
    return await client.post(
        f"/api/companies/{company}/reservations", json={"lines": lines(*items), **extra}
    )


async def level(client: AsyncClient, company: int, pid: int, wid: int) -> dict[str, Any]:
    r = await client.get(
        f"/api/companies/{company}/inventory", params={"product_id": pid, "warehouse_id": wid}
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    assert len(items) == 1
    return items[0]


async def sell(client: AsyncClient, company: int, pid: int, wid: int, units: int) -> Response:
    return await client.post(
        f"/api/companies/{company}/stock-movements",
        json={
            "reason": "sale",
            "lines": [
                {"product_id": p, "warehouse_id": w, "delta": -units} for p, w in [(pid, wid)]
            ],
        },
    )
