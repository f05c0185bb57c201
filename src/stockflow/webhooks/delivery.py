"""The delivery worker: a background job in every worker process.

claim → do → record. A claim is a lease: due pending deliveries are picked with
`FOR UPDATE SKIP LOCKED` (two workers never pick one row), stamped with a token and
`lease_until`, and their attempt counted, all in one committed transaction. Only then is
the url called (outside any transaction), and the outcome recorded only if the row still
carries this claim's token. An attempt is bounded (address check + 10 s request) well
inside the lease, so a row is never attempted twice at once; a worker that dies leaves
a lease that expires, and the next claim retries the row (the attempt counts: at least
once).
"""

import asyncio
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockflow.core import metrics
from stockflow.core.background import Job, JobContext
from stockflow.core.settings import Settings
from stockflow.core.tenancy import scope_to_admin
from stockflow.events.schemas import EventRead
from stockflow.webhooks.addresses import UnsafeAddress, check_public

REQUEST_TIMEOUT_SECONDS = 10.0
# Longer than the slowest attempt (resolve 5 s + request 10 s, bounded below) by a margin.
LEASE_SECONDS = 60.0
ATTEMPT_DEADLINE_SECONDS = 20.0

_CLAIM = text(
    """
    WITH due AS (
        SELECT d.id FROM webhook_deliveries AS d
        JOIN webhooks AS w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND d.attempts < :max_attempts AND w.is_active
        ORDER BY d.next_attempt_at, d.id
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    ), claimed AS (
        UPDATE webhook_deliveries AS d
        SET lease_token = :token, lease_until = now() + make_interval(secs => :lease),
            attempts = d.attempts + 1
        FROM due
        WHERE d.id = due.id
        RETURNING d.id, d.attempts, d.webhook_id, d.event_outbox_id
    )
    SELECT c.id, c.attempts, w.url, w.secret,
           e.id AS event_id, e.type, e.company_id, e.occurred_at, e.data
    FROM claimed AS c
    JOIN webhooks AS w ON w.id = c.webhook_id
    JOIN events AS e ON e.outbox_id = c.event_outbox_id
    ORDER BY e.id
    """
)

# A claim whose worker died on its last allowed attempt (or a delivery left pending when
# the maximum was lowered): nothing retries it any more.
_GIVE_UP = text(
    """
    UPDATE webhook_deliveries
    SET status = 'failed', next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
        last_error = coalesce(last_error, 'the worker stopped during the last attempt')
    WHERE status = 'pending' AND attempts >= :max_attempts
      AND (lease_until IS NULL OR lease_until < now())
    """
)

_RECORD = text(
    """
    UPDATE webhook_deliveries AS d
    SET status = CASE
            WHEN t.ok THEN 'delivered'
            WHEN d.attempts >= :max_attempts THEN 'failed'
            ELSE 'pending' END,
        delivered_at = CASE WHEN t.ok THEN now() END,
        next_attempt_at = CASE
            WHEN t.ok OR d.attempts >= :max_attempts THEN NULL
            ELSE now() + make_interval(secs => :base * power(2, d.attempts - 1)) END,
        last_status_code = t.code,
        last_error = t.error,
        lease_token = NULL, lease_until = NULL
    FROM unnest(
        CAST(:ids AS bigint[]), CAST(:oks AS boolean[]), CAST(:codes AS int[]),
        CAST(:errors AS text[])
    ) AS t(id, ok, code, error)
    WHERE d.id = t.id AND d.lease_token = :token
    """
)


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    ok: bool
    status_code: int | None
    error: str | None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `StockFlow-Signature` value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _body(row: Any) -> bytes:
    event = EventRead(
        id=row.event_id,
        type=row.type,
        company_id=row.company_id,
        occurred_at=row.occurred_at,
        data=row.data,
    )
    return event.model_dump_json().encode()


async def _attempt(client: httpx.AsyncClient, row: Any, allow_private: bool) -> Outcome:
    if not allow_private:
        try:
            await check_public(row.url)
        except UnsafeAddress as exc:
            return Outcome(row.id, False, None, f"refused: {exc}")
    body = _body(row)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "StockFlow-Webhooks/1",
        "StockFlow-Event-Id": str(row.event_id),
        "StockFlow-Event-Type": row.type,
        "StockFlow-Signature": sign(row.secret, int(time.time()), body),
    }
    try:
        response = await client.post(row.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return Outcome(row.id, False, None, f"no answer within {REQUEST_TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as exc:
        return Outcome(row.id, False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(row.id, True, response.status_code, None)
    return Outcome(row.id, False, response.status_code, f"HTTP {response.status_code}")


async def _bounded(client: httpx.AsyncClient, row: Any, allow_private: bool) -> Outcome:
    # The lease must outlive the attempt: whatever hangs, the attempt ends before it.
    try:
        return await asyncio.wait_for(
            _attempt(client, row, allow_private), ATTEMPT_DEADLINE_SECONDS
        )
    except TimeoutError:
        return Outcome(row.id, False, None, "attempt did not finish in time")


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 100
) -> int:
    """Claim up to `limit` due deliveries, attempt them concurrently, record the outcomes;
    returns how many were attempted."""
    token = uuid.uuid4().hex
    async with sessionmaker() as session, session.begin():
        await scope_to_admin(session)
        await session.execute(_GIVE_UP, {"max_attempts": settings.webhook_max_attempts})
        rows = list(
            await session.execute(
                _CLAIM,
                {
                    "max_attempts": settings.webhook_max_attempts,
                    "limit": limit,
                    "token": token,
                    "lease": LEASE_SECONDS,
                },
            )
        )
    if not rows:
        return 0
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        outcomes = await asyncio.gather(
            *(_bounded(client, row, settings.webhook_allow_private) for row in rows)
        )
    finished = datetime.now(UTC)
    for row, outcome in zip(rows, outcomes, strict=True):
        metrics.record_delivery(outcome.ok, (finished - row.occurred_at).total_seconds())
    async with sessionmaker() as session, session.begin():
        await scope_to_admin(session)
        await session.execute(
            _RECORD,
            {
                "token": token,
                "max_attempts": settings.webhook_max_attempts,
                "base": settings.webhook_retry_base_seconds,
                "ids": [o.delivery_id for o in outcomes],
                "oks": [o.ok for o in outcomes],
                "codes": [o.status_code for o in outcomes],
                "errors": [o.error for o in outcomes],
            },
        )
    return len(rows)


async def _run(ctx: JobContext) -> int:
    return await deliver_due(ctx.sessionmaker, ctx.settings, DELIVERY_JOB.batch_size)


DELIVERY_JOB = Job(name="webhooks.deliver", run=_run, interval_seconds=0.5, batch_size=100)
