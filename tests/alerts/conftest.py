from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from httpx import AsyncClient

from tests.alerts.world import World
from tests.factories import create_company


@pytest.fixture
async def world(client: AsyncClient) -> AsyncIterator[World]:
    company = await create_company(client, "Report Co")
    yield World(client, company["id"])


def utcnow() -> datetime:
    return datetime.now(UTC)
