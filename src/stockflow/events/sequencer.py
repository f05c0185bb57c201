"""The sequencer: gives committed events their public, feed-ordered ids, and fans each
one out to the matching webhook subscriptions, in one transaction per batch.

Why the feed can never skip an event (the guarantee of SPEC "Events"): ids drawn from a
sequence at insert time are drawn in one order and committed in another, so a reader
that has handed out id 7 could later see id 5 commit. Here the public id is not drawn by
the writer at all. Only this job draws public ids, and only for rows that are already
committed (it cannot see any other). Its runs are serialised by a transaction-level
advisory lock, so run R commits before run R+1 even starts to read, and every id R+1
draws is larger than every id R drew. A batch's ids become visible together, at R's
commit. So any snapshot that sees an id sees every smaller id that will ever exist
(except the gaps of rolled-back runs, which stay empty), and `id > next_after` can
never miss one. An event appears at the next run after its commit (every 0.25 s).
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.background import Job, JobContext
from stockflow.core.tenancy import scope_to_admin

# An arbitrary constant key: one sequencer at a time across all workers.
SEQUENCER_LOCK_KEY = 7_301_950_114

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")

_SEQUENCE = text(
    """
    WITH queued AS (
        SELECT outbox_id FROM events
        WHERE id IS NULL
        ORDER BY outbox_id
        LIMIT :limit
    ), numbered AS (
        SELECT outbox_id, nextval('events_public_id_seq') AS id
        FROM (SELECT outbox_id FROM queued ORDER BY outbox_id) AS q
    ), sequenced AS (
        UPDATE events AS e SET id = n.id
        FROM numbered AS n
        WHERE e.outbox_id = n.outbox_id
        RETURNING e.outbox_id, e.id, e.company_id, e.type
    ), fanned_out AS (
        INSERT INTO webhook_deliveries (company_id, webhook_id, event_outbox_id, event_id)
        SELECT s.company_id, w.id, s.outbox_id, s.id
        FROM sequenced AS s
        JOIN webhooks AS w
          ON w.company_id = s.company_id AND w.is_active
         AND (s.type = ANY(w.event_types) OR '*' = ANY(w.event_types))
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM sequenced) AS events,
           (SELECT count(*) FROM fanned_out) AS deliveries
    """
)


async def sequence_events(session: AsyncSession, limit: int = 1000) -> int:
    """Number up to `limit` committed events and create their deliveries, in the
    session's transaction (the caller commits); 0 when another worker holds the lock."""
    await scope_to_admin(session)
    if not await session.scalar(_TRY_LOCK, {"key": SEQUENCER_LOCK_KEY}):
        return 0
    row = (await session.execute(_SEQUENCE, {"limit": limit})).one()
    return int(row.events)


async def _run(ctx: JobContext) -> int:
    async with ctx.sessionmaker() as session, session.begin():
        return await sequence_events(session, SEQUENCER_JOB.batch_size)


# Every 0.25 s: an event's way to a webhook is this wait plus the delivery's, which the
# sequencer shortens by waking the delivery job of its worker when it queued deliveries.
SEQUENCER_JOB = Job(
    name="events.sequence",
    run=_run,
    interval_seconds=0.25,
    batch_size=1000,
    wakes="webhooks.deliver",
)
