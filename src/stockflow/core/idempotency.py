"""`Idempotency-Key` support for POSTs that create or move stock.

The claim is an INSERT into `idempotency_records` inside the request's own transaction:
- the first request inserts the row and goes on; `AutoCommitRoute` stores its 2xx
  response in that row just before the one commit, so the record exists exactly when
  the request's effects do (a failed request leaves nothing and may be retried);
- a business answer (a `StockflowError` with `business = True`: insufficient stock,
  duplicate SKU, a status that forbids the action) is stored too: the claim is followed
  by a SAVEPOINT, the endpoint's effects are rolled back to it, and the record of the
  409 is committed in the same transaction — the record and the (absent) effects cannot
  disagree, and a late original replays the 409 instead of applying;
- a concurrent request with the same key blocks on the primary key until the first
  commits (then it replays the stored response) or rolls back (then it proceeds itself),
  so one key never applies twice;
- the same key with another method, path or body is 409;
- an expired record is taken over as if it did not exist.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from stockflow.core.background import Job, JobContext
from stockflow.core.database import request_session
from stockflow.core.errors import (
    PROBLEM_JSON,
    IdempotencyConflict,
    IdempotencyInProgress,
)
from stockflow.core.settings import Settings, get_settings
from stockflow.core.tenancy import scope_to_admin
from stockflow.models import IdempotencyRecord

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotentReplay(Exception):
    """Raised to answer a retry with the stored first response."""

    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.body = body


@dataclass
class Claim:
    company_id: int
    key: str
    # Where the endpoint's effects start: rolled back to when it answers a business 409.
    savepoint: AsyncSessionTransaction | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same method, path and JSON document (whatever its key order or spacing) → same print."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeError):
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


class IdempotencyGuard:
    def __init__(self, request: Request, session: AsyncSession, key: str | None) -> None:
        self.request = request
        self.session = session
        self.key = key

    async def claim(self, company_id: int) -> None:
        """Call first thing in the endpoint, once the company is known. Raises
        `IdempotentReplay` or `IdempotencyConflict` for a key already used."""
        if self.key is None:
            return
        body = await self.request.body()
        # The query string is part of what was asked for, as much as the path.
        target = self.request.url.path
        if self.request.url.query:
            target += "?" + self.request.url.query
        print_ = fingerprint(self.request.method, target, body)
        # The app's own settings (tests and embedders pass them to create_app), not a
        # second read of the environment.
        settings: Settings = getattr(self.request.app.state, "settings", None) or get_settings()
        ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
        table = IdempotencyRecord.__table__
        stmt = insert(IdempotencyRecord).values(
            company_id=company_id,
            key=self.key,
            fingerprint=print_,
            expires_at=func.now() + ttl,
        )
        claim = stmt.on_conflict_do_update(
            index_elements=[table.c.company_id, table.c.key],
            set_={
                "fingerprint": stmt.excluded.fingerprint,
                "status_code": None,
                "response_body": None,
                "created_at": func.now(),
                "expires_at": stmt.excluded.expires_at,
            },
            where=table.c.expires_at <= func.now(),
        ).returning(table.c.key)
        if (await self.session.execute(claim)).first() is not None:
            savepoint = await self.session.begin_nested()
            self.request.state.idempotency_claim = Claim(company_id, self.key, savepoint)
            return
        stored = (
            await self.session.execute(
                select(
                    IdempotencyRecord.fingerprint,
                    IdempotencyRecord.status_code,
                    IdempotencyRecord.response_body,
                ).where(
                    IdempotencyRecord.company_id == company_id, IdempotencyRecord.key == self.key
                )
            )
        ).one()
        if stored.fingerprint != print_:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request."
            )
        if stored.status_code is None or stored.response_body is None:
            raise IdempotencyInProgress("A request with this Idempotency-Key is still in progress.")
        raise IdempotentReplay(stored.status_code, stored.response_body)


def has_claim(request: Request) -> bool:
    return getattr(request.state, "idempotency_claim", None) is not None


async def undo_effects(request: Request) -> None:
    """Roll the request's effects back to just after its claim (a business 409 is being
    answered, and stored in their place)."""
    claim: Claim | None = getattr(request.state, "idempotency_claim", None)
    if claim is not None and claim.savepoint is not None and claim.savepoint.is_active:
        await claim.savepoint.rollback()


async def record_response(
    request: Request, status_code: int, body: bytes, *, business: bool = False
) -> None:
    """Store a 2xx, or a business answer (`business`), for the request's claim, if it
    made one. An endpoint that answers another error without raising still commits, so
    its claim is dropped here: left behind with no response, it would answer every retry
    "still in progress"."""
    claim: Claim | None = getattr(request.state, "idempotency_claim", None)
    if claim is None:
        return
    where = (IdempotencyRecord.company_id == claim.company_id, IdempotencyRecord.key == claim.key)
    if 200 <= status_code < 300 or business:
        stmt = (
            update(IdempotencyRecord)
            .where(*where)
            .values(status_code=status_code, response_body=body)
        )
        await request.state.session.execute(stmt)
    else:
        await request.state.session.execute(delete(IdempotencyRecord).where(*where))


# async: a plain `def` dependency costs a thread-pool hop on every request.
async def get_idempotency_guard(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Retry-safe key: a retry with the same key and body gets the first "
            "response; another body under the same key is 409.",
        ),
    ] = None,
) -> IdempotencyGuard:
    return IdempotencyGuard(request, request_session(request), idempotency_key)


IdempotencyDep = Annotated[IdempotencyGuard, Depends(get_idempotency_guard)]


async def replay_response(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return Response(
        exc.body,
        status_code=exc.status_code,
        media_type=PROBLEM_JSON if exc.status_code >= 400 else "application/json",
        headers={REPLAY_HEADER: "true"},
    )


async def purge_expired(ctx: JobContext) -> int:
    """Delete one batch of expired records (a background `Job`); the batch is claimed
    with SKIP LOCKED so workers running it at once never wait on each other."""
    batch = IDEMPOTENCY_PURGE_BATCH
    async with ctx.sessionmaker() as session, session.begin():
        await scope_to_admin(session)
        doomed = (
            select(IdempotencyRecord.company_id, IdempotencyRecord.key)
            .where(IdempotencyRecord.expires_at <= func.now())
            .limit(batch)
            .with_for_update(skip_locked=True)
            .cte("doomed")
        )
        result = await session.execute(
            delete(IdempotencyRecord)
            .where(
                tuple_(IdempotencyRecord.company_id, IdempotencyRecord.key).in_(
                    select(doomed.c.company_id, doomed.c.key)
                )
            )
            .returning(IdempotencyRecord.key)
        )
        return len(result.all())


IDEMPOTENCY_PURGE_BATCH = 1000


def purge_job(settings: Settings) -> Job:
    return Job(
        name="idempotency-purge",
        run=purge_expired,
        interval_seconds=settings.idempotency_purge_interval_seconds,
        batch_size=IDEMPOTENCY_PURGE_BATCH,
    )
