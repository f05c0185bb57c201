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


async def _setup(app: FastAPI, client: AsyncClient) -> tuple[int, int, int, int]:
    company = (await create_company(client))["id"]
    main = await warehouse(client, company, "Main")
    annex = await warehouse(client, company, "Annex")
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, main, 10)])
    return company, main, annex, pid


def _transfer(pid: int, src: int, dst: int, quantity: Any, **extra: Any) -> dict[str, Any]:
    return {
        "product_id": pid,
        "from_warehouse_id": src,
        "to_warehouse_id": dst,
        "quantity": quantity,
        **extra,
    }


async def test_transfer_writes_out_and_in_entries(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, main, annex, pid = await _setup(isolated_app, client)
    r = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json=_transfer(pid, main, annex, 4, reference="T-1"),
    )
    assert r.status_code == 201, r.text
    out, into = r.json()["entries"]
    assert (out["reason"], out["warehouse_id"], out["delta"], out["quantity_after"]) == (
        "transfer_out",
        main,
        -4,
        6,
    )
    assert (into["reason"], into["warehouse_id"], into["delta"], into["quantity_after"]) == (
        "transfer_in",
        annex,
        4,
        4,
    )
    assert out["reference"] == into["reference"] == "T-1"
    assert out["occurred_at"] == into["occurred_at"]
    assert await levels(isolated_app, company) == {(pid, main): 6, (pid, annex): 4}

    listed = await client.get(
        f"/api/companies/{company}/stock-movements", params={"reason": "transfer_in"}
    )
    assert [e["id"] for e in listed.json()["items"]] == [into["id"]]
    await assert_ledger_explains_levels(isolated_app)


async def test_transfer_needs_stock_at_source(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, main, annex, pid = await _setup(isolated_app, client)
    before = await entry_count(isolated_app, company)
    r = await client.post(
        f"/api/companies/{company}/stock-transfers", json=_transfer(pid, main, annex, 11)
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("insufficient-stock")
    r = await client.post(
        f"/api/companies/{company}/stock-transfers", json=_transfer(pid, annex, main, 1)
    )
    assert r.status_code == 409
    assert await levels(isolated_app, company) == {(pid, main): 10}
    assert await entry_count(isolated_app, company) == before


async def test_invalid_transfers_are_422(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, main, annex, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-transfers"
    r = await client.post(url, json=_transfer(pid, main, main, 1))
    assert r.status_code == 422
    for quantity in [0, -1, "1", 1.5, True, None, 1_000_000_001]:
        r = await client.post(url, json=_transfer(pid, main, annex, quantity))
        assert r.status_code == 422, quantity
    r = await client.post(url, json={"product_id": pid, "from_warehouse_id": main})
    assert r.status_code == 422
    assert await levels(isolated_app, company) == {(pid, main): 10}


async def test_foreign_ids_in_a_transfer_are_404(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, main, annex, pid = await _setup(isolated_app, client)
    other = (await create_company(client, "Other"))["id"]
    other_wid = await warehouse(client, other)
    other_pid = await product(client, other)
    url = f"/api/companies/{company}/stock-transfers"
    for body in [
        _transfer(other_pid, main, annex, 1),
        _transfer(pid, main, other_wid, 1),
        _transfer(pid, other_wid, main, 1),
        _transfer(pid, main, 999_999_999, 1),
    ]:
        r = await client.post(url, json=body)
        assert r.status_code == 404, body
    assert await levels(isolated_app, company) == {(pid, main): 10}
