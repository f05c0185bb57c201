"""The OpenAPI document a user of Swagger UI or a client generator meets.

One place makes it honest and pleasant for every router, including ones added later:
- operation ids from the route's tag and function name (`products-create`), by FastAPI's
  `generate_unique_id_function`;
- error responses as `application/problem+json` with the `Problem` schema and an example
  (`problem_responses` in core/errors.py declares them; anything still declared as JSON is
  moved here), 413 on every operation that takes a body, 409 on every one that honours
  `Idempotency-Key` (a key reused with another request);
- integer bounds rendered as integers (pydantic renders the bounds of strict ints as
  floats, so the id maximum became the float 9.223372036854776e+18);
- tag descriptions for the tags in use.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from stockflow.core.errors import (
    PROBLEM_JSON,
    IdempotencyConflict,
    Problem,
    problem_body,
    problem_response,
)
from stockflow.core.openapi_examples import (
    OPERATION_DESCRIPTIONS,
    SCHEMA_EXAMPLES,
    page_example,
)

MAX_ID = 2**63 - 1

API_DESCRIPTION = """\
Every operation needs `Authorization: Bearer <token>`: the admin token
(`STOCKFLOW_ADMIN_TOKEN`), or a company's API key (`sf_<id>_<secret>`), which acts only on
its own company. Press **Authorize** and paste one; `GET /api/me` says who it is.

Errors are RFC 9457 `application/problem+json`. Lists are paginated with `limit` and
`cursor` (`next_cursor` of the previous page). Unknown query parameters are rejected (422).
POSTs that create or move stock honour an `Idempotency-Key` header.
"""

TAG_DESCRIPTIONS: dict[str, str] = {
    "me": "Who the credential in `Authorization` is.",
    "companies": "Tenants. The admin creates companies; each gets an API key, shown once.",
    "api-keys": "A company's API keys (`sf_<id>_<secret>`): create (the secret is shown "
    "once, only its hash is stored), list, revoke (401 from then on, on every server).",
    "warehouses": "A company's warehouses, where stock is kept.",
    "product-types": "Kinds of product, each with a default low-stock threshold.",
    "products": "The catalog. SKUs are unique across the platform (case-insensitive).",
    "suppliers": "Suppliers and which products they supply, with lead times and costs.",
    "bundles": "Products made of other products; selling one sells its components.",
    "ledger": "Append-only stock movements and transfers; every level is the sum of its entries.",
    "inventory": "Current stock levels per product and warehouse, and their thresholds.",
    "alerts": "The low-stock report: what to reorder, from whom, and how soon.",
    "purchase-orders": "Orders to suppliers: `draft` → `ordered` → `partially_received` → "
    "`received`, or `cancelled`. Placed orders count as `on_order` in the low-stock report; "
    "receipts are ledger entries. Drafts can be made from the report.",
    "reservations": "Stock held for an order before it is sold.",
    "events": "The company's event feed (stock changes, products, purchase orders, "
    "low-stock alerts opening and resolving), each event exactly once, in id order.",
    "webhooks": "Subscriptions that POST matching events to a url, signed with HMAC-SHA256, "
    "retried with backoff; and their delivery log.",
    "operations": "Liveness, readiness and metrics for the people who run StockFlow.",
}


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word.removesuffix("s")


def operation_id(route: APIRoute) -> str:
    """`<tag>-<function name without the tag's words>`, e.g. `create_product` under tag
    `products` is `products-create`; `low_stock_report` under `alerts` is
    `alerts-low-stock-report`. Unique as long as function names are unique per tag (a test
    checks the whole document)."""
    tag = str(route.tags[0]) if route.tags else ""
    name = route.name
    if tag:
        plural = tag.replace("-", "_")
        for word in (plural, _singular(plural)):
            name = re.sub(rf"(^|_){word}(?=_|$)", "_", name)
    words = [w for w in name.split("_") if w] or route.name.split("_")
    return "-".join(([tag] if tag else []) + words)


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _integer_bounds(node: Any) -> None:
    """Whole bounds become integers (the id maximum exactly 2**63-1)."""
    if isinstance(node, dict):
        for key in _BOUNDS:
            value = node.get(key)
            if not isinstance(value, float):
                continue
            if node.get("type") == "integer":
                # 2**63-1 is not a float: it was rounded up to 2**63 on the way.
                node[key] = MAX_ID if value >= MAX_ID else int(value)
            elif value.is_integer():
                node[key] = int(value)  # a number's whole bound reads better as 0 than 0.0
        for child in node.values():
            _integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integer_bounds(child)


def _idempotency_conflict(operation: dict[str, Any]) -> None:
    """An operation that honours `Idempotency-Key` answers 409 when the key was used with
    another request (or its first request is still running), whatever its own rules."""
    honours_key = any(
        p.get("in") == "header" and str(p.get("name", "")).lower() == "idempotency-key"
        for p in operation.get("parameters", [])
    )
    if not honours_key:
        return
    responses: dict[str, Any] = operation.setdefault("responses", {})
    reused = "the `Idempotency-Key` was already used with a different request"
    if "409" in responses:
        if reused not in responses["409"].get("description", ""):
            responses["409"]["description"] = (
                f"{responses['409'].get('description', 'Conflict')}; or {reused}"
            )
        return
    response = problem_response(409)
    response["description"] = f"Conflict: {reused}"
    response["content"][PROBLEM_JSON]["example"] = problem_body(
        409,
        IdempotencyConflict.slug,
        IdempotencyConflict.title,
        "This Idempotency-Key was already used with a different request.",
    )
    responses["409"] = response


def _problem_content(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    if "requestBody" in operation and "413" not in responses:
        responses["413"] = problem_response(413)
    _idempotency_conflict(operation)
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        # Every error is sent as problem+json (core/errors.py), whatever a route declared.
        content: dict[str, Any] = response.setdefault("content", {})
        content.pop("application/json", None)
        if PROBLEM_JSON not in content:
            content[PROBLEM_JSON] = problem_response(int(status))["content"][PROBLEM_JSON]
        content[PROBLEM_JSON]["schema"] = {"$ref": "#/components/schemas/Problem"}


def _example_of(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The first example of a `$ref` schema (or a list of one), if it has any."""
    for variant in schema.get("anyOf", []):  # an optional body: `X | None`
        example = _example_of(variant, schemas)
        if example is not None:
            return example
    if schema.get("type") == "array":
        item = _example_of(schema.get("items", {}), schemas)
        return None if item is None else [item]
    name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
    examples = schemas.get(name, {}).get("examples")
    return examples[0] if examples else None


