"""The request is the unit of work: committed once on success, rolled back on error."""

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.models import Company


async def _count_companies(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Company)) or 0)


async def test_success_is_committed(committed_client: AsyncClient, engine: AsyncEngine) -> None:
    before = await _count_companies(engine)
    r = await committed_client.post("/api/companies", json={"name": "Durable"})
    assert r.status_code == 201
    assert await _count_companies(engine) == before + 1


async def test_error_commits_nothing(committed_client: AsyncClient, engine: AsyncEngine) -> None:
    before = await _count_companies(engine)
    r = await committed_client.post("/api/companies", json={"name": ""})
    assert r.status_code == 422
    assert await _count_companies(engine) == before
