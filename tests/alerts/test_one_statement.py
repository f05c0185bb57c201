"""SPEC: the report is one aggregated SQL query over the ledger, never one per product.

What is counted: statements that read `ledger_entries` while the endpoint runs, whether
sent through SQLAlchemy (its cursor events) or straight on the session's asyncpg
connection (asyncpg's query logger; the report itself goes that way). The
authentication and company-scope checks (and the `warehouse_id` / `product_type_id`
existence checks) run their own small queries on other tables first; they are constant
per request and are checked separately to not grow with the data.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.alerts.conftest import utcnow
from tests.alerts.world import World


@asynccontextmanager
async def recorded_statements(engine: AsyncEngine, app: FastAPI) -> AsyncIterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    def record_raw(query: Any) -> None:
        statements.append(query.query)

    # The rolled-back test app runs every request on this one connection.
    bound: AsyncConnection = app.state.sessionmaker.kw["bind"]
    driver = (await bound.get_raw_connection()).driver_connection
    assert driver is not None
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    driver.add_query_logger(record_raw)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        driver.remove_query_logger(record_raw)


async def _populate(world: World, products: int) -> int:
    now = utcnow()
    warehouses = [await world.warehouse(f"W{i}") for i in range(3)]
    supplier = await world.supplier()
    kit_parts = []
    for i in range(products):
        pid = await world.product(f"P{i}", threshold=50)
        await world.link(pid, supplier, lead_time_days=i % 5)
        kit_parts.append(pid)
        for wh in warehouses:
            await world.receive(pid, wh, 20, now - timedelta(days=40))
            await world.sell(pid, wh, 3, now - timedelta(days=2))
    kit = await world.product("kit", is_bundle=True)
    await world.components(kit, {kit_parts[0]: 1, kit_parts[1]: 2})
    await world.sell(kit, warehouses[0], 1, now - timedelta(days=1))
    return warehouses[0]


async def test_report_is_one_statement_whatever_the_size(
    client: AsyncClient, world: World, app_engine: AsyncEngine, isolated_app: FastAPI
) -> None:
    base = f"/api/companies/{world.company_id}/alerts/low-stock"
    wh = await _populate(world, products=2)
    async with recorded_statements(app_engine, isolated_app) as small:
        r = await client.get(base)
    assert r.status_code == 200 and r.json()["total_alerts"] == 6

    await _populate(world, products=25)
    async with recorded_statements(app_engine, isolated_app) as large:
        r = await client.get(base)
    assert r.status_code == 200 and r.json()["total_alerts"] == 6 + 75
    async with recorded_statements(app_engine, isolated_app) as filtered:
        r = await client.get(base, params={"warehouse_id": wh, "window_days": 365})
    assert r.status_code == 200

    for statements in (small, large, filtered):
        report = [s for s in statements if "ledger_entries" in s]
        assert len(report) == 1, report
    # auth/scope/filter checks are constant: the request as a whole does not grow either
    assert len(small) == len(large)
    assert len(filtered) == len(large) + 1  # + the warehouse existence check


async def test_only_the_report_is_planned_for_its_parameters(
    client: AsyncClient, world: World, app_engine: AsyncEngine, isolated_app: FastAPI
) -> None:
    """The report's statement runs with `force_custom_plan` (a generic plan cannot see the
    window's bounds); the mode is put back after it, so the rest of a transaction (the
    foreign-key checks of from-alerts' inserts included) keeps the plan cache."""
    await _populate(world, products=2)
    async with recorded_statements(app_engine, isolated_app) as statements:
        r = await client.get(f"/api/companies/{world.company_id}/alerts/low-stock")
    assert r.status_code == 200 and r.json()["total_alerts"] == 6
    # (asyncpg's logger runs its callbacks soon after, not in line with SQLAlchemy's)
    around = [s for s in statements if "plan_cache_mode" in s or "ledger_entries" in s]
    assert len(around) == 3 and "ledger_entries" in around[1], around
    assert around[0] == "SET LOCAL plan_cache_mode = force_custom_plan"
    assert around[2] == "SET LOCAL plan_cache_mode TO DEFAULT"
    # The test app's requests share one outer transaction: a SET LOCAL left behind
    # would still be in force here.
    bound: AsyncConnection = isolated_app.state.sessionmaker.kw["bind"]
    driver = (await bound.get_raw_connection()).driver_connection
    assert driver is not None
    assert await driver.fetchval("SHOW plan_cache_mode") == "auto"
