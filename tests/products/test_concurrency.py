"""SKU races on real, separate connections: one create wins, the other is a 409."""

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.factories import create_company, unique_sku


async def test_racing_creates_of_one_sku_give_one_201_and_one_409(
    committed_client: AsyncClient,
) -> None:
    first = await create_company(committed_client, "First")
    second = await create_company(committed_client, "Second")
    for _ in range(5):
        sku = unique_sku("RACE")
        results = await asyncio.gather(
            committed_client.post(
                f"/api/companies/{first['id']}/products",
                json={"name": "A", "sku": sku.lower(), "price": "1.00"},
            ),
            committed_client.post(
                f"/api/companies/{second['id']}/products",
                json={"name": "B", "sku": f" {sku.upper()} ", "price": "2.00"},
            ),
        )
        assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["type"].endswith("duplicate-sku")


async def test_create_that_loses_the_race_at_the_unique_index_is_409(
    committed_client: AsyncClient, committed_app: FastAPI, engine: AsyncEngine
) -> None:
    """The other transaction's row is not yet visible to the pre-check, so this request
    reaches the unique index, waits there, and must turn the violation into a 409."""
    company = await create_company(committed_client)
    sku = unique_sku("HELD")
    async with engine.connect() as conn:
        held = await conn.begin()
        await conn.execute(
            text(
                "INSERT INTO products (company_id, name, sku, price) VALUES (:c, 'Held', :sku, 1)"
            ),
            {"c": company["id"], "sku": sku},
        )
        request = asyncio.create_task(
            committed_client.post(
                f"/api/companies/{company['id']}/products",
                json={"name": "Late", "sku": sku.lower(), "price": "1.00"},
            )
        )
        await asyncio.sleep(0.5)
        assert not request.done()  # blocked on the index entry of the open transaction
        await held.commit()
    r = await asyncio.wait_for(request, 10)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("duplicate-sku")

    listed = await committed_client.get(f"/api/companies/{company['id']}/products")
    assert [p["name"] for p in listed.json()["items"]] == ["Held"]


async def test_patch_that_loses_the_race_at_the_unique_index_is_409(
    committed_client: AsyncClient, committed_app: FastAPI, engine: AsyncEngine
) -> None:
    company = await create_company(committed_client)
    r = await committed_client.post(
        f"/api/companies/{company['id']}/products",
        json={"name": "Mine", "sku": unique_sku(), "price": "1.00"},
    )
    product = r.json()
    sku = unique_sku("HELD")
    async with engine.connect() as conn:
        held = await conn.begin()
        await conn.execute(
            text(
                "INSERT INTO products (company_id, name, sku, price) VALUES (:c, 'Held', :sku, 1)"
            ),
            {"c": company["id"], "sku": sku},
        )
        request = asyncio.create_task(
            committed_client.patch(
                f"/api/companies/{company['id']}/products/{product['id']}",
                json={"sku": sku.lower()},
            )
        )
        await asyncio.sleep(0.5)
        assert not request.done()
        await held.commit()
    r = await asyncio.wait_for(request, 10)
    assert r.status_code == 409, r.text
    got = await committed_client.get(f"/api/companies/{company['id']}/products/{product['id']}")
    assert got.json()["sku"] == product["sku"]
