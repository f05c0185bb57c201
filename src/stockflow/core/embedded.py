"""The embedded PostgreSQL (the `pgserver` package) used when no database URL is set.

It lets a newcomer run and test StockFlow with nothing but Python: real PostgreSQL 16
binaries from PyPI, a data folder inside the project, and a Unix socket only (no TCP
port to collide with).
"""

from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

DATABASE_NAME = "stockflow"
_server: Any = None


def start(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return an asyncpg URL for its database."""
    global _server
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "STOCKFLOW_DATABASE_URL is unset and the embedded PostgreSQL is not installed; "
            "install the 'embedded' extra (pip install -e '.[embedded]') or set the URL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    if _server is None:
        _server = pgserver.get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
        exists = _server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 - a constant
        )
        if "(1 row)" not in exists:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        log.info("embedded_postgres_started", data_dir=str(data_dir))
    return to_asyncpg_url(_server.get_uri(DATABASE_NAME))


def stop() -> None:
    """Stop the embedded server if this process started it (idempotent)."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None
        log.info("embedded_postgres_stopped")


def to_asyncpg_url(url: str) -> str:
    """Turn a libpq-style `postgresql://` URL into SQLAlchemy's asyncpg dialect URL."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix).replace(
                "postgres:@", "postgres@", 1
            )
    raise ValueError(f"not a PostgreSQL URL: {url!r}")
