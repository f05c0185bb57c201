from typing import Any

from httpx import AsyncClient

from tests.factories import create_company, create_warehouse
from tests.paging import assert_bad_page_params_rejected, walk


def url(company_id: int, warehouse_id: int | None = None) -> str:
    base = f"/api/companies/{company_id}/warehouses"
    return base if warehouse_id is None else f"{base}/{warehouse_id}"


async def test_create_returns_201_with_the_warehouse(client: AsyncClient) -> None:
    company = await create_company(client)
    r = await client.post(url(company["id"]), json={"name": "  Main  ", "location": " Berlin "})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "Main"
    assert body["location"] == "Berlin"
    assert body["company_id"] == company["id"]
    assert isinstance(body["id"], int) and body["id"] > 0
    assert "created_at" in body

    got = await client.get(url(company["id"], body["id"]))
    assert got.status_code == 200
    assert got.json() == body


async def test_location_is_optional_and_blank_means_none(client: AsyncClient) -> None:
    company = await create_company(client)
    assert (await create_warehouse(client, company["id"], "A"))["location"] is None
    assert (await create_warehouse(client, company["id"], "B", location=None))["location"] is None
    assert (await create_warehouse(client, company["id"], "C", location="  "))["location"] is None


async def test_names_need_not_be_unique(client: AsyncClient) -> None:
    company = await create_company(client)
    first = await create_warehouse(client, company["id"], "Main")
    second = await create_warehouse(client, company["id"], "Main")
    assert first["id"] != second["id"]


