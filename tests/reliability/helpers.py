"""Apps with their own settings (limits, timeouts) on the suite's database."""

from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.main import create_app
from tests.conftest import ADMIN_TOKEN


def app_with(settings: Settings, **overrides: Any) -> tuple[FastAPI, AsyncEngine]:
    """A new app (and its own engine, to dispose) with `overrides` on `settings`."""
    custom = settings.model_copy(update=overrides)
    assert custom.database_url is not None
    engine = create_engine(custom.database_url, custom)
    app = create_app(custom)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.admin_token = ADMIN_TOKEN
    return app, engine


def client_of(app: FastAPI, token: str | None = ADMIN_TOKEN) -> AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test", headers=headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
