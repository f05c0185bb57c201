"""What keeps the API answering when the database does not, and the limits on clients.

- Database failures (refused or lost connections, pool and statement timeouts, a server
  shutting down) are 503 problem+json with `Retry-After`, logged as one line without a
  traceback; no exception reaches uvicorn (`LastResortMiddleware`).
- `BodyLimitMiddleware`: 413 for a body over `max_body_bytes`, before auth and parsing.
- `RateLimitMiddleware`: a token bucket per credential, shared by every worker through
  one UPSERT on an UNLOGGED table (see `rate_limit_buckets`), off unless configured.
- `InFlightLimitMiddleware`: at most N requests of one credential at a time per worker,
  checked in memory before anything takes a database connection, off unless configured.
"""

import asyncio
import hashlib
import math

import asyncpg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockflow.core.errors import problem
from stockflow.core.settings import Settings

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 1

# SQLSTATE classes that mean "the database cannot answer now", not "your request is wrong":
# 08 connection exception, 53 insufficient resources (too many connections), 57 operator
# intervention (statement timeout 57014, pg_terminate_backend 57P01, starting up 57P03),
# 58 system error, HV/XX internal; 55P03 lock_not_available (lock_timeout).
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58", "XX")
_UNAVAILABLE_STATES = ("55P03",)


def is_database_failure(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database is unreachable or too slow."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            OSError  # ConnectionRefusedError, socket errors, TimeoutError (command_timeout)
            | sqlalchemy.exc.TimeoutError  # the pool had no connection to give in time
            | asyncpg.InterfaceError  # ConnectionDoesNotExistError: the connection died
            | asyncpg.exceptions.InternalClientError,
        ):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(sqlstate, str) and (
            sqlstate[:2] in _UNAVAILABLE_CLASSES or sqlstate in _UNAVAILABLE_STATES
        ):
            return True
        if isinstance(current, sqlalchemy.exc.InterfaceError | sqlalchemy.exc.OperationalError):
            return True
        nxt = getattr(current, "orig", None)
        current = nxt if isinstance(nxt, BaseException) else (current.__cause__)
    return False


def database_unavailable(error: BaseException, *, sqlstate: str | None = None) -> JSONResponse:
    """The 503 every database failure gets, with one log line (no traceback flood)."""
    root: BaseException = getattr(error, "orig", None) or error
    log.warning(
        "database_unavailable",
        error=type(root).__name__,
        sqlstate=sqlstate or getattr(root, "sqlstate", None),
        detail=str(root)[:200],
    )
    response = problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "The database could not complete the request in time; retry later.",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _failure_handler(_: Request, exc: Exception) -> JSONResponse:
    if is_database_failure(exc):
        return database_unavailable(exc)
    log.error("unhandled_error", error=type(exc).__name__, detail=str(exc)[:200])
    return problem(500, "internal-error", "Internal error", "An unexpected error occurred.")


def _json_response_messages(response: JSONResponse) -> tuple[Message, Message]:
    return (
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        },
        {"type": "http.response.body", "body": bytes(response.body)},
    )


class LastResortMiddleware:
    """Turns any exception that got past the handlers (one raised while the session is
    closed, say) into a problem response instead of letting it reach uvicorn, which would
    log a traceback per request and, under Starlette, re-raise after its own 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if is_database_failure(exc):
                response = database_unavailable(exc)
            else:
                log.exception("unhandled_error", error=repr(exc))  # a bug: keep its traceback
                response = problem(
                    500, "internal-error", "Internal error", "An unexpected error occurred."
                )
            if started:
                return  # too late to answer; the server closes the connection
            for message in _json_response_messages(response):
                await send(message)


def _too_large(limit: int) -> JSONResponse:
    return problem(
        413,
        "payload-too-large",
        "Payload too large",
        f"The request body is larger than {limit} bytes.",
    )


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes, announced by Content-Length or streamed, before
    authentication and parsing; a body of exactly `limit` bytes is read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.limit:
                    await self._reject(send)
                    return
        received = 0
        started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Answer now, and tell the app the client is gone: whatever it does
                    # next (an error while reading the body) is not sent.
                    rejected = True
                    if not started:
                        await self._reject(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise

    async def _reject(self, send: Send) -> None:
        for message in _json_response_messages(_too_large(self.limit)):
            await send(message)


# --- rate limiting -------------------------------------------------------------------

_UNCOUNTED_PATHS = ("/healthz", "/readyz", "/metrics")

# One statement takes a token or says how long until one is free. The bucket's level is
# computed in SQL from the statement's clock, so every worker (and every server on the
# same database) shares it; the row lock serialises one credential's concurrent requests
# only for this statement (autocommit). A refused request leaves the row as it was: a 429
# takes no token. `taken` is true when the row was (re)stamped with this statement's time.
_LEVEL = (
    "least(CAST(:burst AS float8), b.tokens + CAST(:rate AS float8)"
    " * CAST(extract(epoch FROM statement_timestamp() - b.updated_at) AS float8))"
)
_TAKE_TOKEN = text(
    """
    INSERT INTO rate_limit_buckets AS b (credential, tokens, updated_at)
    VALUES (:credential, CAST(:burst AS float8) - 1, statement_timestamp())
    ON CONFLICT (credential) DO UPDATE SET
        tokens = CASE WHEN {level} >= 1 THEN {level} - 1 ELSE b.tokens END,
        updated_at = CASE WHEN {level} >= 1 THEN statement_timestamp() ELSE b.updated_at END
    RETURNING b.updated_at = statement_timestamp() AS taken, {level} AS level
    """.replace("{level}", _LEVEL)
)


def _bearer(scope: Scope) -> bytes | None:
    """The request's bearer token, if it sends one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value.lower().startswith(b"bearer "):
                return bytes(value[7:].strip())
            return None
    return None


