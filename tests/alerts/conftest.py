from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.alerts.world import World
from tests.factories import create_company


@pytest.fixture
async def world(client: AsyncClient, isolated_app: FastAPI) -> AsyncIterator[World]:
    company = await create_company(client, "Report Co")
    yield World(isolated_app, company["id"])


def utcnow() -> datetime:
    return datetime.now(UTC)
