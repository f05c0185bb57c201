"""Real concurrency: every request on its own pooled connection and transaction."""

import asyncio
from collections import Counter
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company
from tests.ledger.helpers import (
    assert_ledger_explains_levels,
    entry_count,
    levels,
    move,
    product,
    warehouse,
)


def _line(pid: int, wid: int, delta: int) -> dict[str, Any]:
    return {"product_id": pid, "warehouse_id": wid, "delta": delta}


async def test_concurrent_sales_never_oversell(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, 50)])
    url = f"/api/companies/{company}/stock-movements"

    responses = await asyncio.gather(
        *[
            client.post(url, json={"reason": "sale", "lines": [_line(pid, wid, -1)]})
            for _ in range(120)
        ]
    )
    assert Counter(r.status_code for r in responses) == {201: 50, 409: 70}
    after = sorted(
        r.json()["entries"][0]["quantity_after"] for r in responses if r.status_code == 201
    )
    assert after == list(range(50))
    assert await levels(committed_app, company) == {(pid, wid): 0}
    await assert_ledger_explains_levels(committed_app)


async def test_opposite_line_orders_do_not_deadlock(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company = (await create_company(client))["id"]
    main = await warehouse(client, company, "Main")
    annex = await warehouse(client, company, "Annex")
    a, b = await product(client, company), await product(client, company)
    await move(client, company, "receipt", [(a, main, 1000), (b, annex, 1000)])
    url = f"/api/companies/{company}/stock-movements"
    forward = [_line(a, main, -1), _line(b, annex, -2)]
    backward = forward[::-1]

    responses = await asyncio.gather(
        *[
            client.post(url, json={"reason": "sale", "lines": forward if i % 2 else backward})
            for i in range(200)
        ]
    )
    assert Counter(r.status_code for r in responses) == {201: 200}
    assert await levels(committed_app, company) == {(a, main): 800, (b, annex): 600}
    await assert_ledger_explains_levels(committed_app)


async def test_concurrent_retries_with_one_key_apply_once(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, 10)])
    url = f"/api/companies/{company}/stock-movements"
    body = {"reason": "sale", "lines": [_line(pid, wid, -3)]}

    responses = await asyncio.gather(
        *[client.post(url, json=body, headers={"Idempotency-Key": "once"}) for _ in range(8)]
    )
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert await levels(committed_app, company) == {(pid, wid): 7}
    assert await entry_count(committed_app, company) == 2


async def test_concurrent_failed_movements_change_nothing(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    a, b = await product(client, company), await product(client, company)
    await move(client, company, "receipt", [(a, wid, 30), (b, wid, 30)])
    url = f"/api/companies/{company}/stock-movements"
    # Each movement takes 1 of `a` and 3 of `b`: `b` runs out after 10 and then every
    # movement must fail whole, leaving `a` alone.
    body = {"reason": "sale", "lines": [_line(a, wid, -1), _line(b, wid, -3)]}

    responses = await asyncio.gather(*[client.post(url, json=body) for _ in range(25)])
    assert Counter(r.status_code for r in responses) == {201: 10, 409: 15}
    assert await levels(committed_app, company) == {(a, wid): 20, (b, wid): 0}
    assert await entry_count(committed_app, company) == 2 + 2 * 10
    await assert_ledger_explains_levels(committed_app)
