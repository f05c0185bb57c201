"""Creating products: both endpoints, validation, SKUs, tenancy, initial stock and its
one-transaction guarantee, idempotency."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_company, create_product, create_warehouse, unique_sku
from tests.products.helpers import create_product_type, execute, rows

PRODUCT_FIELDS = {
    "id",
    "company_id",
    "name",
    "sku",
    "price",
    "product_type_id",
    "low_stock_threshold",
    "is_bundle",
    "is_active",
    "created_at",
}


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "Widget", "sku": unique_sku(), "price": "12.5", **fields}


async def test_create_returns_the_product(client: AsyncClient) -> None:
    company = await create_company(client)
    ptype = await create_product_type(client, company["id"])
    r = await client.post(
        f"/api/companies/{company['id']}/products",
        json=body(
            name="  Widget A ",
            sku="  wid-001-x ",
            price=12.5,
            product_type_id=ptype["id"],
            low_stock_threshold=7,
        ),
    )
    assert r.status_code == 201, r.text
    product = r.json()
    assert product.keys() >= PRODUCT_FIELDS
    assert product["company_id"] == company["id"]
    assert product["name"] == "Widget A"
    assert product["sku"] == "wid-001-x"
    assert product["price"] == "12.50"
    assert product["product_type_id"] == ptype["id"]
    assert product["low_stock_threshold"] == 7
    assert product["is_bundle"] is False
    assert product["is_active"] is True
    assert product["created_at"].endswith(("Z", "+00:00"))

    got = await client.get(f"/api/companies/{company['id']}/products/{product['id']}")
    assert got.status_code == 200
    assert {k: got.json()[k] for k in PRODUCT_FIELDS} == {k: product[k] for k in PRODUCT_FIELDS}
    assert got.json()["stock"] == []


async def test_defaults(client: AsyncClient) -> None:
    company = await create_company(client)
    product = await create_product(client, company["id"], price="0")
    assert product["price"] == "0.00"
    assert product["product_type_id"] is None
    assert product["low_stock_threshold"] is None
    assert product["is_bundle"] is False


async def test_null_optional_fields_take_their_defaults(client: AsyncClient) -> None:
    # A client that sends every field, null for "not set", on both endpoints.
    company = await create_company(client)
    nulls = {
        "product_type_id": None,
        "low_stock_threshold": None,
        "is_bundle": None,
        "warehouse_id": None,
        "initial_quantity": None,
    }
    for path, extra in [
        (f"/api/companies/{company['id']}/products", {}),
        ("/api/products", {"company_id": company["id"]}),
    ]:
        r = await client.post(path, json=body(**nulls, **extra))
        assert r.status_code == 201, r.text
        product = r.json()
        assert product["is_bundle"] is False
        assert product["product_type_id"] is None
        assert product["low_stock_threshold"] is None
        got = await client.get(f"/api/companies/{company['id']}/products/{product['id']}")
        assert got.json()["stock"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", True),
        ("price", "1.234"),
        ("price", -1),
        ("price", "-0.01"),
        ("price", "NaN"),
        ("price", "Infinity"),
        ("price", "10000000000.00"),
        ("price", "abc"),
        ("price", None),
        ("price", [1]),
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 256),
        ("name", None),
        ("name", 5),
        ("sku", ""),
        ("sku", "  "),
        ("sku", "s" * 65),
        ("sku", 123),
        ("initial_quantity", 1.5),
        ("initial_quantity", -1),
        ("initial_quantity", "5"),
        ("initial_quantity", True),
        ("low_stock_threshold", -1),
        ("low_stock_threshold", "3"),
        ("is_bundle", "yes"),
        ("is_bundle", 1),
        ("product_type_id", 0),
        ("product_type_id", "1"),
        ("warehouse_id", -5),
        ("warehouse_id", 2**63),
    ],
)
async def test_invalid_field_is_422(
    client: AsyncClient, field: str, value: Any, isolated_app: FastAPI
) -> None:
    company = await create_company(client)
    r = await client.post(f"/api/companies/{company['id']}/products", json=body(**{field: value}))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422
    assert any(field in err["loc"] for err in problem["errors"]), problem
    assert await rows(isolated_app, "SELECT id FROM products") == []


@pytest.mark.parametrize("missing", ["name", "sku", "price"])
async def test_missing_required_field_is_422(client: AsyncClient, missing: str) -> None:
    company = await create_company(client)
    data = body()
    del data[missing]
    r = await client.post(f"/api/companies/{company['id']}/products", json=data)
    assert r.status_code == 422
    assert any(missing in err["loc"] for err in r.json()["errors"])


async def test_price_accepts_numbers_and_strings_with_two_places(client: AsyncClient) -> None:
    company = await create_company(client)
    for given, shown in [(3, "3.00"), ("1.230", "1.23"), (0.1, "0.10"), ("9999999999.99", None)]:
        product = await create_product(client, company["id"], price=given)
        assert product["price"] == (shown or "9999999999.99")


@pytest.mark.parametrize(
    "raw",
    [b'{"name": "x", "sku": ', b"not json", b"", b"[1, 2]", b'"just a string"'],
)
async def test_malformed_json_is_422(client: AsyncClient, raw: bytes) -> None:
    company = await create_company(client)
    for url in [f"/api/companies/{company['id']}/products", "/api/products"]:
        r = await client.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (url, raw, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_sku_is_trimmed_and_unique_across_companies_ignoring_case(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    first = await create_company(client, "First")
    second = await create_company(client, "Second")
    made = await create_product(client, first["id"], sku="  abc ")
    assert made["sku"] == "abc"
    for company, sku in [(second, "ABC"), (first, "abc"), (second, " aBc  ")]:
        r = await client.post(f"/api/companies/{company['id']}/products", json=body(sku=sku))
        assert r.status_code == 409, r.text
        assert r.json()["type"].endswith("duplicate-sku")
    r = await client.post("/api/products", json=body(sku="ABC", company_id=second["id"]))
    assert r.status_code == 409
    assert len(await rows(isolated_app, "SELECT id FROM products")) == 1


async def test_sku_wildcards_are_literal(client: AsyncClient) -> None:
    company = await create_company(client)
    await create_product(client, company["id"], sku="A_C")
    assert (await create_product(client, company["id"], sku="ABC"))["sku"] == "ABC"
    await create_product(client, company["id"], sku="A%")
    assert (await create_product(client, company["id"], sku="AZ"))["sku"] == "AZ"


async def test_foreign_or_unknown_references_are_404(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    their_wh = await create_warehouse(client, other["id"])
    their_type = await create_product_type(client, other["id"])
    url = f"/api/companies/{mine['id']}/products"
    for extra in [
        {"warehouse_id": their_wh["id"]},
        {"warehouse_id": 999_999_999},
        {"product_type_id": their_type["id"]},
        {"product_type_id": 999_999_999},
    ]:
        r = await client.post(url, json=body(**extra))
        assert r.status_code == 404, (extra, r.text)
    assert await rows(isolated_app, "SELECT id FROM products") == []


async def test_company_key_cannot_create_in_another_company(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
    isolated_app: FastAPI,
) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    as_mine = client_for(mine["api_key"])
    r = await as_mine.post(f"/api/companies/{other['id']}/products", json=body())
    assert r.status_code == 404
    r = await as_mine.post("/api/products", json=body(company_id=other["id"]))
    assert r.status_code == 404
    assert await rows(isolated_app, "SELECT id FROM products") == []


async def test_unknown_company_is_404(client: AsyncClient) -> None:
    assert (await client.post("/api/companies/999999/products", json=body())).status_code == 404
    r = await client.post("/api/products", json=body(company_id=999999))
    assert r.status_code == 404


async def test_legacy_endpoint_company_rules(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
    anon: AsyncClient,
) -> None:
    mine = await create_company(client, "Mine")
    r = await client.post("/api/products", json=body())
    assert r.status_code == 422
    assert ["body", "company_id"] in [err["loc"] for err in r.json()["errors"]]

    r = await client.post("/api/products", json=body(company_id=mine["id"]))
    assert r.status_code == 201
    assert r.json()["company_id"] == mine["id"]

    as_mine = client_for(mine["api_key"])
    r = await as_mine.post("/api/products", json=body())
    assert r.status_code == 201
    assert r.json()["company_id"] == mine["id"]
    r = await as_mine.post("/api/products", json=body(company_id=mine["id"]))
    assert r.status_code == 201

    assert (await anon.post("/api/products", json=body())).status_code == 401
    for bad in [0, "1", True, -3]:
        r = await client.post("/api/products", json=body(company_id=bad))
        assert r.status_code == 422, bad


async def test_legacy_endpoint_creates_with_stock(client: AsyncClient) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"], "Main Warehouse")
    r = await client.post(
        "/api/products",
        json=body(company_id=company["id"], warehouse_id=wh["id"], initial_quantity=40),
    )
    assert r.status_code == 201, r.text
    got = await client.get(f"/api/companies/{company['id']}/products/{r.json()['id']}")
    assert got.json()["stock"] == [
        {
            "warehouse_id": wh["id"],
            "warehouse_name": "Main Warehouse",
            "quantity": 40,
            "available": 40,
        }
    ]


async def test_initial_stock_is_a_receipt_in_the_ledger(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"])
    product = await create_product(
        client, company["id"], warehouse_id=wh["id"], initial_quantity=25
    )
    levels = await rows(
        isolated_app,
        "SELECT warehouse_id, quantity FROM inventory_levels WHERE product_id = :p",
        p=product["id"],
    )
    assert levels == [{"warehouse_id": wh["id"], "quantity": 25}]
    entries = await rows(
        isolated_app,
        "SELECT warehouse_id, delta, reason, quantity_after, "
        "occurred_at BETWEEN clock_timestamp() - interval '1 minute' AND clock_timestamp() "
        "AS recent "
        "FROM ledger_entries WHERE product_id = :p",
        p=product["id"],
    )
    assert entries == [
        {
            "warehouse_id": wh["id"],
            "delta": 25,
            "reason": "receipt",
            "quantity_after": 25,
            "recent": True,
        }
    ]


async def test_zero_initial_quantity_creates_an_empty_level_and_no_entry(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"], "Depot")
    for extra in [{}, {"initial_quantity": 0}]:
        product = await create_product(client, company["id"], warehouse_id=wh["id"], **extra)
        got = await client.get(f"/api/companies/{company['id']}/products/{product['id']}")
        assert got.json()["stock"] == [
            {"warehouse_id": wh["id"], "warehouse_name": "Depot", "quantity": 0, "available": 0}
        ]
        entries = await rows(
            isolated_app, "SELECT id FROM ledger_entries WHERE product_id = :p", p=product["id"]
        )
        assert entries == []


async def test_initial_quantity_needs_a_warehouse(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    company = await create_company(client)
    r = await client.post(f"/api/companies/{company['id']}/products", json=body(initial_quantity=5))
    assert r.status_code == 422
    assert ["body", "initial_quantity"] in [err["loc"] for err in r.json()["errors"]]
    assert await rows(isolated_app, "SELECT id FROM products") == []


async def test_bundle_takes_no_initial_stock(client: AsyncClient, isolated_app: FastAPI) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"])
    url = f"/api/companies/{company['id']}/products"
    r = await client.post(url, json=body(is_bundle=True, warehouse_id=wh["id"], initial_quantity=3))
    assert r.status_code == 422
    assert await rows(isolated_app, "SELECT id FROM products") == []

    # With a warehouse but no stock it is accepted; a bundle holds no level of its own.
    r = await client.post(url, json=body(is_bundle=True, warehouse_id=wh["id"]))
    assert r.status_code == 201, r.text
    assert r.json()["is_bundle"] is True
    assert await rows(isolated_app, "SELECT product_id FROM inventory_levels") == []


async def test_failure_after_the_product_is_written_leaves_nothing(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    """All or nothing: the ledger insert fails after the product and level are written,
    and the response is an error with no product, level or entry left behind."""
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"])
    await execute(
        isolated_app,
        "CREATE FUNCTION test_refuse_entry() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '22023'; END $$",
    )
    await execute(
        isolated_app,
        "CREATE TRIGGER test_refuse_entry BEFORE INSERT ON ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_entry()",
    )
    data = body(warehouse_id=wh["id"], initial_quantity=9)
    key = {"Idempotency-Key": "fault-1"}
    url = f"/api/companies/{company['id']}/products"
    r = await client.post(url, json=data, headers=key)
    assert 400 <= r.status_code < 600 and r.status_code != 201
    for table in ["products", "inventory_levels", "ledger_entries", "idempotency_records"]:
        assert await rows(isolated_app, f"SELECT * FROM {table}") == [], table  # noqa: S608

    # The failed request changed nothing, so its key is free for the retry.
    await execute(isolated_app, "DROP TRIGGER test_refuse_entry ON ledger_entries")
    r = await client.post(url, json=data, headers=key)
    assert r.status_code == 201, r.text
    assert len(await rows(isolated_app, "SELECT id FROM ledger_entries")) == 1


async def test_idempotent_retry_returns_the_first_response(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    company = await create_company(client)
    wh = await create_warehouse(client, company["id"])
    data = body(warehouse_id=wh["id"], initial_quantity=4)
    url = f"/api/companies/{company['id']}/products"
    first = await client.post(url, json=data, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    again = await client.post(url, json=data, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert len(await rows(isolated_app, "SELECT id FROM products")) == 1
    assert len(await rows(isolated_app, "SELECT id FROM ledger_entries")) == 1

    other = await client.post(
        url, json={**data, "name": "Other"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert len(await rows(isolated_app, "SELECT id FROM products")) == 1


async def test_idempotent_retry_on_the_legacy_endpoint(
    client: AsyncClient,
    client_for,  # type: ignore[no-untyped-def]
    isolated_app: FastAPI,
) -> None:
    company = await create_company(client)
    as_key = client_for(company["api_key"])
    data = body()
    first = await as_key.post("/api/products", json=data, headers={"Idempotency-Key": "L"})
    assert first.status_code == 201
    again = await as_key.post("/api/products", json=data, headers={"Idempotency-Key": "L"})
    assert (again.status_code, again.json()) == (201, first.json())
    changed = await as_key.post("/api/products", json=body(), headers={"Idempotency-Key": "L"})
    assert changed.status_code == 409
    assert len(await rows(isolated_app, "SELECT id FROM products")) == 1
