"""Engine, sessions and the per-request unit of work."""

import re
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from stockflow.core import embedded
from stockflow.core.settings import Settings

_NAMED_BIND = re.compile(r"(?<!:):([a-z_]+)")


def to_positional(sql: str) -> tuple[str, list[str]]:
    """SQLAlchemy-style `:name` binds to asyncpg's `$n` (keeping `::casts`), and the names
    in `$n` order: for statements sent on the raw driver connection."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED_BIND.sub(number, sql), names


_DRIVER = "stockflow.driver"


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`'s transaction. The session must already
    have run a statement in this transaction (SQLAlchemy sends BEGIN with its first
    one; a request's tenant scope is one): the driver would otherwise run outside it.

    Remembered for the rest of the transaction (a sale sends five statements here):
    asking SQLAlchemy each time walks its async proxies for the same connection."""
    sync = session.sync_session
    cached = sync.info.get(_DRIVER)
    if cached is not None and cached[0] is sync.get_transaction():
        driver: asyncpg.Connection = cached[1]
    else:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        sync.info[_DRIVER] = (sync.get_transaction(), driver)
    if not driver.is_in_transaction():
        raise RuntimeError("driver_connection: the session's transaction has not begun")
    return driver


class DriverStatement:
    """A statement of the write path, written with `:name` binds like `text()`, sent on
    the session's own asyncpg connection (same transaction): that skips SQLAlchemy's
    work per execute, about as much Python as the driver's own. Rows are asyncpg
    records (`row["name"]`)."""

    def __init__(self, sql: str) -> None:
        self.text = sql  # as written, like `text()`'s (the bench's SQL baseline reads it)
        self.sql, self.names = to_positional(sql)

    async def fetch(self, session: AsyncSession, values: Mapping[str, Any]) -> list[Any]:
        driver = await driver_connection(session)
        rows: list[Any] = await driver.fetch(self.sql, *[values[name] for name in self.names])
        return rows


def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded one (started on first use)."""
    if settings.database_url:
        return embedded.to_asyncpg_url(settings.database_url)
    return embedded.start(settings.data_dir)


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _replace_closed_connection(dbapi_connection: Any, *_: Any) -> None:
    """The pool's check before handing out a connection: one the server has closed
    (`pg_terminate_backend`, a restart, PgBouncer dropping it) is replaced by a new one.
    The closed socket was already seen by the event loop, so this asks asyncpg instead of
    the server: SQLAlchemy's own `pool_pre_ping` costs three round trips per checkout
    (BEGIN, `;`, ROLLBACK), a third of a single-line sale's."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the pooled connection was closed by the server")


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    server_settings = {
        "application_name": "stockflow",
        "statement_timeout": str(settings.db_statement_timeout_ms),
    }
    if settings.db_role:
        # A startup parameter, not a session `SET ROLE`: every connection is the app
        # role from its first statement, and no RESET ALL can undo it. Row-level
        # security applies to this role (not superuser, not BYPASSRLS).
        server_settings["role"] = settings.db_role
    connect_args: dict[str, Any] = {}
    if settings.db_statement_cache_size == 0:
        # PgBouncer in transaction mode hands each transaction any server connection:
        # a cached (named) statement may not exist there, and asyncpg's default names
        # collide between clients. SQLAlchemy's documented recipe: no caches, unique names.
        connect_args = {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    else:
        connect_args = {"statement_cache_size": settings.db_statement_cache_size}
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # Reliability: a short wait for a pooled connection (an exhausted pool is a quick
        # 503, not a queue), a dead pooled connection replaced before use, and bounded
        # connect and per-call times (see docs/api-notes.md "Reliability").
        pool_timeout=settings.db_pool_timeout_seconds,
        # The report and ledger run as prepared statements; keep asyncpg's cache warm.
        connect_args={
            **connect_args,
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_command_timeout_seconds,
            "server_settings": server_settings,
        },
    )
    if settings.db_pool_pre_ping:
        # A DisconnectionError here makes the pool discard the connection and hand out
        # a new one (SQLAlchemy's documented custom pre-ping).
        event.listen(engine.sync_engine.pool, "checkout", _replace_closed_connection)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def request_session(request: Request) -> AsyncSession:
    """The request's session. `AutoCommitRoute` (core/routing.py) opens it, commits it
    before the response is sent and closes it when the endpoint is done, which rolls back
    whatever was not committed. The dependencies every request solves (auth, the
    idempotency guard) call this directly rather than depend on `SessionDep`: each
    dependency node costs FastAPI a solve per request, cached or not."""
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is None:
        raise RuntimeError("SessionDep needs a route of core.routing.AutoCommitRoute")
    return session


async def get_session(request: Request) -> AsyncSession:
    """`SessionDep`: the request's session (`request_session`). (A plain dependency, not
    a generator: FastAPI wraps each generator dependency in context managers built anew
    on every request.)"""
    return request_session(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(request: Request, session: SessionDep) -> AsyncIterator[AsyncSession]:
    """A session on the read replica (`STOCKFLOW_READ_DATABASE_URL`) for reports that may
    lag a moment; without a replica, the request's own session. A replica session is not
    the request's unit of work: the caller sets its tenant scope itself."""
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = getattr(
        request.app.state, "read_sessionmaker", None
    )
    if read_sessionmaker is None:
        yield session
        return
    async with read_sessionmaker() as read_session:
        yield read_session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
