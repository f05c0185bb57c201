"""No request, however malformed, gets a 5xx.

Walks every operation in the app's own OpenAPI document and sends it junk: wrong types
and out-of-range values in every body field and query parameter, malformed and
non-object JSON, odd path ids. Each answer must be a problem+json 4xx (or a success,
where the junk happens to be acceptable).
"""

import json
from typing import Any

from httpx import AsyncClient

from tests.factories import (
    create_company,
    create_product,
    create_supplier,
    create_warehouse,
)

JUNK_VALUES: list[Any] = [
    None,
    "",
    "   ",
    "x" * 300,
    -1,
    0,
    2**63,
    2**70,
    -(2**70),
    1.5,
    1e308,
    "NaN",
    "Infinity",
    "1.234",
    True,
    [],
    {},
    [1, "a"],
    {"a": 1},
    "2026-13-45T99:99:99",
    "\u0000",
]
JUNK_PATH_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999999", "%00", "9223372036854775807"]
RAW_BODIES = [b"{", b"[", b"null", b"1", b'"x"', b"{}", b"[]", b"\xff\xfe", b'{"a": NaN}']


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _body_fields(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return []
    schema = _resolve(spec, content["schema"])
    if schema.get("type") == "array":
        schema = _resolve(spec, schema.get("items", {}))
    return list(schema.get("properties", {}))


def _path_for(template: str, ids: dict[str, int]) -> str:
    parts = template.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            parts[i] = str(ids.get(parts[i - 1], 1))
    return "/".join(parts)


async def _seed(client: AsyncClient) -> dict[str, int]:
    company = await create_company(client, "Fuzz")
    cid = company["id"]
    warehouse = await create_warehouse(client, cid)
    product = await create_product(client, cid)
    supplier = await create_supplier(client, cid)
    return {
        "companies": cid,
        "warehouses": warehouse["id"],
        "products": product["id"],
        "thresholds": product["id"],
        "suppliers": supplier["id"],
        "product-types": 1,
    }


def _assert_4xx_or_ok(r: Any, what: str) -> None:
    assert r.status_code < 500, f"{what} -> {r.status_code}: {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json", what


async def test_no_input_causes_a_server_error(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    ids = await _seed(client)
    for template, ops in spec["paths"].items():
        if not template.startswith("/api/"):
            continue
        for method, op in ops.items():
            path = _path_for(template, ids)
            fields = _body_fields(spec, op)
            is_list_body = "components" in template
            for field in fields:
                for value in JUNK_VALUES:
                    body: Any = {field: value}
                    if is_list_body:
                        body = [body]
                    r = await client.request(method, path, json=body)
                    _assert_4xx_or_ok(r, f"{method} {path} {field}={value!r}")
            if "requestBody" in op:
                for raw in RAW_BODIES:
                    r = await client.request(
                        method, path, content=raw, headers={"content-type": "application/json"}
                    )
                    _assert_4xx_or_ok(r, f"{method} {path} body={raw!r}")
                r = await client.request(
                    method, path, json={}, headers={"Idempotency-Key": "k" * 300}
                )
                _assert_4xx_or_ok(r, f"{method} {path} long Idempotency-Key")
            for param in op.get("parameters", []):
                if param["in"] != "query":
                    continue
                for value in JUNK_VALUES:
                    query = {param["name"]: value if isinstance(value, str) else json.dumps(value)}
                    r = await client.request(method, path, params=query)
                    _assert_4xx_or_ok(r, f"{method} {path}?{param['name']}={value!r}")
            if "{" in template:
                for junk in JUNK_PATH_IDS:
                    bad = template.replace("{company_id}", str(ids["companies"]))
                    bad = _path_for(bad.replace("{id}", junk), ids)
                    r = await client.request(method, bad, json={})
                    _assert_4xx_or_ok(r, f"{method} {bad}")
