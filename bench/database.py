"""The bench's PostgreSQL: STOCKFLOW_DATABASE_URL's server, else the embedded one in
$STOCKFLOW_DATA_DIR/bench (default .stockflow/bench). Each dataset gets a fresh database,
migrated with Alembic; the run drops it at the end and removes the embedded cluster's
files (gigabytes of WAL after L) unless `--keep`."""

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import make_url

from stockflow.core import embedded
from stockflow.core.migrations import upgrade_to_head

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("STOCKFLOW_DATA_DIR") or REPO_ROOT / ".stockflow") / "bench"
EMBEDDED_PGDATA = DATA_DIR / "pgdata"
LOGS = DATA_DIR / "logs"


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


def uses_embedded() -> bool:
    return not os.environ.get("STOCKFLOW_DATABASE_URL")


def remove_embedded_cluster() -> None:
    """Delete the embedded server's files (call after `embedded.stop()`)."""
    shutil.rmtree(EMBEDDED_PGDATA, ignore_errors=True)


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


# Autovacuum's per-table trigger points (PostgreSQL's formulas, with the server's
# settings): a table is due for vacuum or analyze once it passes one of them.
_DUE_TABLES = """
SELECT s.relname
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0)
   OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
        + current_setting('autovacuum_vacuum_insert_scale_factor')::float8
          * greatest(c.reltuples, 0)
   OR s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
        + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
"""
_AUTOVACUUM_WORKERS = """
SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'autovacuum worker' AND datname = current_database()
"""


async def settle(
    conn: asyncpg.Connection, *, quiet_s: float = 2.0, timeout_s: float = 120.0
) -> dict[str, Any]:
    """Bring the database to a quiet state before timing anything: VACUUM (ANALYZE) so
    every table has fresh statistics and a visibility map, CHECKPOINT so no dirty buffers
    are left to write, then wait until no autovacuum worker runs in this database and no
    table is past autovacuum's trigger points, for `quiet_s` seconds in a row (polled
    every 0.2 s in pg_stat_activity and pg_stat_user_tables; a table still due while no
    worker runs is vacuumed again here). Returns what it did."""
    started = time.perf_counter()
    await conn.execute("VACUUM (ANALYZE)")
    vacuumed = time.perf_counter() - started
    await conn.execute("CHECKPOINT")
    checkpointed = time.perf_counter() - started - vacuumed
    quiet_since: float | None = None
    deadline = time.monotonic() + timeout_s
    waited_for: set[str] = set()
    while True:
        workers = await conn.fetchval(_AUTOVACUUM_WORKERS)
        due = [r["relname"] for r in await conn.fetch(_DUE_TABLES)]
        now = time.monotonic()
        if workers == 0 and not due:
            quiet_since = quiet_since or now
            if now - quiet_since >= quiet_s:
                timed_out = False
                break
        else:
            quiet_since = None
            waited_for.update(due or ["autovacuum worker"])
            if due and not workers:
                # Statistics reach the server up to a second after a transaction (and a
                # backend's may land after our VACUUM): vacuum what is still due rather
                # than wait up to autovacuum_naptime for a worker to do it.
                names = ", ".join(f'"{name}"' for name in due)
                await conn.execute(f"VACUUM (ANALYZE) {names}")
        if now > deadline:
            timed_out = True
            break
        await asyncio.sleep(0.2)
    return {
        "vacuum_analyze_s": round(vacuumed, 2),
        "checkpoint_s": round(checkpointed, 2),
        "settle_s": round(time.perf_counter() - started, 2),
        "waited_for": sorted(waited_for),
        "timed_out": timed_out,
    }
