from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company
from tests.ledger.helpers import bundle, entry_count, levels, move, product, warehouse


async def _all_pages(client: AsyncClient, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await client.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_inventory_lists_levels_by_product_then_warehouse(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company = (await create_company(client))["id"]
    w1 = await warehouse(client, company, "One")
    w2 = await warehouse(client, company, "Two")
    p1, p2, p3 = [await product(client, company) for _ in range(3)]
    await move(client, company, "receipt", [(p2, w2, 4), (p1, w2, 1), (p2, w1, 7), (p3, w1, 2)])
    await move(client, company, "sale", [(p3, w1, -2)])
    url = f"/api/companies/{company}/inventory"

    expected = [(p1, w2, 1), (p2, w1, 7), (p2, w2, 4), (p3, w1, 0)]
    items = (await client.get(url)).json()["items"]
    assert [(i["product_id"], i["warehouse_id"], i["quantity"]) for i in items] == expected
    assert {"product_id", "warehouse_id", "quantity", "low_stock_threshold"} <= items[0].keys()
    assert items[0]["low_stock_threshold"] is None

    for limit in (1, 2, 3):
        paged = await _all_pages(client, url, limit=limit)
        assert [(i["product_id"], i["warehouse_id"], i["quantity"]) for i in paged] == expected
    by_warehouse = await _all_pages(client, url, warehouse_id=w1, limit=1)
    assert [(i["product_id"], i["warehouse_id"]) for i in by_warehouse] == [(p2, w1), (p3, w1)]
    by_product = await _all_pages(client, url, product_id=p2)
    assert [(i["product_id"], i["warehouse_id"]) for i in by_product] == [(p2, w1), (p2, w2)]
    both = await _all_pages(client, url, product_id=p2, warehouse_id=w2)
    assert [i["quantity"] for i in both] == [4]


async def test_inventory_is_scoped_and_validated(
    isolated_app: FastAPI, client: AsyncClient, client_for: Any
) -> None:
    mine = await create_company(client)
    other = await create_company(client, "Other")
    for company in (mine["id"], other["id"]):
        wid = await warehouse(client, company)
        pid = await product(client, company)
        await move(client, company, "receipt", [(pid, wid, 1)])
    url = f"/api/companies/{mine['id']}/inventory"
    assert len((await client.get(url)).json()["items"]) == 1
    assert (await client_for(other["api_key"]).get(url)).status_code == 404
    assert (await client_for(mine["api_key"]).get(url)).status_code == 200
    # Filters naming the other company's warehouse or product are 404, like any foreign id
    # (wid and pid are the other company's: it was set up last).
    for params in [{"warehouse_id": wid}, {"product_id": pid}]:
        assert (await client_for(mine["api_key"]).get(url, params=params)).status_code == 404
    for params in [
        {"cursor": "WzFd"},  # one id where (product, warehouse) is expected
        {"cursor": "%%%"},
        {"limit": 0},
        {"warehouse_id": 0},
        {"product_id": "x"},
    ]:
        r = await client.get(url, params=params)
        assert r.status_code == 422, params


async def test_threshold_is_set_changed_and_cleared(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    stocked, fresh = await product(client, company), await product(client, company)
    await move(client, company, "receipt", [(stocked, wid, 12)])

    r = await client.put(
        f"/api/companies/{company}/warehouses/{wid}/thresholds/{stocked}",
        json={"low_stock_threshold": 5},
    )
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("product_id", "warehouse_id", "quantity")} == {
        "product_id": stocked,
        "warehouse_id": wid,
        "quantity": 12,
    }
    assert r.json()["low_stock_threshold"] == 5

    # A product never stocked here gets a level at 0, with no ledger entry.
    count = await entry_count(isolated_app, company)
    url = f"/api/companies/{company}/warehouses/{wid}/thresholds/{fresh}"
    r = await client.put(url, json={"low_stock_threshold": 0})
    assert r.status_code == 200
    assert (r.json()["quantity"], r.json()["low_stock_threshold"]) == (0, 0)
    assert await entry_count(isolated_app, company) == count
    assert await levels(isolated_app, company) == {(stocked, wid): 12, (fresh, wid): 0}

    r = await client.put(url, json={"low_stock_threshold": 9})
    assert r.json()["low_stock_threshold"] == 9
    r = await client.put(url, json={"low_stock_threshold": None})
    assert r.status_code == 200
    assert r.json()["low_stock_threshold"] is None
    listed = (await client.get(f"/api/companies/{company}/inventory")).json()["items"]
    assert [(i["product_id"], i["low_stock_threshold"]) for i in listed] == [
        (stocked, 5),
        (fresh, None),
    ]
    # Stock still moves on a level that only had a threshold.
    await move(client, company, "receipt", [(fresh, wid, 3)])
    assert await levels(isolated_app, company) == {(stocked, wid): 12, (fresh, wid): 3}


async def test_bad_thresholds_are_422(isolated_app: FastAPI, client: AsyncClient) -> None:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    kit = await bundle(client, company, {pid: 2})
    url = f"/api/companies/{company}/warehouses/{wid}/thresholds/{pid}"
    for body in [
        {},
        {"low_stock_threshold": -1},
        {"low_stock_threshold": "5"},
        {"low_stock_threshold": 1.5},
        {"low_stock_threshold": True},
        {"low_stock_threshold": 2**31},
        [5],
        None,
    ]:
        r = await client.put(url, json=body)
        assert r.status_code == 422, body
    r = await client.put(
        f"/api/companies/{company}/warehouses/{wid}/thresholds/{kit}",
        json={"low_stock_threshold": 1},
    )
    assert r.status_code == 422
    assert await levels(isolated_app, company) == {}


async def test_foreign_threshold_targets_are_404(
    isolated_app: FastAPI, client: AsyncClient, client_for: Any
) -> None:
    mine = await create_company(client)
    other = await create_company(client, "Other")
    wid = await warehouse(client, mine["id"])
    pid = await product(client, mine["id"])
    other_wid = await warehouse(client, other["id"])
    other_pid = await product(client, other["id"])
    body = {"low_stock_threshold": 3}
    base = f"/api/companies/{mine['id']}/warehouses"
    for path in [
        f"{base}/{other_wid}/thresholds/{pid}",
        f"{base}/{wid}/thresholds/{other_pid}",
        f"{base}/{wid}/thresholds/999999999",
        f"{base}/999999999/thresholds/{pid}",
    ]:
        r = await client.put(path, json=body)
        assert r.status_code == 404, path
    r = await client_for(other["api_key"]).put(f"{base}/{wid}/thresholds/{pid}", json=body)
    assert r.status_code == 404
    assert await levels(isolated_app, mine["id"]) == {}
    assert await levels(isolated_app, other["id"]) == {}
