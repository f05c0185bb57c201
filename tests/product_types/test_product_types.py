import asyncio
from typing import Any

from httpx import AsyncClient

from tests.factories import create_company
from tests.paging import assert_bad_page_params_rejected, walk

DUPLICATE = "urn:stockflow:problem:duplicate-product-type-name"


def url(company_id: int, type_id: int | None = None) -> str:
    base = f"/api/companies/{company_id}/product-types"
    return base if type_id is None else f"{base}/{type_id}"


async def create_type(
    client: AsyncClient, company_id: int, name: str = "Gadgets", threshold: int = 5
) -> dict[str, Any]:
    r = await client.post(url(company_id), json={"name": name, "low_stock_threshold": threshold})
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_returns_201_with_the_type(client: AsyncClient) -> None:
    company = await create_company(client)
    r = await client.post(url(company["id"]), json={"name": " Gadgets ", "low_stock_threshold": 7})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "Gadgets"
    assert body["low_stock_threshold"] == 7
    assert body["company_id"] == company["id"]
    assert {"id", "created_at"} <= body.keys()
    got = await client.get(url(company["id"], body["id"]))
    assert got.status_code == 200
    assert got.json() == body


async def test_threshold_zero_and_int4_max_are_accepted(client: AsyncClient) -> None:
    company = await create_company(client)
    assert (await create_type(client, company["id"], "A", 0))["low_stock_threshold"] == 0
    big = await create_type(client, company["id"], "B", 2**31 - 1)
    assert big["low_stock_threshold"] == 2**31 - 1


