"""The embedded PostgreSQL (the `pgserver` package) used when no database URL is set.

It lets a newcomer run and test StockFlow with nothing but Python: real PostgreSQL 16
binaries from PyPI, a data folder inside the project, and a Unix socket only (no TCP
port to collide with).
"""

import json
import os
import warnings
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

DATABASE_NAME = "stockflow"
_server: Any = None


def start(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return an asyncpg URL for its database."""
    global _server
    # platformdirs (under pgserver) warns on every start when XDG_RUNTIME_DIR is unset,
    # as in containers and CI; pgserver only uses its /tmp fallback, which is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "STOCKFLOW_DATABASE_URL is unset and the embedded PostgreSQL is not installed; "
            "install the 'embedded' extra (pip install -e '.[embedded]') or set the URL"
        ) from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    if _server is None:
        pgdata = data_dir.resolve() / "pgdata"
        _forget_dead_handles(pgdata)
        _server = pgserver.get_server(pgdata, cleanup_mode="stop")
        exists = _server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 - a constant
        )
        if "(1 row)" not in exists:
            _server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        log.info("embedded_postgres_started", data_dir=str(data_dir))
    return to_asyncpg_url(_server.get_uri(DATABASE_NAME))


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when its last user process exits, counting users in a
    pid list. A user killed with SIGKILL never leaves that list, so the server would
    outlive every later run; dropping pids that no longer exist restores the count."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
