"""What a user meets around the resources: who am I, the tenants, unknown query
parameters and routes, the exact SKU filter."""

from httpx import AsyncClient

from tests.factories import create_company

PROBLEM = "application/problem+json"


async def test_me_tells_the_admin_and_a_company_key_apart(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    r = await client.get("/api/me")
    assert r.status_code == 200
    assert r.json() == {"role": "admin", "company_id": None, "key_id": None}

    company = await create_company(client, "Me Co")
    key_id = int(company["api_key"].split("_")[1])
    r = await client_for(company["api_key"]).get("/api/me")
    assert r.status_code == 200
    assert r.json() == {"role": "company", "company_id": company["id"], "key_id": key_id}


async def test_me_without_credentials_is_401(anon: AsyncClient) -> None:
    r = await anon.get("/api/me")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM


async def test_admin_lists_companies_in_pages(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    made = [await create_company(client, f"Tenant {n}") for n in range(3)]
    ids = [c["id"] for c in made]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/companies", params=params)
        assert r.status_code == 200
        body = r.json()
        assert len(body["items"]) <= 2
        assert all(set(item) == {"id", "name", "created_at"} for item in body["items"])
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert set(ids) <= set(seen)

    r = await client_for(made[0]["api_key"]).get("/api/companies")
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM


async def test_unknown_query_parameters_are_422_and_named(client: AsyncClient) -> None:
    company = await create_company(client)
    base = f"/api/companies/{company['id']}"
    r = await client.get(f"{base}/products", params={"skus": "X", "limit": 5, "zz": "1"})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == "urn:stockflow:problem:invalid-input"
    assert "skus" in body["detail"] and "zz" in body["detail"]
    assert [e["loc"] for e in body["errors"]] == [["query", "skus"], ["query", "zz"]]

    # Known ones (of the route itself and of its dependencies) still pass.
    known = {"limit": 5, "q": "x", "sku": "X", "include_inactive": "true", "is_bundle": "false"}
    assert (await client.get(f"{base}/products", params=known)).status_code == 200
    assert (
        await client.get(f"{base}/alerts/low-stock", params={"window_days": 7})
    ).status_code == 200
    r = await client.get(f"{base}/alerts/low-stock", params={"window": 7})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "window"]
    # Also where the operation takes no query parameters at all, and on POSTs.
    assert (await client.get("/healthz", params={"verbose": "1"})).status_code == 422
    r = await client.post(f"{base}/warehouses", params={"dry_run": "1"}, json={"name": "W"})
    assert r.status_code == 422
    listed = await client.get(f"{base}/warehouses")
    assert listed.json()["items"] == []


async def test_sku_filter_is_exact(client: AsyncClient) -> None:
    company = await create_company(client)
    base = f"/api/companies/{company['id']}"
    for sku in ["CUP-1", "CUP-10", "MUG-1"]:
        r = await client.post(f"{base}/products", json={"name": sku, "sku": sku, "price": "1"})
        assert r.status_code == 201
    r = await client.get(f"{base}/products", params={"sku": "cup-1 "})
    assert r.status_code == 200
    assert [p["sku"] for p in r.json()["items"]] == ["CUP-1"]
    r = await client.get(f"{base}/products", params={"sku": "CUP"})
    assert r.json()["items"] == []


async def test_unknown_route_is_route_not_found(client: AsyncClient) -> None:
    company = await create_company(client)
    r = await client.get(f"/api/companies/{company['id']}/prodcts")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:stockflow:problem:route-not-found"
    assert "/prodcts" in r.json()["detail"]

    # A missing record keeps its own type.
    r = await client.get(f"/api/companies/{company['id']}/products/999999")
    assert r.status_code == 404
    assert r.json()["type"] == "urn:stockflow:problem:not-found"