async def _too_many(send: Send, detail: str, retry_after: int) -> None:
    response = problem(429, "too-many-requests", "Too many requests", detail)
    response.headers["Retry-After"] = str(max(1, retry_after))
    for message in _json_response_messages(response):
        await send(message)


class InFlightLimitMiddleware:
    """429 at once for a credential that already has `limit` requests in flight in this
    worker. A rate limit counts requests, not their weight: a tenant within its rate can
    still hold every pooled connection with heavy requests (1,000-line receipts waiting on
    each other's row locks) while other tenants' requests, and the rate limiter's own
    bucket statement, queue for the pool. This check needs no connection, so it answers
    while the pool is busy. Keyed by the token's SHA-256; nothing is kept for idle ones."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight: dict[bytes, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer(scope) if scope["type"] == "http" else None
        if token is None or scope["path"] in _UNCOUNTED_PATHS:
            await self.app(scope, receive, send)
            return
        key = hashlib.sha256(token).digest()
        count = self.in_flight.get(key, 0)
        if count >= self.limit:
            await _too_many(
                send,
                f"This credential already has {self.limit} requests in progress; retry later.",
                RETRY_AFTER_SECONDS,
            )
            return
        self.in_flight[key] = count + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.in_flight[key] - 1
            if left:
                self.in_flight[key] = left
            else:
                del self.in_flight[key]


class RateLimitMiddleware:
    """429 with `Retry-After` once a credential has used its tokens (SPEC "Limits")."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI, rate: float) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.rate = rate
        self.burst = 2 * rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNCOUNTED_PATHS:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            await self.app(scope, receive, send)
            return
        wait = await self._take(token)
        if wait is None:
            await self.app(scope, receive, send)
            return
        await _too_many(
            send,
            "This credential's request rate is over the limit; retry later.",
            math.ceil(wait),
        )

    async def _take(self, token: bytes) -> float | None:
        """None when a token was taken, else the seconds until one is free. Only tokens
        are counted, not their validity: an invalid token is rejected by auth anyway, and
        its bucket is keyed by a hash so no secret is stored."""
        digest = hashlib.sha256(token).digest()
        engine = self.fastapi_app.state.engine
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    _TAKE_TOKEN,
                    {"credential": digest, "burst": self.burst, "rate": self.rate},
                )
            ).one()
            await conn.commit()
        # (a database failure here propagates: the request is 503 like any other)
        taken, level = row
        if taken:
            return None
        return (1 - float(level)) / self.rate


def install_reliability(app: FastAPI, settings: Settings) -> None:
    """Handlers for database failures, and the limits' middlewares (outermost last)."""
    for exc_class in (
        OSError,
        sqlalchemy.exc.TimeoutError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.InternalClientError,
    ):
        app.add_exception_handler(exc_class, _failure_handler)
    if settings.rate_limit_per_second > 0:
        app.add_middleware(
            RateLimitMiddleware, fastapi_app=app, rate=settings.rate_limit_per_second
        )
    if settings.max_in_flight_per_credential > 0:
        # Outside the rate limit: a refused request takes no token and no connection.
        app.add_middleware(InFlightLimitMiddleware, limit=settings.max_in_flight_per_credential)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(LastResortMiddleware)


async def readiness_probe(app: FastAPI, within: float) -> str | None:
    """None when the database answers `SELECT 1` within `within` seconds, else why not."""

    async def ping() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), within)
    except TimeoutError:
        return "the database did not answer in time"
    except Exception as exc:
        return f"Database unreachable: {type(exc).__name__}"
    return None