def _examples(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Schema examples from SCHEMA_EXAMPLES, each JSON body's example at the media type
    (where Swagger UI's "Try it out" takes it from), and descriptions by operationId."""
    for name, example in SCHEMA_EXAMPLES.items():
        if name in schemas and "examples" not in schemas[name]:
            schemas[name]["examples"] = [example]
    for name, schema in schemas.items():
        # `Page[X]` is rendered as `Page_X_`: one item of X's example.
        if name.startswith("Page_") and "examples" not in schema:
            item = schemas.get(name.removeprefix("Page_").removesuffix("_"), {})
            if item.get("examples"):
                schema["examples"] = [page_example(item["examples"][0])]
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not operation.get("description"):
                description = OPERATION_DESCRIPTIONS.get(operation.get("operationId", ""))
                if description:
                    operation["description"] = description
            bodies = [operation.get("requestBody", {})]
            bodies += [r for s, r in operation.get("responses", {}).items() if s < "400"]
            for body in bodies:
                media = body.get("content", {}).get("application/json")
                if media is None or "example" in media or "examples" in media:
                    continue
                example = _example_of(media.get("schema", {}), schemas)
                if example is not None:
                    media["example"] = example


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["Problem"] = problem_schema
    # FastAPI's own validation schemas describe a body this API never sends.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _problem_content(operation)
    _examples(document, schemas)
    _integer_bounds(document)
    used = {
        tag
        for item in document.get("paths", {}).values()
        for op in item.values()
        for tag in op.get("tags", [])
    }
    order = [*TAG_DESCRIPTIONS, *sorted(used - TAG_DESCRIPTIONS.keys())]
    document["tags"] = [
        {"name": name, "description": TAG_DESCRIPTIONS.get(name, name)}
        for name in order
        if name in used
    ]
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi(app)`, computed once on first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented override
