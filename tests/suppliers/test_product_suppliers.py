import asyncio
from typing import Any

from httpx import AsyncClient

from tests.factories import create_company, create_product, create_supplier
from tests.paging import assert_bad_page_params_rejected, walk

DEFAULTS = {"is_primary": False, "lead_time_days": None, "unit_cost": None, "min_order_qty": None}


def link_url(company_id: int, product_id: int, supplier_id: int | None = None) -> str:
    base = f"/api/companies/{company_id}/products/{product_id}/suppliers"
    return base if supplier_id is None else f"{base}/{supplier_id}"


async def setup(client: AsyncClient) -> tuple[int, int, int]:
    """A company, one of its products and one of its suppliers."""
    company = await create_company(client)
    product = await create_product(client, company["id"])
    supplier = await create_supplier(client, company["id"])
    return company["id"], product["id"], supplier["id"]


async def put(client: AsyncClient, cid: int, pid: int, sid: int, **body: Any) -> dict[str, Any]:
    r = await client.put(link_url(cid, pid, sid), json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def links(client: AsyncClient, cid: int, pid: int) -> list[dict[str, Any]]:
    r = await client.get(link_url(cid, pid))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_put_creates_the_link_and_answers_it(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    r = await client.put(
        link_url(cid, pid, sid),
        json={"is_primary": True, "lead_time_days": 7, "unit_cost": "12.5", "min_order_qty": 10},
    )
    assert r.status_code == 200
    link = r.json()
    assert link == {
        "supplier_id": sid,
        "product_id": pid,
        "is_primary": True,
        "lead_time_days": 7,
        "unit_cost": "12.50",
        "min_order_qty": 10,
    }
    got = await client.get(link_url(cid, pid, sid))
    assert got.status_code == 200
    assert got.json() == link
    assert await links(client, cid, pid) == [link]


async def test_put_with_empty_or_no_body_links_with_defaults(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    assert await put(client, cid, pid, sid) == {"supplier_id": sid, "product_id": pid, **DEFAULTS}
    r = await client.put(link_url(cid, pid, sid))
    assert r.status_code == 200
    assert r.json() == {"supplier_id": sid, "product_id": pid, **DEFAULTS}
    r = await client.put(link_url(cid, pid, sid), json={"is_primary": None, "unit_cost": None})
    assert r.json()["is_primary"] is False


async def test_put_replaces_the_whole_link(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    await put(
        client, cid, pid, sid, is_primary=True, lead_time_days=3, unit_cost=2, min_order_qty=5
    )
    replaced = await put(client, cid, pid, sid, lead_time_days=9)
    assert replaced == {**DEFAULTS, "supplier_id": sid, "product_id": pid, "lead_time_days": 9}
    assert await links(client, cid, pid) == [replaced]


async def test_money_is_returned_with_two_places(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    for sent, shown in [
        (12.5, "12.50"),
        ("0", "0.00"),
        ("1.230", "1.23"),
        (3, "3.00"),
        ("9999999999.99", "9999999999.99"),
    ]:
        assert (await put(client, cid, pid, sid, unit_cost=sent))["unit_cost"] == shown, sent


async def test_invalid_link_bodies_are_422_and_change_nothing(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    stored = await put(client, cid, pid, sid, lead_time_days=4, unit_cost="1.00")
    bad: list[Any] = [
        {"lead_time_days": -1},
        {"lead_time_days": 3651},
        {"lead_time_days": "5"},
        {"lead_time_days": 1.5},
        {"lead_time_days": True},
        {"min_order_qty": 0},
        {"min_order_qty": -3},
        {"min_order_qty": "2"},
        {"min_order_qty": 10**12},
        {"unit_cost": "1.234"},
        {"unit_cost": -0.01},
        {"unit_cost": "NaN"},
        {"unit_cost": "Infinity"},
        {"unit_cost": "10000000000.00"},
        {"unit_cost": "abc"},
        {"unit_cost": True},
        {"is_primary": "yes"},
        {"is_primary": 1},
        [],
        "x",
    ]
    for body in bad:
        r = await client.put(link_url(cid, pid, sid), json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.put(
        link_url(cid, pid, sid), content=b"{nope", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert await links(client, cid, pid) == [stored]


async def test_bounds_are_inclusive(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    link = await put(client, cid, pid, sid, lead_time_days=0, min_order_qty=1)
    assert (link["lead_time_days"], link["min_order_qty"]) == (0, 1)
    assert (await put(client, cid, pid, sid, lead_time_days=3650))["lead_time_days"] == 3650


async def test_making_a_link_primary_demotes_the_other(client: AsyncClient) -> None:
    cid, pid, s1 = await setup(client)
    s2 = (await create_supplier(client, cid, "Second"))["id"]
    s3 = (await create_supplier(client, cid, "Third"))["id"]
    await put(client, cid, pid, s1, is_primary=True, lead_time_days=5)
    await put(client, cid, pid, s2, lead_time_days=2)

    def primaries(items: list[dict[str, Any]]) -> list[int]:
        return [link["supplier_id"] for link in items if link["is_primary"]]

    # A non-primary PUT leaves the primary alone.
    assert primaries(await links(client, cid, pid)) == [s1]

    promoted = await put(client, cid, pid, s2, is_primary=True, lead_time_days=2)
    assert promoted["is_primary"] is True
    items = await links(client, cid, pid)
    assert primaries(items) == [s2]
    # The demoted link keeps its terms.
    assert next(x for x in items if x["supplier_id"] == s1)["lead_time_days"] == 5

    await put(client, cid, pid, s3, is_primary=True)
    assert primaries(await links(client, cid, pid)) == [s3]
    # PUTting the primary again as primary keeps it.
    await put(client, cid, pid, s3, is_primary=True, min_order_qty=2)
    assert primaries(await links(client, cid, pid)) == [s3]


async def test_primary_is_per_product(client: AsyncClient) -> None:
    cid, p1, sid = await setup(client)
    p2 = (await create_product(client, cid))["id"]
    await put(client, cid, p1, sid, is_primary=True)
    await put(client, cid, p2, sid, is_primary=True)
    assert (await links(client, cid, p1))[0]["is_primary"] is True
    assert (await links(client, cid, p2))[0]["is_primary"] is True


async def test_delete_unlinks_and_promotes_nobody(client: AsyncClient) -> None:
    cid, pid, s1 = await setup(client)
    s2 = (await create_supplier(client, cid, "Second"))["id"]
    await put(client, cid, pid, s1, is_primary=True)
    other = await put(client, cid, pid, s2, lead_time_days=1)

    r = await client.delete(link_url(cid, pid, s1))
    assert r.status_code == 204
    assert r.content == b""
    assert await links(client, cid, pid) == [other]
    assert (await client.get(link_url(cid, pid, s1))).status_code == 404
    # Deleting again: the link is gone.
    again = await client.delete(link_url(cid, pid, s1))
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"
    # The supplier itself still exists.
    assert (await client.get(f"/api/companies/{cid}/suppliers/{s1}")).status_code == 200


async def test_unknown_product_supplier_or_link_is_404(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    missing = 999_999_999
    for method in ("PUT", "GET", "DELETE"):
        for path in (link_url(cid, missing, sid), link_url(cid, pid, missing)):
            r = await client.request(method, path)
            assert r.status_code == 404, (method, path)
    assert (await client.get(link_url(cid, pid, sid))).status_code == 404
    assert (await client.delete(link_url(cid, pid, sid))).status_code == 404
    assert (await client.get(link_url(cid, missing))).status_code == 404
    assert (await client.put(link_url(cid, pid, 0))).status_code == 422
    assert await links(client, cid, pid) == []


async def test_admin_cannot_mix_companies_ids(client: AsyncClient) -> None:
    a, a_product, a_supplier = await setup(client)
    b, b_product, b_supplier = await setup(client)
    # A's product with B's supplier, and B's product with A's supplier, via A's path.
    for path in (link_url(a, a_product, b_supplier), link_url(a, b_product, a_supplier)):
        assert (await client.put(path, json={"is_primary": True})).status_code == 404, path
        assert (await client.get(path)).status_code == 404, path
        assert (await client.delete(path)).status_code == 404, path
    assert (await client.get(link_url(a, b_product))).status_code == 404
    assert await links(client, b, b_product) == []
    assert await links(client, a, a_product) == []


async def test_company_key_is_confined_to_its_company(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    a = await create_company(client, "A")
    b = await create_company(client, "B")
    a_product = (await create_product(client, a["id"]))["id"]
    a_supplier = (await create_supplier(client, a["id"]))["id"]
    b_product = (await create_product(client, b["id"]))["id"]
    b_supplier = (await create_supplier(client, b["id"]))["id"]
    b_link = await put(client, b["id"], b_product, b_supplier, is_primary=True)
    as_a = client_for(a["api_key"])

    # Its own company: allowed.
    assert (await as_a.put(link_url(a["id"], a_product, a_supplier))).status_code == 200
    assert (await as_a.get(link_url(a["id"], a_product))).status_code == 200
    assert (await as_a.delete(link_url(a["id"], a_product, a_supplier))).status_code == 204
    # B's: 404 whether through B's path or by mixing B's ids into A's path.
    for path in (
        link_url(b["id"], b_product, b_supplier),
        link_url(a["id"], a_product, b_supplier),
        link_url(a["id"], b_product, a_supplier),
        link_url(a["id"], b_product, b_supplier),
    ):
        assert (await as_a.put(path, json={"is_primary": False})).status_code == 404, path
        assert (await as_a.get(path)).status_code == 404, path
        assert (await as_a.delete(path)).status_code == 404, path
    assert (await as_a.get(link_url(b["id"], b_product))).status_code == 404
    assert await links(client, b["id"], b_product) == [b_link]


async def test_links_need_credentials(client: AsyncClient, anon: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    assert (await anon.put(link_url(cid, pid, sid))).status_code == 401
    assert (await anon.get(link_url(cid, pid))).status_code == 401
    assert await links(client, cid, pid) == []


async def test_a_deactivated_product_keeps_and_accepts_links(client: AsyncClient) -> None:
    cid, pid, sid = await setup(client)
    await put(client, cid, pid, sid, is_primary=True)
    assert (await client.delete(f"/api/companies/{cid}/products/{pid}")).status_code == 204
    assert (await put(client, cid, pid, sid, lead_time_days=1))["lead_time_days"] == 1


async def test_list_walks_every_link_exactly_once(client: AsyncClient) -> None:
    cid, pid, _ = await setup(client)
    other = (await create_product(client, cid))["id"]
    suppliers = [(await create_supplier(client, cid, f"S{i}"))["id"] for i in range(5)]
    for sid in suppliers:
        await put(client, cid, pid, sid)
    await put(client, cid, other, suppliers[0])
    for limit in (1, 2, 5, 500):
        items = await walk(client, link_url(cid, pid), limit)
        assert [x["supplier_id"] for x in items] == sorted(suppliers)
        assert all(x["product_id"] == pid for x in items)
    await assert_bad_page_params_rejected(client, link_url(cid, pid))


async def test_racing_primary_puts_leave_exactly_one_primary(
    committed_client: AsyncClient,
) -> None:
    cid, pid, first = await setup(committed_client)
    suppliers = [first] + [
        (await create_supplier(committed_client, cid, f"S{i}"))["id"] for i in range(7)
    ]
    for sid in suppliers:
        await put(committed_client, cid, pid, sid)
    responses = await asyncio.gather(
        *[
            committed_client.put(link_url(cid, pid, sid), json={"is_primary": True})
            for sid in suppliers
        ]
    )
    assert [r.status_code for r in responses] == [200] * len(suppliers)
    items = await links(committed_client, cid, pid)
    assert len(items) == len(suppliers)
    assert sum(1 for x in items if x["is_primary"]) == 1
