"""API keys: create, list, revoke; revocation reaches every worker within a second."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.api_keys.revocation import RevocationListener, start_revocation_listener
from stockflow.api_keys.service import flush_key_usage
from stockflow.core.auth import key_cache
from stockflow.core.background import JobContext
from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.main import create_app
from tests.conftest import ADMIN_TOKEN
from tests.factories import create_company


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_first_key_is_listed_and_new_keys_work(client: AsyncClient) -> None:
    company = await create_company(client)
    cid = company["id"]
    first_id = int(company["api_key"].split("_")[1])

    r = await client.post(f"/api/companies/{cid}/api-keys", json={"name": " scanners "})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "scanners"
    assert created["api_key"].startswith(f"sf_{created['id']}_")

    # A key of the company may create keys too; the body is optional.
    r = await client.post(f"/api/companies/{cid}/api-keys", headers=_bearer(created["api_key"]))
    assert r.status_code == 201, r.text
    third = r.json()
    assert third["name"] is None

    listed = await client.get(f"/api/companies/{cid}/api-keys", params={"limit": 2})
    assert listed.status_code == 200
    page = listed.json()
    assert [k["id"] for k in page["items"]] == [first_id, created["id"]]
    assert page["next_cursor"] is not None
    for item in page["items"]:
        assert set(item) == {"id", "name", "created_at", "last_used_at", "revoked_at"}
        assert item["revoked_at"] is None
    rest = await client.get(
        f"/api/companies/{cid}/api-keys", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [k["id"] for k in rest.json()["items"]] == [third["id"]]
    assert "api_key" not in rest.text and "secret" not in rest.text


async def test_revoked_key_is_401_at_once_and_revoking_again_is_204(
    client: AsyncClient,
) -> None:
    company = await create_company(client)
    cid = company["id"]
    key = (await client.post(f"/api/companies/{cid}/api-keys", json={})).json()
    as_key = _bearer(key["api_key"])
    assert (await client.get(f"/api/companies/{cid}", headers=as_key)).status_code == 200

    # A key may revoke itself; the very next request with it is refused.
    r = await client.delete(f"/api/companies/{cid}/api-keys/{key['id']}", headers=as_key)
    assert r.status_code == 204
    r = await client.get(f"/api/companies/{cid}", headers=as_key)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"

    assert (await client.delete(f"/api/companies/{cid}/api-keys/{key['id']}")).status_code == 204
    listed = (await client.get(f"/api/companies/{cid}/api-keys")).json()["items"]
    revoked = next(k for k in listed if k["id"] == key["id"])
    assert revoked["revoked_at"] is not None
    # The company's other key still works.
    assert (
        await client.get(f"/api/companies/{cid}", headers=_bearer(company["api_key"]))
    ).status_code == 200


async def test_keys_of_another_company_are_404(client: AsyncClient) -> None:
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    other_key_id = int(other["api_key"].split("_")[1])
    as_mine = _bearer(mine["api_key"])
    r = await client.delete(f"/api/companies/{mine['id']}/api-keys/{other_key_id}", headers=as_mine)
    assert r.status_code == 404
    r = await client.get(f"/api/companies/{other['id']}/api-keys", headers=as_mine)
    assert r.status_code == 404
    r = await client.post(f"/api/companies/{other['id']}/api-keys", headers=as_mine)
    assert r.status_code == 404
    # The other company's key is untouched.
    r = await client.get(f"/api/companies/{other['id']}", headers=_bearer(other["api_key"]))
    assert r.status_code == 200


async def test_name_is_validated(client: AsyncClient) -> None:
    cid = (await create_company(client))["id"]
    r = await client.post(f"/api/companies/{cid}/api-keys", json={"name": "x" * 256})
    assert r.status_code == 422


@pytest.fixture
async def second_worker(settings: Settings, database_url: str) -> AsyncIterator[FastAPI]:
    """Another worker process's app: its own engine, pool, key cache and listener."""
    engine = create_engine(database_url, settings)
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.admin_token = ADMIN_TOKEN
    listener = start_revocation_listener(app, engine)
    try:
        yield app
    finally:
        await listener.stop()
        await engine.dispose()


