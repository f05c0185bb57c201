"""The background job that deletes expired idempotency records, in batches."""

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core import idempotency
from stockflow.core.background import JobContext
from stockflow.core.settings import Settings
from stockflow.main import BACKGROUND_JOBS
from tests.factories import create_company
from tests.reliability.helpers import client_of


async def test_purge_deletes_only_expired_records_in_batches(
    committed_app: FastAPI, settings: Settings, engine: AsyncEngine
) -> None:
    assert any(job.name == "idempotency-purge" for job in BACKGROUND_JOBS)
    async with client_of(committed_app) as admin:
        company = (await create_company(admin))["id"]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_records (company_id, key, fingerprint, expires_at) "
                "SELECT CAST(:c AS bigint), 'old-' || g, 'x', now() - interval '1 hour' "
                "FROM generate_series(1, 5) g "
                "UNION ALL SELECT CAST(:c AS bigint), 'live-' || g, 'x', now() + interval '1 hour' "
                "FROM generate_series(1, 3) g"
            ),
            {"c": company},
        )
    # the job runs on the app's role, under row-level security, as in `make run`
    ctx = JobContext(committed_app.state.engine, committed_app.state.sessionmaker, settings)
    original = idempotency.IDEMPOTENCY_PURGE_BATCH
    idempotency.IDEMPOTENCY_PURGE_BATCH = 2
    try:
        assert [await idempotency.purge_expired(ctx) for _ in range(4)] == [2, 2, 1, 0]
    finally:
        idempotency.IDEMPOTENCY_PURGE_BATCH = original
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT key FROM idempotency_records ORDER BY key"))).all()
    assert [k for (k,) in left] == ["live-1", "live-2", "live-3"]
