"""STOCKFLOW_READ_DATABASE_URL: the low-stock report reads from a second engine."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from stockflow.main import create_app


@pytest.fixture(scope="module")
async def two_databases(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """A primary and an empty "replica", both migrated; these tests commit."""
    server = make_url(database_url)
    admin = await asyncpg.connect(
        server.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    names = [f"stockflow_rr_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    urls = []
    for name in names:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade_to_head, url)
        urls.append(url)
    try:
        yield urls[0], urls[1]
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _report_after_sales(primary: str, read: str) -> dict[str, Any]:
    settings = Settings(
        database_url=primary, read_database_url=read, admin_token="rr", background_jobs=False
    )
    app = create_app(settings)
    app.state.admin_token = "rr"
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": "Bearer rr"},
        ) as client,
    ):
        company = (await client.post("/api/companies", json={"name": "Replicated"})).json()
        base = f"/api/companies/{company['id']}"
        warehouse = (await client.post(f"{base}/warehouses", json={"name": "W"})).json()
        body = {"name": "P", "sku": f"RR-{uuid.uuid4().hex[:6]}", "price": "1.00"}
        product = (
            await client.post(f"{base}/products", json={**body, "low_stock_threshold": 10})
        ).json()
        line = {"product_id": product["id"], "warehouse_id": warehouse["id"]}
        for reason, delta in (("receipt", 8), ("sale", -3)):
            movement = {"reason": reason, "lines": [{**line, "delta": delta}]}
            assert (await client.post(f"{base}/stock-movements", json=movement)).status_code == 201
        response = await client.get(f"{base}/alerts/low-stock")
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result


async def test_report_reads_from_the_read_url(two_databases: tuple[str, str]) -> None:
    primary, _ = two_databases
    report = await _report_after_sales(primary, primary)
    assert [(a["current_stock"], a["units_sold"]) for a in report["alerts"]] == [(5, 3)]


async def test_report_does_not_read_the_primary_when_a_replica_is_set(
    two_databases: tuple[str, str],
) -> None:
    primary, empty_replica = two_databases
    # The sales went to the primary; the "replica" never got them: the report shows what
    # the replica holds, which proves it is the one read.
    report = await _report_after_sales(primary, empty_replica)
    assert report == {"alerts": [], "total_alerts": 0}
