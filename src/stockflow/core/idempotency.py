"""`Idempotency-Key` support for POSTs that create or move stock.

The claim is an INSERT into `idempotency_records` inside the request's own transaction:
- the first request inserts the row and goes on; `AutoCommitRoute` stores its 2xx
  response in that row just before the one commit, so the record exists exactly when
  the request's effects do (a failed request leaves nothing and may be retried);
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
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from stockflow.core.database import SessionDep
from stockflow.core.errors import Conflict, IdempotencyConflict
from stockflow.core.settings import Settings, get_settings
from stockflow.models import IdempotencyRecord

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotentReplay(Exception):
    """Raised to answer a retry with the stored first response."""

    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True)
class Claim:
    company_id: int
    key: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same method, path and JSON document (whatever its key order or spacing) → same print."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeError):
        canonical = body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), canonical])).hexdigest()


class IdempotencyGuard:
    def __init__(self, request: Request, session: SessionDep, key: str | None) -> None:
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
            self.request.state.idempotency_claim = Claim(company_id, self.key)
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
            raise Conflict("A request with this Idempotency-Key is still in progress.")
        raise IdempotentReplay(stored.status_code, stored.response_body)


async def record_response(request: Request, status_code: int, body: bytes) -> None:
    """Store a successful response for the request's claim, if it made one. An endpoint
    that answers an error without raising still commits, so its claim is dropped here:
    left behind with no response, it would answer every retry "still in progress"."""
    claim: Claim | None = getattr(request.state, "idempotency_claim", None)
    if claim is None:
        return
    where = (IdempotencyRecord.company_id == claim.company_id, IdempotencyRecord.key == claim.key)
    if 200 <= status_code < 300:
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
    session: SessionDep,
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
    return IdempotencyGuard(request, session, idempotency_key)


IdempotencyDep = Annotated[IdempotencyGuard, Depends(get_idempotency_guard)]


async def replay_response(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return Response(
        exc.body,
        status_code=exc.status_code,
        media_type="application/json",
        headers={REPLAY_HEADER: "true"},
    )
