"""The bench's PostgreSQL: STOCKFLOW_DATABASE_URL's server, else the embedded one in
.stockflow/bench. Each dataset gets a fresh database, migrated with Alembic."""

import asyncio
import os
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from stockflow.core import embedded
from stockflow.core.migrations import upgrade_to_head

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / ".stockflow" / "bench"


def server_url() -> str:
    """An asyncpg SQLAlchemy URL of the server (its default database)."""
    url = os.environ.get("STOCKFLOW_DATABASE_URL")
    if url:
        return embedded.to_asyncpg_url(url)
    return embedded.start(DATA_DIR)


def dsn(url: str) -> str:
    """libpq/asyncpg form of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def fresh_database(url: str, name: str) -> str:
    """Drop and recreate `name`, migrate it to head; returns its SQLAlchemy URL."""
    admin = await asyncpg.connect(dsn(url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db_url = with_database(url, name)
    await asyncio.to_thread(upgrade_to_head, db_url)
    return db_url


async def drop_database(url: str, name: str) -> None:
    admin = await asyncpg.connect(dsn(url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class DeferredIndexes:
    """Drop a table's secondary indexes, foreign keys and checks before a bulk load and
    recreate exactly the same definitions afterwards: building an index once over sorted
    data is much faster than maintaining it row by row, and a foreign key is then checked
    with one join instead of one lookup per row."""

    def __init__(self, conn: asyncpg.Connection, tables: list[str]) -> None:
        self.conn = conn
        self.tables = tables
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []

    async def drop(self) -> None:
        for table in self.tables:
            rows = await self.conn.fetch(
                """
                SELECT c.conname, pg_get_constraintdef(c.oid) AS def
                FROM pg_constraint AS c
                WHERE c.conrelid = $1::regclass AND c.contype IN ('f', 'c')
                """,
                table,
            )
            for row in rows:
                self.constraints.append((table, row["conname"], row["def"]))
                await self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{row["conname"]}"')
            rows = await self.conn.fetch(
                """
                SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
                FROM pg_index AS i
                WHERE i.indrelid = $1::regclass AND NOT i.indisprimary
                """,
                table,
            )
            for row in rows:
                self.indexes.append(row["def"])
                await self.conn.execute(f"DROP INDEX {row['name']}")

    async def restore(self) -> None:
        for definition in self.indexes:
            await self.conn.execute(definition)
        for table, name, definition in self.constraints:
            await self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
