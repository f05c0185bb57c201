"""A bundle's contents: PUT components, its rules, and the derived stock it shows."""

import asyncio
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company, create_product, create_warehouse
from tests.products.helpers import rows


def url(company_id: int, product_id: int) -> str:
    return f"/api/companies/{company_id}/products/{product_id}/components"


async def put(
    client: AsyncClient, company_id: int, bundle_id: int, lines: list[dict[str, Any]]
) -> Any:
    return await client.put(url(company_id, bundle_id), json=lines)


async def test_put_replaces_the_whole_list(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    bundle = await create_product(client, cid, is_bundle=True)
    a = await create_product(client, cid)
    b = await create_product(client, cid)
    c = await create_product(client, cid)

    r = await put(
        client,
        cid,
        bundle["id"],
        [{"product_id": b["id"], "quantity": 2}, {"product_id": a["id"], "quantity": 1}],
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"product_id": a["id"], "quantity": 1},
        {"product_id": b["id"], "quantity": 2},
    ]

    r = await put(client, cid, bundle["id"], [{"product_id": c["id"], "quantity": 5}])
    assert r.json() == [{"product_id": c["id"], "quantity": 5}]
    got = (await client.get(f"/api/companies/{cid}/products/{bundle['id']}")).json()
    assert got["components"] == [{"product_id": c["id"], "quantity": 5}]

    r = await put(client, cid, bundle["id"], [])
    assert (r.status_code, r.json()) == (200, [])
    got = (await client.get(f"/api/companies/{cid}/products/{bundle['id']}")).json()
    assert (got["components"], got["stock"]) == ([], [])


