from typing import Any

from httpx import AsyncClient

from tests.factories import create_company, create_supplier
from tests.paging import assert_bad_page_params_rejected, walk


def url(company_id: int, supplier_id: int | None = None) -> str:
    base = f"/api/companies/{company_id}/suppliers"
    return base if supplier_id is None else f"{base}/{supplier_id}"


async def test_create_returns_201_with_the_supplier(client: AsyncClient) -> None:
    company = await create_company(client)
    r = await client.post(
        url(company["id"]),
        json={
            "name": " Supplier Corp ",
            "contact_email": " orders@suppliercorp.com ",
            "contact_phone": " +1 (555) 010-0200 ",
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "Supplier Corp"
    assert body["contact_email"] == "orders@suppliercorp.com"
    assert body["contact_phone"] == "+1 (555) 010-0200"
    assert body["company_id"] == company["id"]
    assert {"id", "created_at"} <= body.keys()
    got = await client.get(url(company["id"], body["id"]))
    assert got.status_code == 200
    assert got.json() == body


async def test_contacts_are_optional_and_blank_means_none(client: AsyncClient) -> None:
    company = await create_company(client)
    for extra in [{}, {"contact_email": None, "contact_phone": None}]:
        body = await create_supplier(client, company["id"], **extra)
        assert body["contact_email"] is None
        assert body["contact_phone"] is None
    body = await create_supplier(client, company["id"], contact_email=" ", contact_phone="")
    assert body["contact_email"] is None
    assert body["contact_phone"] is None


async def test_sensible_email_addresses_are_accepted(client: AsyncClient) -> None:
    company = await create_company(client)
    for email in [
        "a@b.co",
        "first.last+tag@sub.example.org",
        "o'brien_x-y@example-mail.io",
        "UPPER@EXAMPLE.COM",
        "x@xn--80ak6aa92e.com",
        ("l" * 64) + "@" + ("d" * 63 + ".") * 2 + "com",
    ]:
        body = await create_supplier(client, company["id"], contact_email=email)
        assert body["contact_email"] == email


async def test_malformed_email_addresses_are_422(client: AsyncClient) -> None:
    company = await create_company(client)
    for email in [
        "plainaddress",
        "@example.com",
        "a@",
        "a@b",
        "a@b.c",
        "a@@b.com",
        "a b@example.com",
        "a@exa mple.com",
        ".a@example.com",
        "a.@example.com",
        "a..b@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "a@example.com.",
        "a@example.c0m",
        "a@exa\nmple.com",
        ("l" * 65) + "@example.com",
        "a@" + "d" * 250 + ".com",
        5,
        ["a@b.co"],
    ]:
        r = await client.post(url(company["id"]), json={"name": "S", "contact_email": email})
        assert r.status_code == 422, email
        assert r.json()["errors"][0]["loc"] == ["body", "contact_email"], email
    assert (await client.get(url(company["id"]))).json()["items"] == []


async def test_invalid_bodies_are_422(client: AsyncClient) -> None:
    company = await create_company(client)
    bodies: list[Any] = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": None},
        {"name": 1},
        {"name": "S", "contact_phone": "1" * 256},
        {"name": "S", "contact_phone": 5550100},
        [],
    ]
    for body in bodies:
        r = await client.post(url(company["id"]), json=body)
        assert r.status_code == 422, body
    r = await client.post(
        url(company["id"]), content=b'{"name":', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get(url(company["id"]))).json()["items"] == []


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    company = await create_company(client)
    s = await create_supplier(
        client, company["id"], "Old", contact_email="a@b.co", contact_phone="123"
    )
    r = await client.patch(url(company["id"], s["id"]), json={"name": "New"})
    assert r.status_code == 200
    assert r.json() == {**s, "name": "New"}

    r = await client.patch(url(company["id"], s["id"]), json={"contact_email": "c@d.org"})
    assert r.json() == {**s, "name": "New", "contact_email": "c@d.org"}

    r = await client.patch(url(company["id"], s["id"]), json={"contact_phone": None})
    assert r.json() == {**s, "name": "New", "contact_email": "c@d.org", "contact_phone": None}

    r = await client.patch(url(company["id"], s["id"]), json={})
    assert r.status_code == 200
    got = (await client.get(url(company["id"], s["id"]))).json()
    assert got == {**s, "name": "New", "contact_email": "c@d.org", "contact_phone": None}


async def test_patch_rejects_bad_values_and_changes_nothing(client: AsyncClient) -> None:
    company = await create_company(client)
    s = await create_supplier(client, company["id"], contact_email="a@b.co")
    for body in [
        {"name": None},
        {"name": ""},
        {"name": "x" * 256},
        {"contact_email": "nope"},
        {"contact_email": "a@b.co", "name": " "},
    ]:
        r = await client.patch(url(company["id"], s["id"]), json=body)
        assert r.status_code == 422, body
    assert (await client.get(url(company["id"], s["id"]))).json() == s


async def test_unknown_or_foreign_supplier_is_404(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    a = await create_company(client, "A")
    b = await create_company(client, "B")
    b_sup = await create_supplier(client, b["id"])
    as_a = client_for(a["api_key"])
    for c in (client, as_a):
        assert (await c.get(url(a["id"], b_sup["id"]))).status_code == 404
        r = await c.patch(url(a["id"], b_sup["id"]), json={"name": "X"})
        assert r.status_code == 404
        assert (await c.get(url(a["id"], 999_999_999))).status_code == 404
    assert (await as_a.get(url(b["id"]))).status_code == 404
    assert (await as_a.post(url(b["id"]), json={"name": "X"})).status_code == 404
    assert (await as_a.get(url(b["id"], b_sup["id"]))).status_code == 404
    assert (await as_a.patch(url(b["id"], b_sup["id"]), json={"name": "X"})).status_code == 404
    assert (await client.get(url(b["id"], b_sup["id"]))).json() == b_sup
    assert (await client.get(url(a["id"]))).json()["items"] == []


async def test_company_key_manages_its_own_suppliers(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    company = await create_company(client)
    own = client_for(company["api_key"])
    s = await create_supplier(own, company["id"])
    r = await own.patch(url(company["id"], s["id"]), json={"contact_phone": "1"})
    assert r.status_code == 200
    assert (await own.get(url(company["id"]))).json()["items"] == [r.json()]


async def test_list_walks_every_supplier_exactly_once(client: AsyncClient) -> None:
    company = await create_company(client)
    other = await create_company(client, "Other")
    await create_supplier(client, other["id"], "Theirs")
    created = [(await create_supplier(client, company["id"], f"S{i}"))["id"] for i in range(5)]
    for limit in (1, 2, 5, 6):
        assert [s["id"] for s in await walk(client, url(company["id"]), limit)] == created


async def test_list_rejects_bad_limits_and_cursors(client: AsyncClient) -> None:
    company = await create_company(client)
    await assert_bad_page_params_rejected(client, url(company["id"]))


async def test_create_honours_idempotency_key(client: AsyncClient) -> None:
    company = await create_company(client)
    headers = {"Idempotency-Key": "sup-1"}
    first = await client.post(url(company["id"]), json={"name": "S"}, headers=headers)
    again = await client.post(url(company["id"]), json={"name": "S"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len((await client.get(url(company["id"]))).json()["items"]) == 1
