"""Start-up checks: a bad setting ends in one line that names it and says what to do.

The CLI calls these before it migrates or serves; `SettingsProblem` carries the line and
`stockflow.cli` prints it (no traceback) and exits non-zero. A newcomer who mistypes a
port or a host sees what to fix instead of 30-200 lines from pydantic, asyncpg or alembic.
"""

import asyncio
import os
import socket
import tempfile
from pathlib import Path

import asyncpg
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stockflow.core.settings import Settings

EXIT_BAD_SETTING = 2
_CONNECT_TIMEOUT_SECONDS = 5.0


class SettingsProblem(Exception):
    """A setting that keeps StockFlow from starting; `str()` is the one line to print."""


def load_settings() -> Settings:
    """`Settings()` with its validation errors turned into one line per first bad field."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = f"STOCKFLOW_{field.upper()}"
        value = os.environ.get(variable, error.get("input"))
        raise SettingsProblem(
            f"{variable}={value!r} is not valid ({error['msg'].lower()}); "
            f"fix or unset {variable} (see .env.example)."
        ) from None


def check_database_url(variable: str, url: str | None) -> None:
    """Only PostgreSQL URLs, parsed the way SQLAlchemy will parse them."""
    if not url:
        return
    example = "postgresql://user:password@host:5432/stockflow"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsProblem(f"{variable} is not a database URL; set it like {example}.") from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "postgres"):
        raise SettingsProblem(
            f"{variable} points at {backend!r}, but StockFlow needs PostgreSQL; "
            f"set it like {example}."
        )
    if not parsed.database:
        raise SettingsProblem(f"{variable} names no database; set it like {example}.")


def check_data_dir(settings: Settings) -> None:
    """The data folder holds the embedded database and the generated admin token: it must
    be a folder this user can write to, whenever either of them is used."""
    if settings.database_url and settings.admin_token is not None:
        return
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise SettingsProblem(
            f"STOCKFLOW_DATA_DIR={str(path)!r} is not writable ({exc.strerror or exc}); "
            "point STOCKFLOW_DATA_DIR at a folder this user can write to."
        ) from None


def check_database_reachable(variable: str, url: str) -> None:
    """Connect once, with a short timeout, and explain the usual ways that fails."""
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        asyncio.run(_connect_once(dsn))
    except socket.gaierror:
        raise SettingsProblem(
            f"{variable}: host {parsed.host!r} is unknown; fix the host in {variable}."
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise SettingsProblem(
            f"{variable}: database {parsed.database!r} does not exist on {where}; "
            f"create it (createdb {parsed.database}) or fix the name in {variable}."
        ) from None
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        raise SettingsProblem(
            f"{variable}: {where} refused user {parsed.username!r} (wrong user or password); "
            f"fix the credentials in {variable}."
        ) from None
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise SettingsProblem(
            f"{variable}: no PostgreSQL answers at {where} ({reason}); start it, or fix "
            f"the host/port in {variable}."
        ) from None
    except asyncpg.PostgresError as exc:
        raise SettingsProblem(f"{variable}: {where} said: {exc}; fix {variable}.") from None


async def _connect_once(dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=_CONNECT_TIMEOUT_SECONDS)
    await connection.close()


def checked_settings() -> Settings:
    """Settings that passed every check that needs no running server."""
    settings = load_settings()
    check_database_url("STOCKFLOW_DATABASE_URL", settings.database_url)
    check_database_url("STOCKFLOW_READ_DATABASE_URL", settings.read_database_url)
    check_data_dir(settings)
    return settings


def admin_token_path(settings: Settings) -> Path:
    return settings.data_dir / "admin_token"
