"""Deletes events older than STOCKFLOW_EVENT_RETENTION_DAYS, a batch per transaction
(their delivery rows go with them, by the foreign key's cascade)."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.background import Job, JobContext
from stockflow.core.tenancy import scope_to_admin

_DELETE_OLD = text(
    """
    DELETE FROM events
    WHERE outbox_id IN (
        SELECT outbox_id FROM events
        WHERE occurred_at < now() - make_interval(days => :days) AND id IS NOT NULL
        ORDER BY occurred_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    """
)


async def delete_old_events(session: AsyncSession, days: int, limit: int) -> int:
    """Delete up to `limit` events older than `days`; returns how many."""
    await scope_to_admin(session)
    result = await session.execute(_DELETE_OLD, {"days": days, "limit": limit})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _run(ctx: JobContext) -> int:
    async with ctx.sessionmaker() as session, session.begin():
        return await delete_old_events(
            session, ctx.settings.event_retention_days, RETENTION_JOB.batch_size
        )


RETENTION_JOB = Job(name="events.retention", run=_run, interval_seconds=300.0, batch_size=1000)
