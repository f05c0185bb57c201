"""The OpenAPI document is honest and pleasant: what a client generator and a Swagger UI
user see."""

import re
from typing import Any

from httpx import AsyncClient

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


async def _document(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


async def test_operation_ids_are_readable_and_unique(anon: AsyncClient) -> None:
    operations = _operations(await _document(anon))
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", i) for i in ids), ids
    by_path = {(m, p): op["operationId"] for m, p, op in operations}
    assert by_path[("post", "/api/companies/{company_id}/products")] == "products-create"
    assert by_path[("get", "/api/companies/{company_id}/alerts/low-stock")] == (
        "alerts-low-stock-report"
    )


async def test_operations_are_described_with_examples_and_problems(anon: AsyncClient) -> None:
    document = await _document(anon)
    assert "Problem" in document["components"]["schemas"]
    for method, path, op in _operations(document):
        assert op.get("summary") and op.get("description"), (method, path)
        for status, response in op["responses"].items():
            if int(status) < 400:
                if "content" in response:
                    assert "example" in response["content"]["application/json"], (path, status)
                continue
            assert list(response["content"]) == ["application/problem+json"], (path, status)
            media = response["content"]["application/problem+json"]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert media["example"]["status"] == int(status)
        if "requestBody" in op:
            assert "413" in op["responses"], (method, path)
            assert "example" in op["requestBody"]["content"]["application/json"], (method, path)
        if path.startswith("/api/"):
            assert {"401", "422", "503"} <= op["responses"].keys(), (method, path)


async def test_id_maximums_are_integers(anon: AsyncClient) -> None:
    r = await anon.get("/openapi.json")
    assert "9.223372036854776e+18" not in r.text
    assert "9223372036854775807" in r.text
    assert not re.search(r'"(minimum|maximum)":\s*-?\d+\.0\b', r.text)


async def test_tags_are_described_and_the_report_explains_its_fields(anon: AsyncClient) -> None:
    document = await _document(anon)
    used = {tag for _, _, op in _operations(document) for tag in op["tags"]}
    described = {t["name"]: t["description"] for t in document["tags"]}
    assert used <= described.keys()
    assert all(d and d not in used for d in described.values())
    report = document["paths"]["/api/companies/{company_id}/alerts/low-stock"]["get"]
    for field in ["days_until_stockout", "recommended_order_quantity", "order_by", "on_order"]:
        assert field in report["description"]


async def test_the_legacy_create_example_needs_no_ids(anon: AsyncClient) -> None:
    document = await _document(anon)
    body = document["paths"]["/api/products"]["post"]["requestBody"]["content"]
    example = body["application/json"]["example"]
    assert not any(key.endswith("_id") for key in example)


async def test_docs_pages_load_assets_from_this_server(anon: AsyncClient) -> None:
    for page in ["/docs", "/redoc"]:
        r = await anon.get(page)
        assert r.status_code == 200
        assert "cdn" not in r.text.lower()
        for asset in re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', r.text):
            assert (await anon.get(asset)).status_code == 200, asset
