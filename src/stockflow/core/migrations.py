"""Run Alembic programmatically (the CLI's `serve`/`migrate` and the test suite).

The migrations travel inside the wheel (`stockflow/_migrations`, copied from the
repository's top-level `alembic/` at build time), so `stockflow serve` works wherever the
package is installed, with no `alembic.ini` in the working directory. From a checkout
(editable install) the repository's `alembic/` is used directly.
"""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

import stockflow

_PACKAGED = Path(stockflow.__file__).resolve().parent / "_migrations"
_REPO = Path(__file__).resolve().parents[3] / "alembic"

# pg_advisory_xact_lock key: replicas that start together migrate one after the other
# (the second finds the schema at head and does nothing). Any constant unique to StockFlow.
MIGRATION_LOCK_KEY = 0x5F0C_F10A


def migrations_dir() -> Path:
    for candidate in (_PACKAGED, _REPO):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no migrations in {_PACKAGED} or {_REPO}; reinstall stockflow")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(url: str) -> None:
    asyncio.run(_upgrade_locked(url))


async def _upgrade_locked(url: str) -> None:
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            # A transaction-scoped lock: released by the commit that ends the migration,
            # and safe behind PgBouncer's transaction pooling (a session lock is not).
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            await connection.run_sync(_upgrade, url)
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