async def test_only_bundles_take_components(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    plain = await create_product(client, cid)
    part = await create_product(client, cid)
    r = await put(client, cid, plain["id"], [{"product_id": part["id"], "quantity": 1}])
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


async def test_invalid_lines_are_422_and_change_nothing(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    bundle = await create_product(client, cid, is_bundle=True)
    part = await create_product(client, cid)
    kept = [{"product_id": part["id"], "quantity": 3}]
    assert (await put(client, cid, bundle["id"], kept)).status_code == 200

    for lines in [
        [{"product_id": part["id"], "quantity": 0}],
        [{"product_id": part["id"], "quantity": -1}],
        [{"product_id": part["id"], "quantity": 1.5}],
        [{"product_id": part["id"], "quantity": "2"}],
        [{"product_id": part["id"], "quantity": True}],
        [{"product_id": part["id"], "quantity": 2**31}],
        [{"product_id": part["id"]}],
        [{"product_id": "x", "quantity": 1}],
        [{"product_id": 0, "quantity": 1}],
        [{"product_id": part["id"], "quantity": 1}, {"product_id": part["id"], "quantity": 2}],
        [{"product_id": bundle["id"], "quantity": 1}],
        {"product_id": part["id"], "quantity": 1},
        None,
    ]:
        r = await put(client, cid, bundle["id"], lines)  # type: ignore[arg-type]
        assert r.status_code == 422, (lines, r.text)
    r = await client.put(
        url(cid, bundle["id"]), content=b"[{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    got = (await client.get(f"/api/companies/{cid}/products/{bundle['id']}")).json()
    assert got["components"] == kept


async def test_components_of_another_company_or_unknown_are_404(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    bundle = await create_product(client, mine["id"], is_bundle=True)
    theirs = await create_product(client, other["id"])
    their_bundle = await create_product(client, other["id"], is_bundle=True)
    part = await create_product(client, mine["id"])

    for lines in [
        [{"product_id": theirs["id"], "quantity": 1}],
        [{"product_id": part["id"], "quantity": 1}, {"product_id": 999_999_999, "quantity": 1}],
    ]:
        r = await put(client, mine["id"], bundle["id"], lines)
        assert r.status_code == 404, lines
    # Another company's bundle, through my company's path or with my key.
    ok = [{"product_id": part["id"], "quantity": 1}]
    assert (await put(client, mine["id"], their_bundle["id"], ok)).status_code == 404
    as_mine = client_for(mine["api_key"])
    their_lines = [{"product_id": theirs["id"], "quantity": 1}]
    assert (await put(as_mine, other["id"], their_bundle["id"], their_lines)).status_code == 404
    assert (await put(as_mine, mine["id"], 999_999_999, ok)).status_code == 404
    got = (await client.get(f"/api/companies/{mine['id']}/products/{bundle['id']}")).json()
    assert got["components"] == []


async def test_cycles_are_refused(client: AsyncClient, isolated_app: FastAPI) -> None:
    company = await create_company(client)
    cid = company["id"]
    a = await create_product(client, cid, is_bundle=True)
    b = await create_product(client, cid, is_bundle=True)
    c = await create_product(client, cid, is_bundle=True)
    leaf = await create_product(client, cid)

    assert (
        await put(client, cid, a["id"], [{"product_id": b["id"], "quantity": 1}])
    ).status_code == 200
    assert (
        await put(client, cid, b["id"], [{"product_id": c["id"], "quantity": 2}])
    ).status_code == 200
    # Direct: b contains a, which contains b.
    r = await put(client, cid, b["id"], [{"product_id": a["id"], "quantity": 1}])
    assert r.status_code == 422
    # Through nesting: c -> a -> b -> c.
    r = await put(
        client,
        cid,
        c["id"],
        [{"product_id": leaf["id"], "quantity": 1}, {"product_id": a["id"], "quantity": 1}],
    )
    assert r.status_code == 422
    assert "cycle" in r.json()["detail"]
    edges = await rows(
        isolated_app, "SELECT bundle_id, component_id FROM bundle_components ORDER BY 1, 2"
    )
    assert edges == [
        {"bundle_id": a["id"], "component_id": b["id"]},
        {"bundle_id": b["id"], "component_id": c["id"]},
    ]
    # A shared sub-bundle (a diamond) is not a cycle.
    r = await put(
        client,
        cid,
        a["id"],
        [{"product_id": b["id"], "quantity": 1}, {"product_id": c["id"], "quantity": 1}],
    )
    assert r.status_code == 200


async def test_nesting_deeper_than_explode_walks_is_refused(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    chain = [await create_product(client, cid, is_bundle=True) for _ in range(34)]
    leaf = await create_product(client, cid)
    # chain[i] contains chain[i+1]; chain[32] contains the leaf: 33 levels is one too many.
    assert (
        await put(client, cid, chain[32]["id"], [{"product_id": leaf["id"], "quantity": 1}])
    ).status_code == 200
    for i in range(31, 0, -1):
        r = await put(
            client, cid, chain[i]["id"], [{"product_id": chain[i + 1]["id"], "quantity": 1}]
        )
        assert r.status_code == 200, i
    r = await put(client, cid, chain[0]["id"], [{"product_id": chain[1]["id"], "quantity": 1}])
    assert r.status_code == 422
    assert "nested" in r.json()["detail"]


async def receive(client: AsyncClient, company_id: int, lines: list[tuple[int, int, int]]) -> None:
    r = await client.post(
        f"/api/companies/{company_id}/stock-movements",
        json={
            "reason": "receipt",
            "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in lines],
        },
    )
    assert r.status_code == 201, r.text


async def test_bundle_stock_is_derived_per_warehouse(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    north = await create_warehouse(client, cid, "North")
    south = await create_warehouse(client, cid, "South")
    east = await create_warehouse(client, cid, "East")
    pen = await create_product(client, cid)
    cap = await create_product(client, cid)
    await receive(
        client,
        cid,
        [(pen["id"], north["id"], 10), (cap["id"], north["id"], 7), (pen["id"], south["id"], 9)],
    )
    await receive(client, cid, [(cap["id"], east["id"], 1), (pen["id"], east["id"], 100)])

    bundle = await create_product(client, cid, is_bundle=True)
    r = await put(
        client,
        cid,
        bundle["id"],
        [{"product_id": pen["id"], "quantity": 3}, {"product_id": cap["id"], "quantity": 2}],
    )
    assert r.status_code == 200
    got = (await client.get(f"/api/companies/{cid}/products/{bundle['id']}")).json()
    # North: min(10 // 3, 7 // 2) = 3. East holds both but too few caps for one bundle: 0.
    # South has no cap level at all, so it is not listed.
    assert got["stock"] == [
        {"warehouse_id": north["id"], "warehouse_name": "North", "quantity": 3, "available": 3},
        {"warehouse_id": east["id"], "warehouse_name": "East", "quantity": 0, "available": 0},
    ]
    assert got["components"] == [
        {"product_id": pen["id"], "quantity": 3},
        {"product_id": cap["id"], "quantity": 2},
    ]
    # The components' own stock is untouched by the bundle's view of it.
    pen_stock = (await client.get(f"/api/companies/{cid}/products/{pen['id']}")).json()["stock"]
    assert [s["quantity"] for s in pen_stock] == [10, 9, 100]


async def test_nested_bundle_stock_sums_leaf_units_over_paths(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    wh = await create_warehouse(client, cid, "Main")
    pen = await create_product(client, cid, warehouse_id=wh["id"], initial_quantity=20)
    pad = await create_product(client, cid, warehouse_id=wh["id"], initial_quantity=50)
    kit = await create_product(client, cid, is_bundle=True)
    box = await create_product(client, cid, is_bundle=True)
    await put(
        client,
        cid,
        kit["id"],
        [{"product_id": pen["id"], "quantity": 2}, {"product_id": pad["id"], "quantity": 1}],
    )
    # A box is two kits and one loose pen: 5 pens and 2 pads per box.
    r = await put(
        client,
        cid,
        box["id"],
        [{"product_id": kit["id"], "quantity": 2}, {"product_id": pen["id"], "quantity": 1}],
    )
    assert r.status_code == 200
    got = (await client.get(f"/api/companies/{cid}/products/{box['id']}")).json()
    assert got["stock"] == [
        {"warehouse_id": wh["id"], "warehouse_name": "Main", "quantity": 4, "available": 4}
    ]
    assert got["components"] == [
        {"product_id": pen["id"], "quantity": 1},
        {"product_id": kit["id"], "quantity": 2},
    ]


async def test_concurrent_puts_cannot_make_a_cycle_together(
    committed_client: AsyncClient, committed_app: FastAPI
) -> None:
    company = await create_company(committed_client)
    cid = company["id"]
    for _ in range(5):
        a = await create_product(committed_client, cid, is_bundle=True)
        b = await create_product(committed_client, cid, is_bundle=True)
        results = await asyncio.gather(
            put(committed_client, cid, a["id"], [{"product_id": b["id"], "quantity": 1}]),
            put(committed_client, cid, b["id"], [{"product_id": a["id"], "quantity": 1}]),
        )
        assert sorted(r.status_code for r in results) == [200, 422], [r.text for r in results]
        contents = [
            (await committed_client.get(f"/api/companies/{cid}/products/{p['id']}")).json()[
                "components"
            ]
            for p in (a, b)
        ]
        assert sorted(len(c) for c in contents) == [0, 1]