async def test_invalid_bodies_are_422(client: AsyncClient) -> None:
    company = await create_company(client)
    bodies: list[Any] = [
        {"name": "Gadgets"},  # threshold is required on create
        {"low_stock_threshold": 5},
        {"name": "", "low_stock_threshold": 5},
        {"name": "  ", "low_stock_threshold": 5},
        {"name": "x" * 256, "low_stock_threshold": 5},
        {"name": None, "low_stock_threshold": 5},
        {"name": 5, "low_stock_threshold": 5},
        {"name": "G", "low_stock_threshold": -1},
        {"name": "G", "low_stock_threshold": None},
        {"name": "G", "low_stock_threshold": "5"},
        {"name": "G", "low_stock_threshold": 5.5},
        {"name": "G", "low_stock_threshold": 5.0},
        {"name": "G", "low_stock_threshold": True},
        {"name": "G", "low_stock_threshold": 2**31},
        {"name": "G", "low_stock_threshold": 10**30},
        [],
    ]
    for body in bodies:
        r = await client.post(url(company["id"]), json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"], body
    r = await client.post(url(company["id"]), content=b"{'name': 1}")
    assert r.status_code == 422
    assert (await client.get(url(company["id"]))).json()["items"] == []


async def test_duplicate_name_is_409_ignoring_case_and_spaces(client: AsyncClient) -> None:
    company = await create_company(client)
    first = await create_type(client, company["id"], "Gadgets")
    for name in ["Gadgets", "gadgets", "  GADGETS "]:
        r = await client.post(url(company["id"]), json={"name": name, "low_stock_threshold": 1})
        assert r.status_code == 409, name
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 409
        assert r.json()["type"] == DUPLICATE
    items = (await client.get(url(company["id"]))).json()["items"]
    assert items == [first]
    # The request after a conflict works: the failed insert left nothing behind.
    await create_type(client, company["id"], "Widgets")


async def test_same_name_in_another_company_is_fine(client: AsyncClient) -> None:
    a = await create_company(client, "A")
    b = await create_company(client, "B")
    await create_type(client, a["id"], "Gadgets")
    await create_type(client, b["id"], "Gadgets")


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    company = await create_company(client)
    pt = await create_type(client, company["id"], "Gadgets", 5)

    r = await client.patch(url(company["id"], pt["id"]), json={"low_stock_threshold": 0})
    assert r.status_code == 200
    assert r.json() == {**pt, "low_stock_threshold": 0}

    r = await client.patch(url(company["id"], pt["id"]), json={"name": "Gizmos"})
    assert r.json() == {**pt, "name": "Gizmos", "low_stock_threshold": 0}

    r = await client.patch(url(company["id"], pt["id"]), json={})
    assert r.status_code == 200
    assert r.json()["name"] == "Gizmos"

    # Changing only the case of its own name is not a duplicate.
    r = await client.patch(url(company["id"], pt["id"]), json={"name": "GIZMOS"})
    assert r.status_code == 200
    got = (await client.get(url(company["id"], pt["id"]))).json()
    assert got == {**pt, "name": "GIZMOS", "low_stock_threshold": 0}


async def test_patch_to_a_taken_name_is_409_and_changes_nothing(client: AsyncClient) -> None:
    company = await create_company(client)
    await create_type(client, company["id"], "Gadgets")
    pt = await create_type(client, company["id"], "Widgets", 3)
    r = await client.patch(
        url(company["id"], pt["id"]), json={"name": "gadgets", "low_stock_threshold": 9}
    )
    assert r.status_code == 409
    assert r.json()["type"] == DUPLICATE
    assert (await client.get(url(company["id"], pt["id"]))).json() == pt


async def test_patch_rejects_nulls_and_bad_values(client: AsyncClient) -> None:
    company = await create_company(client)
    pt = await create_type(client, company["id"])
    for body in [
        {"name": None},
        {"low_stock_threshold": None},
        {"name": ""},
        {"name": "x" * 256},
        {"low_stock_threshold": -1},
        {"low_stock_threshold": "1"},
    ]:
        r = await client.patch(url(company["id"], pt["id"]), json=body)
        assert r.status_code == 422, body
    assert (await client.get(url(company["id"], pt["id"]))).json() == pt


async def test_unknown_or_foreign_type_is_404(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    a = await create_company(client, "A")
    b = await create_company(client, "B")
    b_type = await create_type(client, b["id"])
    as_a = client_for(a["api_key"])
    for c in (client, as_a):
        assert (await c.get(url(a["id"], b_type["id"]))).status_code == 404
        r = await c.patch(url(a["id"], b_type["id"]), json={"name": "X"})
        assert r.status_code == 404
        assert (await c.get(url(a["id"], 999_999_999))).status_code == 404
    assert (await as_a.get(url(b["id"]))).status_code == 404
    assert (await as_a.get(url(b["id"], b_type["id"]))).status_code == 404
    r = await as_a.post(url(b["id"]), json={"name": "X", "low_stock_threshold": 1})
    assert r.status_code == 404
    assert (await as_a.patch(url(b["id"], b_type["id"]), json={"name": "X"})).status_code == 404
    assert (await client.get(url(b["id"], b_type["id"]))).json() == b_type


async def test_company_key_manages_its_own_types(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    company = await create_company(client)
    own = client_for(company["api_key"])
    pt = await create_type(own, company["id"])
    r = await own.patch(url(company["id"], pt["id"]), json={"low_stock_threshold": 2})
    assert r.status_code == 200
    assert (await own.get(url(company["id"]))).json()["items"] == [r.json()]


async def test_list_walks_every_type_exactly_once(client: AsyncClient) -> None:
    company = await create_company(client)
    other = await create_company(client, "Other")
    await create_type(client, other["id"], "Theirs")
    created = [(await create_type(client, company["id"], f"T{i}"))["id"] for i in range(6)]
    for limit in (1, 4, 6, 500):
        assert [t["id"] for t in await walk(client, url(company["id"]), limit)] == created


async def test_list_rejects_bad_limits_and_cursors(client: AsyncClient) -> None:
    company = await create_company(client)
    await assert_bad_page_params_rejected(client, url(company["id"]))


async def test_racing_creates_of_one_name_give_one_201_and_409s(
    committed_client: AsyncClient,
) -> None:
    company = await create_company(committed_client)
    responses = await asyncio.gather(
        *[
            committed_client.post(
                url(company["id"]), json={"name": "Gadgets", "low_stock_threshold": i}
            )
            for i in range(8)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7
    assert all(r.json()["type"] == DUPLICATE for r in responses if r.status_code == 409)
    items = (await committed_client.get(url(company["id"]))).json()["items"]
    assert len(items) == 1


async def test_racing_renames_to_one_name_leave_one_winner(committed_client: AsyncClient) -> None:
    company = await create_company(committed_client)
    types = [await create_type(committed_client, company["id"], f"T{i}") for i in range(6)]
    responses = await asyncio.gather(
        *[committed_client.patch(url(company["id"], t["id"]), json={"name": "Same"}) for t in types]
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    assert all(r.json()["type"] == DUPLICATE for r in responses if r.status_code == 409)
    names = [t["name"] for t in (await committed_client.get(url(company["id"]))).json()["items"]]
    assert names.count("Same") == 1
