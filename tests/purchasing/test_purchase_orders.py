"""Purchase orders through the API (SPEC 'Purchase orders')."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import create_company, create_supplier, create_warehouse
from tests.purchasing.helpers import Shop, make_shop


@pytest.fixture
async def shop(client: AsyncClient) -> Shop:
    return await make_shop(client)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_whole_life_of_an_order(shop: Shop) -> None:
    a, b = await shop.product(), await shop.product()
    await shop.link(a, lead_time_days=3, unit_cost="2.50")
    await shop.link(b, lead_time_days=9)
    order = await shop.draft([(b, 4), (a, 10)], reference="PO-42")
    assert order["status"] == "draft"
    assert order["ordered_at"] is None and order["expected_at"] is None
    # lines keep the order given; unit_cost defaults to the link's, else null
    assert order["lines"] == [
        {"product_id": b, "quantity": 4, "received_quantity": 0, "unit_cost": None},
        {"product_id": a, "quantity": 10, "received_quantity": 0, "unit_cost": "2.50"},
    ]
    assert await shop.level(a) is None  # drafts are not on order (and create no level)

    before = datetime.now(UTC)
    r = await shop.client.post(f"{shop.base}/purchase-orders/{order['id']}/order")
    assert r.status_code == 200, r.text
    placed = r.json()
    assert placed["status"] == "ordered"
    ordered_at = ts(placed["ordered_at"])
    assert before - timedelta(seconds=1) <= ordered_at <= datetime.now(UTC)
    # the longest lead time among the supplier's links to the order's products
    assert ts(placed["expected_at"]) - ordered_at == timedelta(days=9)
    assert await shop.level(a) == {**(await shop.level(a) or {}), "quantity": 0, "on_order": 10}
    assert (await shop.level(b) or {})["on_order"] == 4

    r = await shop.receive(order["id"], [(a, 6)])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["purchase_order"]["status"] == "partially_received"
    assert [ln["received_quantity"] for ln in body["purchase_order"]["lines"]] == [0, 6]
    [entry] = body["entries"]
    assert entry["reason"] == "receipt" and entry["delta"] == 6
    assert entry["reference"] == "PO-42" and entry["quantity_after"] == 6
    level_a = await shop.level(a)
    assert level_a is not None and (level_a["quantity"], level_a["on_order"]) == (6, 4)

    r = await shop.receive(order["id"], [(a, 4), (b, 4)], reference="DN-7")
    assert r.status_code == 201, r.text
    assert r.json()["purchase_order"]["status"] == "received"
    assert {e["reference"] for e in r.json()["entries"]} == {"DN-7"}
    for pid, quantity in ((a, 10), (b, 4)):
        level = await shop.level(pid)
        assert level is not None and (level["quantity"], level["on_order"]) == (quantity, 0)

    r = await shop.receive(order["id"], [(a, 1)])
    assert r.status_code == 409
    r = await shop.client.post(f"{shop.base}/purchase-orders/{order['id']}/cancel")
    assert r.status_code == 409
    r = await shop.client.get(f"{shop.base}/purchase-orders/{order['id']}")
    assert r.status_code == 200 and r.json()["status"] == "received"


async def test_reference_defaults_to_po_id_and_expected_at_is_kept(shop: Shop) -> None:
    a = await shop.product()
    await shop.link(a, lead_time_days=30)
    due = "2027-01-15T08:00:00+00:00"
    order = await shop.placed([(a, 5)], expected_at=due)
    assert ts(order["expected_at"]) == ts(due)
    r = await shop.receive(order["id"], [(a, 5)])
    assert r.json()["entries"][0]["reference"] == f"PO-{order['id']}"


async def test_no_lead_time_leaves_expected_at_null(shop: Shop) -> None:
    a = await shop.product()
    order = await shop.placed([(a, 5)])  # not even linked: allowed
    assert order["expected_at"] is None and order["ordered_at"] is not None


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"product_id": 1, "quantity": 0}],
        [{"product_id": 1, "quantity": 1.5}],
        [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}],
        [{"product_id": 1, "quantity": 1, "unit_cost": "1.234"}],
    ],
)
async def test_invalid_lines_are_422(shop: Shop, lines: list[dict[str, Any]]) -> None:
    body = {"supplier_id": shop.supplier_id, "warehouse_id": shop.warehouse_id, "lines": lines}
    r = await shop.client.post(f"{shop.base}/purchase-orders", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_bundles_and_inactive_products_cannot_be_ordered(shop: Shop) -> None:
    bundle = await shop.product(is_bundle=True)
    gone = await shop.product()
    r = await shop.client.delete(f"{shop.base}/products/{gone}")
    assert r.status_code == 204
    for pid in (bundle, gone):
        r = await shop.create([(pid, 1)])
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "lines", 0, "product_id"]


async def test_other_companies_rows_are_404(client: AsyncClient, shop: Shop) -> None:
    other = (await create_company(client, "Other"))["id"]
    their_wh = (await create_warehouse(client, other))["id"]
    their_sup = (await create_supplier(client, other))["id"]
    their_product = await Shop(client, other, their_wh, their_sup).product()
    mine = await shop.product()
    cases = [
        {"supplier_id": their_sup, "warehouse_id": shop.warehouse_id, "pid": mine},
        {"supplier_id": shop.supplier_id, "warehouse_id": their_wh, "pid": mine},
        {"supplier_id": shop.supplier_id, "warehouse_id": shop.warehouse_id, "pid": their_product},
    ]
    for case in cases:
        body = {
            "supplier_id": case["supplier_id"],
            "warehouse_id": case["warehouse_id"],
            "lines": [{"product_id": case["pid"], "quantity": 1}],
        }
        r = await client.post(f"{shop.base}/purchase-orders", json=body)
        assert r.status_code == 404, (case, r.text)
    theirs = await Shop(client, other, their_wh, their_sup).draft([(their_product, 1)])
    for method, suffix in (("GET", ""), ("POST", "/order"), ("POST", "/cancel")):
        r = await client.request(method, f"{shop.base}/purchase-orders/{theirs['id']}{suffix}")
        assert r.status_code == 404


async def test_patch_only_while_draft(shop: Shop) -> None:
    a, b = await shop.product(), await shop.product()
    await shop.link(b, unit_cost="1.10")
    order = await shop.draft([(a, 1)])
    url = f"{shop.base}/purchase-orders/{order['id']}"
    r = await shop.client.patch(
        url, json={"reference": "R-1", "lines": [{"product_id": b, "quantity": 3}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["reference"] == "R-1"
    assert r.json()["lines"] == [
        {"product_id": b, "quantity": 3, "received_quantity": 0, "unit_cost": "1.10"}
    ]
    r = await shop.client.patch(url, json={"lines": None})
    assert r.status_code == 422
    r = await shop.client.patch(url, json={"lines": [{"product_id": a, "quantity": 0}]})
    assert r.status_code == 422
    assert (await shop.client.post(url + "/order")).status_code == 200
    r = await shop.client.patch(url, json={"reference": "R-2"})
    assert r.status_code == 409
    assert (await shop.client.get(url)).json()["reference"] == "R-1"
    assert (await shop.client.post(url + "/order")).status_code == 409


async def test_receipt_rules_and_their_order(shop: Shop) -> None:
    a, b, stranger = await shop.product(), await shop.product(), await shop.product()
    draft = await shop.draft([(a, 5)])
    assert (await shop.receive(draft["id"], [(a, 1)])).status_code == 409  # a draft
    order = await shop.placed([(a, 5), (b, 5)])
    oid = order["id"]
    r = await shop.receive(oid, [(a, 1), (a, 1)])
    assert r.status_code == 422  # invalid in itself
    r = await shop.receive(oid, [(a, 6), (stranger, 1)])
    assert r.status_code == 422  # not on the order (checked before over-receipt)
    assert r.json()["errors"][0]["loc"] == ["body", "lines", 1, "product_id"]
    r = await shop.receive(oid, [(b, 1), (a, 6)])
    assert r.status_code == 409, r.text  # over-receipt: changes nothing
    assert r.json()["type"] == "urn:stockflow:problem:conflict"
    r = await shop.receive(oid, [(a, 1)], occurred_at="2999-01-01T00:00:00Z")
    assert r.status_code == 422
    after = (await shop.client.get(f"{shop.base}/purchase-orders/{oid}")).json()
    assert after["status"] == "ordered"
    assert [ln["received_quantity"] for ln in after["lines"]] == [0, 0]
    level_b = await shop.level(b)
    assert level_b is not None and (level_b["quantity"], level_b["on_order"]) == (0, 5)


async def test_cancel_keeps_what_was_received(shop: Shop) -> None:
    a = await shop.product()
    order = await shop.placed([(a, 10)])
    assert (await shop.receive(order["id"], [(a, 3)])).status_code == 201
    r = await shop.client.post(f"{shop.base}/purchase-orders/{order['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["lines"][0]["received_quantity"] == 3
    level = await shop.level(a)
    assert level is not None and (level["quantity"], level["on_order"]) == (3, 0)
    assert (await shop.receive(order["id"], [(a, 1)])).status_code == 409
    r = await shop.client.post(f"{shop.base}/purchase-orders/{order['id']}/cancel")
    assert r.status_code == 409
    draft = await shop.draft([(a, 1)])
    r = await shop.client.post(f"{shop.base}/purchase-orders/{draft['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await shop.level(a) or {})["on_order"] == 0


async def test_list_filters_and_pages(client: AsyncClient, shop: Shop) -> None:
    a = await shop.product()
    other_sup = (await create_supplier(client, shop.company_id, "Other"))["id"]
    d1 = await shop.draft([(a, 1)])
    o1 = await shop.placed([(a, 1)])
    d2 = await Shop(client, shop.company_id, shop.warehouse_id, other_sup).draft([(a, 1)])
    url = f"{shop.base}/purchase-orders"
    ids = [o["id"] for o in (await client.get(url)).json()["items"]]
    assert ids == [d1["id"], o1["id"], d2["id"]]
    r = await client.get(url, params={"status": "draft"})
    assert [o["id"] for o in r.json()["items"]] == [d1["id"], d2["id"]]
    r = await client.get(url, params={"supplier_id": other_sup})
    assert [o["id"] for o in r.json()["items"]] == [d2["id"]]
    assert (await client.get(url, params={"status": "lost"})).status_code == 422
    first = (await client.get(url, params={"limit": 2})).json()
    assert len(first["items"]) == 2
    rest = (await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [o["id"] for o in rest["items"]] == [d2["id"]] and rest["next_cursor"] is None
    other = (await create_company(client, "Other"))["id"]
    their_sup = (await create_supplier(client, other))["id"]
    assert (await client.get(url, params={"supplier_id": their_sup})).status_code == 404


async def test_creation_and_receipts_are_idempotent(shop: Shop) -> None:
    a = await shop.product()
    body = {
        "supplier_id": shop.supplier_id,
        "warehouse_id": shop.warehouse_id,
        "lines": [{"product_id": a, "quantity": 8}],
    }
    url = f"{shop.base}/purchase-orders"
    first = await shop.client.post(url, json=body, headers={"Idempotency-Key": "po-1"})
    again = await shop.client.post(url, json=body, headers={"Idempotency-Key": "po-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert len((await shop.client.get(url)).json()["items"]) == 1
    oid = first.json()["id"]
    assert (await shop.client.post(f"{url}/{oid}/order")).status_code == 200
    receipt = {"lines": [{"product_id": a, "quantity": 5}]}
    headers = {"Idempotency-Key": "rcpt-1"}
    r1 = await shop.client.post(f"{url}/{oid}/receipts", json=receipt, headers=headers)
    r2 = await shop.client.post(f"{url}/{oid}/receipts", json=receipt, headers=headers)
    assert r1.status_code == r2.status_code == 201
    assert r2.json() == r1.json() and r2.headers.get("Idempotent-Replayed") == "true"
    level = await shop.level(a)
    assert level is not None and (level["quantity"], level["on_order"]) == (5, 3)
    other = {"lines": [{"product_id": a, "quantity": 1}]}
    r3 = await shop.client.post(f"{url}/{oid}/receipts", json=other, headers=headers)
    assert r3.status_code == 409