async def _until_trusted(app: FastAPI) -> None:
    for _ in range(100):
        if key_cache(app).trusted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the revocation listener did not connect")


async def _first_401_within(client: AsyncClient, path: str, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if (await client.get(path)).status_code == 401:
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    raise AssertionError(f"still accepted after {seconds} s")


async def test_revocation_reaches_another_worker_within_a_second(
    committed_app: FastAPI, second_worker: FastAPI, app_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    listener = start_revocation_listener(committed_app, app_engine)
    try:
        await _until_trusted(committed_app)
        await _until_trusted(second_worker)
        transport_a = ASGITransport(app=committed_app)
        async with AsyncClient(
            transport=transport_a, base_url="http://a", headers=_bearer(ADMIN_TOKEN)
        ) as admin_a:
            company = await create_company(admin_a)
            cid = company["id"]
            keys = [(await admin_a.post(f"/api/companies/{cid}/api-keys")).json() for _ in range(2)]
            path = f"/api/companies/{cid}"
            async with (
                AsyncClient(
                    transport=ASGITransport(app=second_worker),
                    base_url="http://b",
                    headers=_bearer(keys[0]["api_key"]),
                ) as b_key0,
                AsyncClient(
                    transport=ASGITransport(app=second_worker),
                    base_url="http://b",
                    headers=_bearer(keys[1]["api_key"]),
                ) as b_key1,
            ):
                # Worker B has both keys cached now.
                assert (await b_key0.get(path)).status_code == 200
                assert (await b_key1.get(path)).status_code == 200
                assert key_cache(second_worker).get(keys[0]["id"]) is not None

                # Revoked through worker A's API ...
                r = await admin_a.delete(f"/api/companies/{cid}/api-keys/{keys[0]['id']}")
                assert r.status_code == 204
                assert await _first_401_within(b_key0, path, 1.0) < 1.0

                # ... or in SQL by an operator: the trigger announces it all the same.
                async with engine.begin() as conn:
                    await conn.execute(
                        text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"),
                        {"id": keys[1]["id"]},
                    )
                assert await _first_401_within(b_key1, path, 1.0) < 1.0
    finally:
        await listener.stop()


async def test_without_its_listener_a_worker_reads_keys_from_the_database(
    committed_app: FastAPI, app_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    listener = RevocationListener(app_engine, key_cache(committed_app))
    listener.start()
    await _until_trusted(committed_app)
    async with AsyncClient(
        transport=ASGITransport(app=committed_app),
        base_url="http://a",
        headers=_bearer(ADMIN_TOKEN),
    ) as admin:
        company = await create_company(admin)
        path = f"/api/companies/{company['id']}"
        as_key = _bearer(company["api_key"])
        assert (await admin.get(path, headers=as_key)).status_code == 200  # now cached
        await listener.stop()  # e.g. its connection was cut
        assert not key_cache(committed_app).trusted
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE api_keys SET revoked_at = now()"))
        assert (await admin.get(path, headers=as_key)).status_code == 401


async def test_last_used_at_is_written_in_batches(
    committed_client: AsyncClient, committed_app: FastAPI, settings: Settings
) -> None:
    company = await create_company(committed_client)
    cid = company["id"]
    r = await committed_client.get(f"/api/companies/{cid}", headers=_bearer(company["api_key"]))
    assert r.status_code == 200
    listed = (await committed_client.get(f"/api/companies/{cid}/api-keys")).json()["items"]
    assert listed[0]["last_used_at"] is None  # no write on the request itself

    engine = committed_app.state.engine
    ctx = JobContext(engine, create_sessionmaker(engine), settings)
    assert await flush_key_usage(ctx) >= 1
    listed = (await committed_client.get(f"/api/companies/{cid}/api-keys")).json()["items"]
    assert listed[0]["last_used_at"] is not None
