"""Schemathesis over the app's own OpenAPI document, against a real server.

Every operation, positive and negative data, authenticated with the key of a company that
has a warehouse, a type, a supplier and products with stock and sales, so that valid ids
exist for the examples. The checks are the contract's: no 5xx, only declared status codes
and content types, bodies that match their declared schemas.
"""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.api.live import LiveServer, live_server

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
# Bounded so the suite stays fast on two cores; raise it for a deeper run
# (STOCKFLOW_SCHEMATHESIS_EXAMPLES=200).
MAX_EXAMPLES = int(os.environ.get("STOCKFLOW_SCHEMATHESIS_EXAMPLES", "8"))


async def _company_with_data(server: LiveServer) -> tuple[str, dict[str, int]]:
    """A company key, and ids of its rows for the path parameters."""
    async with server.client() as admin:
        company = (await admin.post("/api/companies", json={"name": "Fuzz Co"})).json()
    base = f"/api/companies/{company['id']}"
    async with server.client(company["api_key"]) as c:
        warehouse = (await c.post(f"{base}/warehouses", json={"name": "Main"})).json()
        await c.post(f"{base}/warehouses", json={"name": "Second"})
        ptype = (
            await c.post(f"{base}/product-types", json={"name": "Coffee", "low_stock_threshold": 5})
        ).json()
        supplier = (await c.post(f"{base}/suppliers", json={"name": "Bean Brothers"})).json()
        for n in range(3):
            product = (
                await c.post(
                    f"{base}/products",
                    json={
                        "name": f"Beans {n}",
                        "sku": f"FUZZ-{n}",
                        "price": "9.50",
                        "product_type_id": ptype["id"],
                        "warehouse_id": warehouse["id"],
                        "initial_quantity": 20,
                    },
                )
            ).json()
            await c.put(
                f"{base}/products/{product['id']}/suppliers/{supplier['id']}",
                json={"is_primary": True, "lead_time_days": 7},
            )
            sale = {"product_id": product["id"], "warehouse_id": warehouse["id"], "delta": -18}
            moved = await c.post(
                f"{base}/stock-movements", json={"reason": "sale", "lines": [sale]}
            )
            assert moved.status_code == 201, moved.text
        report = await c.get(f"{base}/alerts/low-stock")
        assert report.json()["total_alerts"] == 3
        order = await c.post(
            f"{base}/purchase-orders",
            json={
                "supplier_id": supplier["id"],
                "warehouse_id": warehouse["id"],
                "lines": [{"product_id": product["id"], "quantity": 10}],
            },
        )
        assert order.status_code == 201, order.text
        # The key the run may revoke: with its own key's id in the path, DELETE
        # …/api-keys/{key_id} revoked the run's credential and every later request was 401.
        spare = await c.post(f"{base}/api-keys", json={"name": "spare"})
        assert spare.status_code == 201, spare.text
    ids = {
        "company_id": company["id"],
        "warehouse_id": warehouse["id"],
        "product_id": product["id"],
        "supplier_id": supplier["id"],
        "product_type_id": ptype["id"],
        "purchase_order_id": order.json()["id"],
        "key_id": spare.json()["id"],
    }
    return str(company["api_key"]), ids


async def test_schemathesis_finds_nothing(database_url: str, tmp_path: Path) -> None:
    async with live_server(database_url) as server:
        key, ids = await _company_with_data(server)
        # Path ids of rows that exist, so the operations get past 404 to their own logic
        # (the request bodies' ids and the query filters are still generated).
        config = tmp_path / "schemathesis.toml"
        config.write_text("[parameters]\n" + "".join(f'"path.{k}" = {v}\n' for k, v in ids.items()))
        command = [
            str(Path(sys.executable).with_name("st")), "--config-file", str(config),
            "run", f"{server.base_url}/openapi.json",
            "--checks", CHECKS,
            "--header", f"Authorization: Bearer {key}",
            "--mode", "all",
            "--max-examples", str(MAX_EXAMPLES),
            "--seed", "20261204",
            "--workers", "2",
            "--request-timeout", "30",
            "--suppress-health-check", "all",
        ]  # fmt: skip
        result = await asyncio.to_thread(
            subprocess.run,
            command,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
            timeout=600,
        )
    report = result.stdout[-20_000:] + result.stderr[-5_000:]
    assert result.returncode == 0, report
