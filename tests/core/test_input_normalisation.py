"""Input that must not pass: hidden characters, look-alike SKUs, non-ASCII digits,
numbers as timestamps (the shared types of core/schemas.py)."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import create_company, unique_sku


async def _post_product(client: AsyncClient, company: int, **fields: Any) -> Any:
    body = {"name": "Widget", "sku": unique_sku(), "price": "1.00", **fields}
    return await client.post(f"/api/companies/{company}/products", json=body)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "\u200b"),  # zero-width space only: blank
        ("name", "\u200b\u200c\ufeff "),
        ("name", "Wid\u200bget"),  # a format character inside
        ("name", "Wid\x00get"),  # NUL
        ("name", "line\nbreak"),
        ("name", "\u202eevil"),  # right-to-left override
        ("sku", "\u200b"),
        ("sku", "UNI\u200b-1"),
        ("sku", "UNI\x07-1"),
        ("price", "\u0663"),  # Arabic-Indic three
        ("price", "1_000"),
        ("price", "\uff11"),  # full-width one
        ("price", "\uff11.00"),
    ],
)
async def test_hidden_characters_and_foreign_digits_are_422(
    client: AsyncClient, field: str, value: str
) -> None:
    company = (await create_company(client))["id"]
    r = await _post_product(client, company, **{field: value})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(field in e["loc"] for e in r.json()["errors"])


async def test_skus_are_nfkc_normalised_and_unique_case_insensitively(
    client: AsyncClient,
) -> None:
    company = (await create_company(client))["id"]
    base = unique_sku("UNI")
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in base)
    r = await _post_product(client, company, sku=f" {full_width} ")
    assert r.status_code == 201, r.text
    assert r.json()["sku"] == base  # stored in its NFKC form
    for look_alike in (base, base.lower(), full_width.lower()):
        r = await _post_product(client, company, sku=look_alike)
        assert r.status_code == 409, (look_alike, r.text)


async def test_plain_money_and_names_still_pass(client: AsyncClient) -> None:
    company = (await create_company(client))["id"]
    r = await _post_product(client, company, name="Café Ünïcode ✓", price="1234.5")
    assert r.status_code == 201, r.text
    assert r.json()["price"] == "1234.50"
    assert r.json()["name"] == "Café Ünïcode ✓"
    r = await _post_product(client, company, price=7)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1", "yesterday", "2026-13-45"])
async def test_timestamps_in_query_must_be_iso_strings(client: AsyncClient, value: str) -> None:
    company = (await create_company(client))["id"]
    r = await client.get(f"/api/companies/{company}/stock-movements", params={"until": value})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["query", "until"]


async def test_iso_timestamps_in_query_pass(client: AsyncClient) -> None:
    company = (await create_company(client))["id"]
    for value in ("2026-12-04", "2026-12-04T12:00:00", "2026-12-04T12:00:00+02:00"):
        r = await client.get(f"/api/companies/{company}/stock-movements", params={"since": value})
        assert r.status_code == 200, (value, r.text)


async def test_a_sku_of_another_company_is_still_a_conflict(
    committed_client: AsyncClient,
) -> None:
    client = committed_client  # real transactions: the admin scope of one ends with it
    # SKUs are unique across companies (the index on lower(sku)); row-level security hides
    # the other company's row from the pre-check, so the index must answer, as a 409.
    mine = (await create_company(client, "Mine"))["id"]
    other = (await create_company(client, "Other"))["id"]
    sku = unique_sku("X")
    assert (await _post_product(client, other, sku=sku)).status_code == 201
    r = await _post_product(client, mine, sku=sku.lower())
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
