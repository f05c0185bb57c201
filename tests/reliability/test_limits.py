"""SPEC "Limits": the body size limit, the per-credential rate limit, and the in-flight
cap per credential (docs/api-notes.md "Limits")."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.settings import Settings
from tests.factories import create_company
from tests.ledger.helpers import levels, move, product, warehouse
from tests.reliability.helpers import app_with, assert_problem, client_of


async def test_body_over_the_limit_is_413_before_auth(
    settings: Settings, committed_app: FastAPI
) -> None:
    app, engine = app_with(settings, max_body_bytes=100)
    try:
        async with client_of(app, None) as anon, client_of(app) as admin:
            # Announced by Content-Length: 413 even without credentials (before auth).
            r = await anon.post("/api/companies", content=b"x" * 101)
            body = assert_problem(r, 413)
            assert body["type"] == "urn:stockflow:problem:payload-too-large"

            # Exactly the limit is read (and then judged as JSON: 422, not 413).
            exact = b'{"name": "' + b"a" * 88 + b'"}'
            assert len(exact) == 100
            r = await admin.post(
                "/api/companies", content=exact, headers={"content-type": "application/json"}
            )
            assert r.status_code == 201, r.text

            # Streamed (chunked, no Content-Length): stopped once it passes the limit.
            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(10):
                    yield b"y" * 30

            r = await admin.post(
                "/api/companies", content=chunks(), headers={"content-type": "application/json"}
            )
            assert_problem(r, 413)
    finally:
        await engine.dispose()


async def test_rate_limit_per_credential(settings: Settings, committed_app: FastAPI) -> None:
    async with client_of(committed_app) as setup:
        company = await create_company(setup)
    url = f"/api/companies/{company['id']}/warehouses"
    # r = 0.5: a bucket of 2r = 1 token, refilled in 2 s (slow enough for a loaded CI).
    app, engine = app_with(settings, rate_limit_per_second=0.5)
    try:
        async with client_of(app) as admin, client_of(app, None) as anon:
            assert (await admin.get(url)).status_code == 200
            limited = await admin.get(url)
            assert_problem(limited, 429)
            assert 1 <= int(limited.headers["Retry-After"]) <= 2

            # Not counted: unauthenticated requests and the operations endpoints.
            assert (await anon.get(url)).status_code == 401
            assert (await admin.get("/healthz")).status_code == 200

            # Another credential has its own bucket.
            async with client_of(app, company["api_key"]) as tenant:
                assert (await tenant.get(url)).status_code == 200

            # Refill at r tokens a second; a 429 took none, so soon one is free again.
            await asyncio.sleep(2.1)
            assert (await admin.get(url)).status_code == 200
            assert (await admin.get(url)).status_code == 429
    finally:
        await engine.dispose()


async def test_rate_limit_is_off_by_default(client: AsyncClient) -> None:
    company = await create_company(client)
    url = f"/api/companies/{company['id']}/warehouses"
    statuses = {(await client.get(url)).status_code for _ in range(30)}
    assert statuses == {200}


async def test_in_flight_cap_per_credential(
    settings: Settings, committed_app: FastAPI, engine: AsyncEngine
) -> None:
    """A credential with its cap of requests in progress gets 429 at once, without a
    database connection; other credentials are served; the cap frees as requests end."""
    async with client_of(committed_app) as setup:
        company = await create_company(setup)
        cid = company["id"]
        wid = await warehouse(setup, cid)
        pid = await product(setup, cid)
        await move(setup, cid, "receipt", [(pid, wid, 5)])
    app, app_engine = app_with(settings, max_in_flight_per_credential=1)
    sale = {"reason": "sale", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": -1}]}
    url = f"/api/companies/{cid}"
    try:
        async with (
            client_of(app) as admin,
            client_of(app, company["api_key"]) as tenant,
            engine.connect() as locker,
        ):
            # Another transaction holds the level's row: the sale waits in progress.
            await locker.execute(
                text("SELECT 1 FROM inventory_levels WHERE product_id = :p FOR UPDATE"),
                {"p": pid},
            )
            slow = asyncio.create_task(tenant.post(f"{url}/stock-movements", json=sale))
            await asyncio.sleep(0.5)
            refused = await tenant.get(f"{url}/warehouses")
            assert_problem(refused, 429)
            assert refused.headers["Retry-After"] == "1"
            assert (await admin.get(f"{url}/warehouses")).status_code == 200
            await locker.rollback()
            assert (await slow).status_code == 201
            assert (await tenant.get(f"{url}/warehouses")).status_code == 200
    finally:
        await app_engine.dispose()
    assert await levels(committed_app, cid) == {(pid, wid): 4}
