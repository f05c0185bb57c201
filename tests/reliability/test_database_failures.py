"""Database failures are 503 problem+json with Retry-After, one log line, never a 500;
the app recovers by itself. (Server-level faults: test_faults.py.)"""

import asyncio
import time
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core import errors, reliability
from stockflow.core.settings import Settings
from tests.factories import create_company
from tests.ledger.helpers import levels, move, product, warehouse
from tests.reliability.helpers import app_with, assert_problem, client_of
from tests.reliability.ports import free_port


class _Recorder:
    """Stands in for a module's structlog logger: records (level, event, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        def record(event: str, **fields: Any) -> None:
            self.lines.append((level, event, fields))

        return record


async def test_unreachable_database_is_503_with_one_log_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(reliability, "log", recorder)
    monkeypatch.setattr(errors, "log", recorder)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app, engine = app_with(settings, database_url=url)
    try:
        async with client_of(app) as admin:
            r = await admin.post("/api/companies", json={"name": "Acme"})
            body = assert_problem(r, 503)
            assert body["type"] == "urn:stockflow:problem:database-unavailable"
            assert r.headers["Retry-After"] == "1"
            # One line, no traceback (`exception` would log one).
            assert [(level, event) for level, event, _ in recorder.lines] == [
                ("warning", "database_unavailable")
            ]

            started = time.monotonic()
            ready = await admin.get("/readyz")
            assert_problem(ready, 503)
            assert time.monotonic() - started < 2
    finally:
        await engine.dispose()


async def test_exhausted_pool_is_a_quick_503(settings: Settings, committed_app: FastAPI) -> None:
    app, engine = app_with(settings, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.3)
    try:
        async with client_of(app) as admin:
            async with engine.connect():  # the only connection, held
                started = time.monotonic()
                r = await admin.post("/api/companies", json={"name": "Acme"})
                assert_problem(r, 503)
                assert time.monotonic() - started < 2
            # Released: the same app serves again.
            assert (await admin.post("/api/companies", json={"name": "Acme"})).status_code == 201
    finally:
        await engine.dispose()


async def test_statement_timeout_is_503_and_changes_nothing(
    settings: Settings, committed_app: FastAPI, engine: AsyncEngine
) -> None:
    async with client_of(committed_app) as setup:
        company = (await create_company(setup))["id"]
        wid = await warehouse(setup, company)
        pid = await product(setup, company)
        await move(setup, company, "receipt", [(pid, wid, 5)])
    app, app_engine = app_with(settings, db_statement_timeout_ms=300)
    sale = {"reason": "sale", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": -2}]}
    url = f"/api/companies/{company}/stock-movements"
    try:
        async with client_of(app) as admin, engine.connect() as locker:
            # Another transaction holds the level's row: the sale waits, then times out.
            await locker.execute(
                text("SELECT 1 FROM inventory_levels WHERE product_id = :p FOR UPDATE"),
                {"p": pid},
            )
            started = time.monotonic()
            r = await admin.post(url, json=sale, headers={"Idempotency-Key": "slow"})
            assert_problem(r, 503)
            assert r.headers["Retry-After"] == "1"
            assert time.monotonic() - started < 3
            await locker.rollback()
            # Nothing applied, the key not stored: the retry runs and applies once.
            r = await admin.post(url, json=sale, headers={"Idempotency-Key": "slow"})
            assert r.status_code == 201, r.text
    finally:
        await app_engine.dispose()
    assert await levels(committed_app, company) == {(pid, wid): 3}


async def test_terminated_backends_are_replaced(
    settings: Settings, committed_app: FastAPI, engine: AsyncEngine
) -> None:
    """pg_terminate_backend on the app's pooled connections: pre-ping replaces them, so
    the next requests succeed without a restart."""
    app, app_engine = app_with(settings)
    try:
        async with client_of(app) as admin:
            company = (await create_company(admin))["id"]
            for _ in range(3):
                assert (await admin.get(f"/api/companies/{company}/warehouses")).is_success
            async with engine.connect() as killer:
                killed = await killer.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'stockflow' AND pid <> pg_backend_pid() "
                        "AND datname = current_database() AND state = 'idle'"
                    )
                )
            assert killed and killed >= 1
            await asyncio.sleep(0.1)
            r = await admin.get(f"/api/companies/{company}/warehouses")
            assert r.status_code == 200, r.text
    finally:
        await app_engine.dispose()


async def test_failure_at_commit_time_is_503_and_nothing_stored(
    isolated_app: FastAPI, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies as the request's one transaction commits: 503, and the retry
    under the same key runs (no record survived) and applies once."""
    from sqlalchemy.ext.asyncio import AsyncSession

    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    url = f"/api/companies/{company}/stock-movements"
    receipt = {"reason": "receipt", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": 4}]}
    real_commit = AsyncSession.commit
    calls = {"n": 0}

    async def dying_commit(self: AsyncSession) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            await self.rollback()  # what a lost connection leaves: nothing committed
            raise ConnectionResetError("connection lost during COMMIT")
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", dying_commit)
    r = await client.post(url, json=receipt, headers={"Idempotency-Key": "commit"})
    assert_problem(r, 503)
    assert (await levels(isolated_app, company)).get((pid, wid), 0) == 0
    r = await client.post(url, json=receipt, headers={"Idempotency-Key": "commit"})
    assert r.status_code == 201, r.text
    assert "Idempotent-Replayed" not in r.headers
    assert await levels(isolated_app, company) == {(pid, wid): 4}
