"""Fault injection against a PostgreSQL the test controls (tests/reliability/cluster.py):
stop/start, a frozen server (SIGSTOP), terminated backends. Every request gets an answer
within the configured timeouts — 503 with Retry-After while the database cannot answer,
never a 500 — nothing is half-written, and the app recovers without a restart."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from tests.factories import create_company, create_product, create_warehouse
from tests.reliability import cluster
from tests.reliability.helpers import app_with, assert_problem, client_of

pytestmark = pytest.mark.skipif(not cluster.available(), reason="needs PostgreSQL 15 binaries")

# Short timeouts so that each fault costs the suite about a second.
FAST = {
    "db_statement_timeout_ms": 1000,
    "db_command_timeout_seconds": 1.0,
    "db_connect_timeout_seconds": 1.0,
    "db_pool_timeout_seconds": 1.0,
    "readiness_timeout_seconds": 1.0,
    "db_pool_size": 4,
    "db_max_overflow": 0,
}
BOUND = 3.5  # seconds: the worst any request may take under a fault with FAST


@pytest.fixture(scope="module")
async def pg() -> AsyncIterator[cluster.Cluster]:
    c = cluster.Cluster()
    await asyncio.to_thread(c.init)
    await asyncio.to_thread(c.start)
    try:
        await asyncio.to_thread(upgrade_to_head, c.url)
        yield c
    finally:
        await asyncio.to_thread(c.destroy)


@pytest.fixture
async def faulty(pg: cluster.Cluster, settings: Settings) -> AsyncIterator[tuple[FastAPI, Any]]:
    app, engine = app_with(settings, database_url=pg.url, **FAST)
    try:
        yield app, pg
    finally:
        await engine.dispose()


async def _world(client: AsyncClient) -> tuple[int, int, int, int]:
    company = (await create_company(client))["id"]
    w1 = (await create_warehouse(client, company, "A"))["id"]
    w2 = (await create_warehouse(client, company, "B"))["id"]
    pid = (await create_product(client, company))["id"]
    r = await client.post(
        f"/api/companies/{company}/stock-movements",
        json={"reason": "receipt", "lines": [{"product_id": pid, "warehouse_id": w1, "delta": 50}]},
    )
    assert r.status_code == 201, r.text
    return company, w1, w2, pid


async def _transfer(client: AsyncClient, company: int, pid: int, w1: int, w2: int, key: str) -> Any:
    started = time.monotonic()
    r = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json={"product_id": pid, "from_warehouse_id": w1, "to_warehouse_id": w2, "quantity": 1},
        headers={"Idempotency-Key": key},
    )
    assert time.monotonic() - started < BOUND, "a request outlived the timeouts"
    assert r.status_code in (201, 503), r.text
    if r.status_code == 503:
        assert_problem(r, 503)
        assert int(r.headers["Retry-After"]) >= 1
    return r


async def _eventually_ok(client: AsyncClient, company: int, pid: int, w1: int, w2: int) -> None:
    deadline = time.monotonic() + 15
    while True:
        r = await _transfer(client, company, pid, w1, w2, f"recover-{time.monotonic()}")
        if r.status_code == 201:
            return
        assert time.monotonic() < deadline, "the app did not recover"
        await asyncio.sleep(0.2)


async def _check_invariants(url: str, company: int) -> None:
    """Levels equal the ledger's sums, none negative: no partial write survived."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            bad = await conn.scalar(
                text(
                    "SELECT count(*) FROM inventory_levels l LEFT JOIN ("
                    "  SELECT product_id, warehouse_id, sum(delta) AS s"
                    "  FROM ledger_entries WHERE company_id = :c"
                    "  GROUP BY product_id, warehouse_id) e"
                    " USING (product_id, warehouse_id)"
                    " WHERE l.company_id = :c"
                    " AND (l.quantity <> coalesce(e.s, 0) OR l.quantity < 0)"
                ),
                {"c": company},
            )
            assert bad == 0
    finally:
        await engine.dispose()


async def test_stop_and_start(faulty: tuple[FastAPI, cluster.Cluster]) -> None:
    app, pg = faulty
    async with client_of(app) as client:
        company, w1, w2, pid = await _world(client)
        await asyncio.to_thread(pg.stop)
        try:
            for i in range(3):
                r = await _transfer(client, company, pid, w1, w2, f"down-{i}")
                assert r.status_code == 503
            started = time.monotonic()
            assert_problem(await client.get("/readyz"), 503)
            assert time.monotonic() - started < 2
        finally:
            await asyncio.to_thread(pg.start)
        await _eventually_ok(client, company, pid, w1, w2)
        assert (await client.get("/readyz")).status_code == 200
    await _check_invariants(pg.url, company)


async def test_frozen_server(faulty: tuple[FastAPI, cluster.Cluster]) -> None:
    app, pg = faulty
    async with client_of(app) as client:
        company, w1, w2, pid = await _world(client)
        pg.freeze()
        try:
            results = await asyncio.gather(
                *[_transfer(client, company, pid, w1, w2, f"frozen-{i}") for i in range(6)],
                client.get("/readyz"),
            )
            *transfers, ready = results
            assert {r.status_code for r in transfers} == {503}
            assert ready.status_code == 503
        finally:
            pg.thaw()
        await _eventually_ok(client, company, pid, w1, w2)
    await _check_invariants(pg.url, company)


async def test_terminated_backends_mid_load(faulty: tuple[FastAPI, cluster.Cluster]) -> None:
    app, pg = faulty
    async with client_of(app) as client:
        company, w1, w2, pid = await _world(client)
        killer = create_async_engine(pg.url)

        async def kill_repeatedly() -> None:
            async with killer.connect() as conn:
                for _ in range(5):
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'stockflow'"
                        )
                    )
                    await asyncio.sleep(0.05)

        try:
            results = await asyncio.gather(
                kill_repeatedly(),
                *[_transfer(client, company, pid, w1, w2, f"kill-{i}") for i in range(20)],
            )
        finally:
            await killer.dispose()
        statuses = [r.status_code for r in results[1:]]
        assert set(statuses) <= {201, 503}
        await _eventually_ok(client, company, pid, w1, w2)
        # Every 201 moved exactly one unit; 503s moved none.
        r = await client.get(f"/api/companies/{company}/stock-movements", params={"limit": 500})
        assert r.status_code == 200
    await _check_invariants(pg.url, company)


async def test_exhausted_pool(faulty: tuple[FastAPI, cluster.Cluster]) -> None:
    app, pg = faulty
    async with client_of(app) as client:
        company, w1, w2, pid = await _world(client)
        engine = app.state.engine
        held = [await engine.connect() for _ in range(FAST["db_pool_size"])]
        try:
            r = await _transfer(client, company, pid, w1, w2, "no-pool")
            assert r.status_code == 503
        finally:
            for conn in held:
                await conn.close()
        r = await _transfer(client, company, pid, w1, w2, "no-pool")
        assert r.status_code == 201
    await _check_invariants(pg.url, company)
