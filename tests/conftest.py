"""Test fixtures: a real PostgreSQL, migrated with Alembic, and the app over ASGI.

The server is the embedded one (pgserver) unless `STOCKFLOW_TEST_DATABASE_URL` names
another; either way the suite creates its own throwaway database on it. Each test runs
inside a transaction that is rolled back at the end (the app's own commits and rollbacks
become savepoints), so tests never see each other's data. Concurrency tests use
`committed_app` instead: real, separate connections, tables truncated afterwards.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from stockflow.core import embedded
from stockflow.core.auth import reset_auth_caches
from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from stockflow.main import create_app
from stockflow.models import Base

ADMIN_TOKEN = "test-admin-token"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _server_url() -> str:
    url = os.environ.get("STOCKFLOW_TEST_DATABASE_URL")
    if url:
        return embedded.to_asyncpg_url(url)
    # STOCKFLOW_DATA_DIR (as the app reads it) moves the embedded server's files too.
    data_dir = os.environ.get("STOCKFLOW_DATA_DIR") or REPO_ROOT / ".stockflow"
    return embedded.start(Path(data_dir) / "test")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    server = make_url(_server_url())
    name = f"stockflow_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server.render_as_string(hide_password=False)))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="session")
async def engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The database's owner (the URL's user), not bound by row-level security: for
    tests that inspect or prepare state directly, and for emptying tables."""
    engine = create_engine(database_url, settings.model_copy(update={"db_role": ""}))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app_engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The app's engine: the role that row-level security applies to, as in production."""
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, app_engine: AsyncEngine) -> FastAPI:
    app = create_app(settings)
    app.state.engine = app_engine
    app.state.admin_token = ADMIN_TOKEN
    return app


@pytest.fixture
async def isolated_app(app: FastAPI, app_engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The app with every session joined to one outer transaction, rolled back after."""
    async with app_engine.connect() as conn:
        outer = await conn.begin()
        app.state.sessionmaker = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield app
        finally:
            await outer.rollback()


@pytest.fixture
async def committed_app(
    app: FastAPI, app_engine: AsyncEngine, engine: AsyncEngine
) -> AsyncIterator[FastAPI]:
    """The app on the real pool: every request its own connection and transaction."""
    app.state.sessionmaker = create_sessionmaker(app_engine)
    try:
        yield app
    finally:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        reset_auth_caches(app)  # ids restart: cached keys and companies would be stale


def _client(app: FastAPI, token: str | None = ADMIN_TOKEN) -> AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test", headers=headers)


@pytest.fixture
async def client(isolated_app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An admin client on the rolled-back app."""
    async with _client(isolated_app) as c:
        yield c


@pytest.fixture
async def anon(isolated_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with _client(isolated_app, None) as c:
        yield c


@pytest.fixture
def client_for(isolated_app: FastAPI):  # type: ignore[no-untyped-def]
    """`client_for(token)`: a client of the rolled-back app with another bearer token."""
    clients: list[AsyncClient] = []

    def make(token: str | None) -> AsyncClient:
        c = _client(isolated_app, token)
        clients.append(c)
        return c

    yield make


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with _client(committed_app) as c:
        yield c
