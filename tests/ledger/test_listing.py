from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse


async def _all_pages(client: AsyncClient, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(url, params=query)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_list_filters_orders_and_pages(isolated_app: FastAPI, client: AsyncClient) -> None:
    company = (await create_company(client))["id"]
    main = await warehouse(client, company, "Main")
    annex = await warehouse(client, company, "Annex")
    a, b = await product(client, company), await product(client, company)
    old = await move(
        client,
        company,
        "receipt",
        [(a, main, 5), (b, annex, 5)],
        occurred_at="2021-01-01T00:00:00Z",
    )
    mid = await move(client, company, "sale", [(a, main, -1)], occurred_at="2022-06-01T12:00:00Z")
    new = await move(client, company, "adjustment", [(b, annex, 2), (a, annex, 3)])
    ids = [e["id"] for body in (old, mid, new) for e in body["entries"]]
    url = f"/api/companies/{company}/stock-movements"

    r = await client.get(url)
    assert [e["id"] for e in r.json()["items"]] == sorted(ids, reverse=True)
    assert r.json()["next_cursor"] is None
    assert [e["id"] for e in await _all_pages(client, url, order="asc", limit=2)] == ids
    assert [e["id"] for e in await _all_pages(client, url, limit=1)] == ids[::-1]

    assert {e["id"] for e in await _all_pages(client, url, product_id=a)} == {
        ids[0],
        ids[2],
        ids[4],
    }
    assert {e["id"] for e in await _all_pages(client, url, warehouse_id=annex)} == {
        ids[1],
        ids[3],
        ids[4],
    }
    assert [e["id"] for e in await _all_pages(client, url, reason="sale")] == [ids[2]]
    assert [e["id"] for e in await _all_pages(client, url, product_id=a, warehouse_id=annex)] == [
        ids[4]
    ]
    window = await _all_pages(
        client, url, since="2021-01-01T00:00:00", until="2022-06-01T12:00:00+00:00"
    )
    assert {e["id"] for e in window} == set(ids[:3])
    since_mid = await _all_pages(client, url, since="2022-06-01T14:00:00+02:00", order="asc")
    assert [e["id"] for e in since_mid] == ids[2:]
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert [e["id"] for e in await _all_pages(client, url, since=recent)] == ids[:2:-1]


async def test_list_rejects_bad_queries(isolated_app: FastAPI, client: AsyncClient) -> None:
    company = (await create_company(client))["id"]
    url = f"/api/companies/{company}/stock-movements"
    for params in [
        {"since": "2022-01-02T00:00:00Z", "until": "2022-01-01T00:00:00Z"},
        {"since": "not a date"},
        {"order": "sideways"},
        {"reason": "theft"},
        {"product_id": 0},
        {"warehouse_id": "x"},
        {"limit": 0},
        {"limit": 501},
        {"cursor": "garbage"},
        {"cursor": "WzEsMl0="},  # a two-part key, not an entry id
    ]:
        r = await client.get(url, params=params)
        assert r.status_code == 422, params
        assert r.headers["content-type"] == "application/problem+json"
    same = await client.get(url, params={"since": "2022-01-01T00:00:00Z", "until": "2022-01-01"})
    assert same.status_code == 200


async def test_list_is_scoped_to_the_company(isolated_app: FastAPI, client: AsyncClient) -> None:
    mine = (await create_company(client))["id"]
    other = (await create_company(client, "Other"))["id"]
    for company in (mine, other):
        wid = await warehouse(client, company)
        pid = await product(client, company)
        await move(client, company, "receipt", [(pid, wid, 1)])
    items = (await client.get(f"/api/companies/{mine}/stock-movements")).json()["items"]
    assert len(items) == 1
    foreign_pid = (await client.get(f"/api/companies/{other}/stock-movements")).json()["items"][0][
        "product_id"
    ]
    # A filter naming another company's product is a 404, like any foreign id.
    for params in ({"product_id": foreign_pid}, {"bundle_id": foreign_pid}):
        r = await client.get(f"/api/companies/{mine}/stock-movements", params=params)
        assert r.status_code == 404
    foreign_wid = (await client.get(f"/api/companies/{other}/stock-movements")).json()["items"][0][
        "warehouse_id"
    ]
    r = await client.get(
        f"/api/companies/{mine}/stock-movements", params={"warehouse_id": foreign_wid}
    )
    assert r.status_code == 404