async def test_invalid_bodies_are_422_and_store_nothing(client: AsyncClient) -> None:
    company = await create_company(client)
    bodies: list[Any] = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": None},
        {"name": 5},
        {"name": ["Main"]},
        {"name": "Main", "location": "x" * 256},
        {"name": "Main", "location": 7},
        ["Main"],
        "Main",
    ]
    for body in bodies:
        r = await client.post(url(company["id"]), json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 422
        assert r.json()["errors"], body
    r = await client.post(
        url(company["id"]), content=b'{"name": "Main"', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert (await client.get(url(company["id"]))).json()["items"] == []


async def test_longest_allowed_texts_are_accepted(client: AsyncClient) -> None:
    company = await create_company(client)
    body = await create_warehouse(client, company["id"], "n" * 255, location="l" * 255)
    assert len(body["name"]) == 255
    assert len(body["location"]) == 255


async def test_nul_byte_is_422_not_500(client: AsyncClient) -> None:
    company = await create_company(client)
    r = await client.post(url(company["id"]), json={"name": "Ma\x00in"})
    assert r.status_code == 422


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"], "Main", location="Berlin")

    r = await client.patch(url(company["id"], wh["id"]), json={"name": " North "})
    assert r.status_code == 200
    assert r.json() == {**wh, "name": "North"}

    r = await client.patch(url(company["id"], wh["id"]), json={"location": "Hamburg"})
    assert r.json() == {**wh, "name": "North", "location": "Hamburg"}

    r = await client.patch(url(company["id"], wh["id"]), json={})
    assert r.status_code == 200
    assert r.json()["location"] == "Hamburg"

    r = await client.patch(url(company["id"], wh["id"]), json={"location": None})
    assert r.status_code == 200
    assert r.json()["location"] is None

    got = (await client.get(url(company["id"], wh["id"]))).json()
    assert got == {**wh, "name": "North", "location": None}


async def test_patch_rejects_null_blank_or_long_name(client: AsyncClient) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"], "Main")
    for body in [{"name": None}, {"name": ""}, {"name": " "}, {"name": "x" * 256}, {"name": 1}]:
        r = await client.patch(url(company["id"], wh["id"]), json=body)
        assert r.status_code == 422, body
    r = await client.patch(
        url(company["id"], wh["id"]), content=b"{", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert (await client.get(url(company["id"], wh["id"]))).json()["name"] == "Main"


async def test_unknown_warehouse_is_404(client: AsyncClient) -> None:
    company = await create_company(client)
    for method in ("GET", "PATCH"):
        r = await client.request(method, url(company["id"], 999_999_999), json={"name": "X"})
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get(url(999_999_999))).status_code == 404
    assert (await client.post(url(999_999_999), json={"name": "X"})).status_code == 404
    assert (await client.get(url(company["id"], 0))).status_code == 422
    assert (await client.get(f"{url(company['id'])}/abc")).status_code == 422


async def test_company_key_works_on_its_own_company(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    company = await create_company(client)
    own = client_for(company["api_key"])
    r = await own.post(url(company["id"]), json={"name": "Main"})
    assert r.status_code == 201
    wh_id = r.json()["id"]
    assert (await own.get(url(company["id"], wh_id))).status_code == 200
    assert (await own.patch(url(company["id"], wh_id), json={"name": "B"})).status_code == 200
    assert [w["id"] for w in (await own.get(url(company["id"]))).json()["items"]] == [wh_id]


async def test_other_companys_warehouses_are_404(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    a = await create_company(client, "A")
    b = await create_company(client, "B")
    b_wh = await create_warehouse(client, b["id"], "B's")
    as_a = client_for(a["api_key"])

    # B's company path with A's key.
    assert (await as_a.get(url(b["id"]))).status_code == 404
    assert (await as_a.post(url(b["id"]), json={"name": "X"})).status_code == 404
    assert (await as_a.get(url(b["id"], b_wh["id"]))).status_code == 404
    assert (await as_a.patch(url(b["id"], b_wh["id"]), json={"name": "X"})).status_code == 404
    # B's warehouse through A's own path, with A's key and with the admin token.
    for c in (as_a, client):
        assert (await c.get(url(a["id"], b_wh["id"]))).status_code == 404
        r = await c.patch(url(a["id"], b_wh["id"]), json={"name": "X"})
        assert r.status_code == 404
    assert (await client.get(url(b["id"], b_wh["id"]))).json()["name"] == "B's"
    assert (await client.get(url(a["id"]))).json()["items"] == []


async def test_requests_without_credentials_are_401(client: AsyncClient, anon: AsyncClient) -> None:
    company = await create_company(client)
    assert (await anon.get(url(company["id"]))).status_code == 401
    assert (await anon.post(url(company["id"]), json={"name": "X"})).status_code == 401
    assert (await client.get(url(company["id"]))).json()["items"] == []


async def test_list_walks_every_warehouse_exactly_once(client: AsyncClient) -> None:
    company = await create_company(client)
    other = await create_company(client, "Other")
    await create_warehouse(client, other["id"], "Not mine")
    created = [(await create_warehouse(client, company["id"], f"W{i}"))["id"] for i in range(7)]

    for limit in (1, 3, 7, 50):
        items = await walk(client, url(company["id"]), limit)
        assert [w["id"] for w in items] == created, limit
        assert all(w["company_id"] == company["id"] for w in items)

    first = (await client.get(url(company["id"]), params={"limit": 7})).json()
    assert first["next_cursor"] is None
    default = (await client.get(url(company["id"]))).json()
    assert len(default["items"]) == 7


async def test_list_rejects_bad_limits_and_cursors(client: AsyncClient) -> None:
    company = await create_company(client)
    await create_warehouse(client, company["id"])
    await assert_bad_page_params_rejected(client, url(company["id"]))


async def test_create_honours_idempotency_key(client: AsyncClient) -> None:
    company = await create_company(client)
    headers = {"Idempotency-Key": "wh-1"}
    first = await client.post(url(company["id"]), json={"name": "Main"}, headers=headers)
    again = await client.post(url(company["id"]), json={"name": "Main"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = await client.post(url(company["id"]), json={"name": "Other"}, headers=headers)
    assert other.status_code == 409
    items = (await client.get(url(company["id"]))).json()["items"]
    assert [w["id"] for w in items] == [first.json()["id"]]
