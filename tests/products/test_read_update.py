"""Listing, searching, reading, updating and deactivating products."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company, create_product, create_warehouse, unique_sku
from tests.products.helpers import create_product_type, rows


async def list_all(client: AsyncClient, company_id: int, **query: Any) -> list[dict[str, Any]]:
    r = await client.get(f"/api/companies/{company_id}/products", params=query)
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_pagination_walks_every_product_once_in_id_order(client: AsyncClient) -> None:
    company = await create_company(client)
    other = await create_company(client, "Other")
    made = [(await create_product(client, company["id"]))["id"] for _ in range(7)]
    await create_product(client, other["id"])

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(f"/api/companies/{company['id']}/products", params=params)
        assert r.status_code == 200
        page = r.json()
        assert len(page["items"]) <= 3
        seen += [p["id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made)
    assert pages == 3


async def test_list_rejects_bad_paging(client: AsyncClient) -> None:
    company = await create_company(client)
    url = f"/api/companies/{company['id']}/products"
    for params in [{"limit": 0}, {"limit": 501}, {"cursor": "garbage"}, {"is_bundle": "maybe"}]:
        r = await client.get(url, params=params)
        assert r.status_code == 422, params


async def test_search_matches_name_or_sku_ignoring_case(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    blue = await create_product(client, cid, name="Blue Widget", sku=unique_sku("BW"))
    red = await create_product(client, cid, name="Red gadget", sku="ZZ-WIDGET-" + unique_sku())
    await create_product(client, cid, name="Other", sku=unique_sku("OT"))

    assert [p["id"] for p in await list_all(client, cid, q="widget")] == [blue["id"], red["id"]]
    assert [p["id"] for p in await list_all(client, cid, q="GADGET")] == [red["id"]]
    assert [p["id"] for p in await list_all(client, cid, q=blue["sku"].lower())] == [blue["id"]]
    assert await list_all(client, cid, q="nothing-like-this") == []


async def test_search_treats_like_wildcards_literally(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    pct = await create_product(client, cid, name="50% off")
    under = await create_product(client, cid, name="a_b")
    slash = await create_product(client, cid, name="back\\slash")
    await create_product(client, cid, name="500 off")
    await create_product(client, cid, name="axb")

    assert [p["id"] for p in await list_all(client, cid, q="%")] == [pct["id"]]
    assert [p["id"] for p in await list_all(client, cid, q="0%")] == [pct["id"]]
    assert [p["id"] for p in await list_all(client, cid, q="_")] == [under["id"]]
    assert [p["id"] for p in await list_all(client, cid, q="\\")] == [slash["id"]]


async def test_filters_and_inactive_products(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    ptype = await create_product_type(client, cid)
    typed = await create_product(client, cid, product_type_id=ptype["id"])
    bundle = await create_product(client, cid, is_bundle=True)
    gone = await create_product(client, cid)
    assert (await client.delete(f"/api/companies/{cid}/products/{gone['id']}")).status_code == 204

    assert [p["id"] for p in await list_all(client, cid)] == [typed["id"], bundle["id"]]
    assert [p["id"] for p in await list_all(client, cid, include_inactive="true")] == [
        typed["id"],
        bundle["id"],
        gone["id"],
    ]
    assert [p["id"] for p in await list_all(client, cid, product_type_id=ptype["id"])] == [
        typed["id"]
    ]
    assert [p["id"] for p in await list_all(client, cid, is_bundle="true")] == [bundle["id"]]
    assert [p["id"] for p in await list_all(client, cid, is_bundle="false")] == [typed["id"]]
    other = await create_company(client, "Other")
    their_type = await create_product_type(client, other["id"])
    for type_id in (their_type["id"], 987654321):
        r = await client.get(f"/api/companies/{cid}/products", params={"product_type_id": type_id})
        assert r.status_code == 404


async def test_other_companies_products_are_404(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    theirs = await create_product(client, other["id"])
    as_mine = client_for(mine["api_key"])
    base = f"/api/companies/{mine['id']}/products/{theirs['id']}"
    assert (await as_mine.get(base)).status_code == 404
    assert (await as_mine.patch(base, json={"name": "Mine now"})).status_code == 404
    assert (await as_mine.delete(base)).status_code == 404
    # Through the admin token and the wrong company, too.
    assert (await client.get(base)).status_code == 404
    # And the other company's own path is not reachable with this key.
    theirs_path = f"/api/companies/{other['id']}/products"
    assert (await as_mine.get(theirs_path)).status_code == 404
    assert (await as_mine.get(f"{theirs_path}/{theirs['id']}")).status_code == 404
    assert (await client.get(f"{theirs_path}/{theirs['id']}")).json()["name"] == "Widget"
    assert (await as_mine.get(f"/api/companies/{mine['id']}/products/999999")).status_code == 404
    assert (await as_mine.get(f"/api/companies/{mine['id']}/products/0")).status_code == 422


async def test_stock_lists_each_warehouse_in_id_order(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    north = await create_warehouse(client, cid, "North")
    south = await create_warehouse(client, cid, "South")
    product = await create_product(client, cid, warehouse_id=south["id"], initial_quantity=12)
    # Another product's level in North must not show up.
    await create_product(client, cid, warehouse_id=north["id"], initial_quantity=3)

    got = (await client.get(f"/api/companies/{cid}/products/{product['id']}")).json()
    assert got["stock"] == [
        {"warehouse_id": south["id"], "warehouse_name": "South", "quantity": 12, "available": 12}
    ]
    assert got["components"] == []


async def test_patch_changes_only_what_is_sent(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    ptype = await create_product_type(client, cid)
    product = await create_product(
        client, cid, product_type_id=ptype["id"], low_stock_threshold=4, price="5.00"
    )
    url = f"/api/companies/{cid}/products/{product['id']}"

    r = await client.patch(url, json={"name": "  Renamed ", "price": 7})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["price"]) == ("Renamed", "7.00")
    assert (body["sku"], body["product_type_id"], body["low_stock_threshold"]) == (
        product["sku"],
        ptype["id"],
        4,
    )

    r = await client.patch(url, json={"product_type_id": None, "low_stock_threshold": None})
    assert r.status_code == 200
    assert (r.json()["product_type_id"], r.json()["low_stock_threshold"]) == (None, None)

    r = await client.patch(url, json={"sku": "  new-sku-" + product["sku"] + " "})
    assert r.json()["sku"] == "new-sku-" + product["sku"]
    got = (await client.get(url)).json()
    assert (got["name"], got["price"], got["product_type_id"]) == ("Renamed", "7.00", None)
    assert (await client.patch(url, json={})).json()["name"] == "Renamed"


async def test_patch_validation(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    product = await create_product(client, cid)
    url = f"/api/companies/{cid}/products/{product['id']}"
    for bad in [
        {"name": None},
        {"sku": None},
        {"price": None},
        {"is_active": None},
        {"name": " "},
        {"price": "1.234"},
        {"price": True},
        {"low_stock_threshold": -1},
        {"is_active": "no"},
        {"product_type_id": "x"},
    ]:
        r = await client.patch(url, json=bad)
        assert r.status_code == 422, bad
    r = await client.patch(url, content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert (await client.get(url)).json()["name"] == product["name"]


async def test_patch_sku_uniqueness(client: AsyncClient) -> None:
    first = await create_company(client, "First")
    second = await create_company(client, "Second")
    mine = await create_product(client, first["id"], sku="Mine-1")
    await create_product(client, second["id"], sku="Taken-1")
    url = f"/api/companies/{first['id']}/products/{mine['id']}"

    r = await client.patch(url, json={"sku": " TAKEN-1 "})
    assert r.status_code == 409
    assert r.json()["type"].endswith("duplicate-sku")
    # Its own SKU in another case is not a conflict.
    r = await client.patch(url, json={"sku": "MINE-1"})
    assert (r.status_code, r.json()["sku"]) == (200, "MINE-1")


async def test_patch_foreign_product_type_is_404(client: AsyncClient) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    their_type = await create_product_type(client, other["id"])
    product = await create_product(client, mine["id"])
    url = f"/api/companies/{mine['id']}/products/{product['id']}"
    assert (await client.patch(url, json={"product_type_id": their_type["id"]})).status_code == 404
    assert (await client.get(url)).json()["product_type_id"] is None


async def test_delete_deactivates_idempotently(client: AsyncClient, isolated_app: FastAPI) -> None:
    company = await create_company(client)
    cid = company["id"]
    wh = await create_warehouse(client, cid)
    product = await create_product(client, cid, warehouse_id=wh["id"], initial_quantity=2)
    url = f"/api/companies/{cid}/products/{product['id']}"

    for _ in range(2):
        r = await client.delete(url)
        assert r.status_code == 204
        assert r.content == b""
    got = await client.get(url)
    assert got.status_code == 200
    assert got.json()["is_active"] is False
    assert got.json()["stock"][0]["quantity"] == 2
    assert len(await rows(isolated_app, "SELECT id FROM ledger_entries")) == 1

    # Reactivating is a PATCH.
    r = await client.patch(url, json={"is_active": True})
    assert r.json()["is_active"] is True
    assert [p["id"] for p in await list_all(client, cid)] == [product["id"]]
