"""Reservation create + commit throughput: over HTTP vs the same statements on asyncpg.

`python -m bench.reservations [--seconds N] [--clients N]` runs a smoke measurement on a
fresh small database (the embedded server unless STOCKFLOW_BENCH_DATABASE_URL names one).
`measure(server, pool, company_id, pairs, clients, seconds)` is what a full `make bench`
run calls on its own dataset: each client loops "reserve 1 unit of a random pair, then
commit it" (two requests), and the SQL floor sends the app's own statements for the same
two transactions.
"""

import argparse
import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench import measure
from bench.client import HttpConnection
from stockflow.core.database import to_positional
from stockflow.ledger import repository as ledger_repository
from stockflow.reservations import repository as reservation_repository

Pair = tuple[int, int]


def _sql(statement: Any) -> tuple[str, list[str]]:
    return to_positional(statement.text)


_REFERENCES = _sql(ledger_repository._REFERENCES)
_LOCK_LEVELS = _sql(ledger_repository._LOCK_LEVELS)
_END_HOLDS = _sql(ledger_repository._END_HOLDS)
_WRITE = _sql(ledger_repository._WRITE)
_CREATE = _sql(reservation_repository._CREATE)
_LOCK = _sql(reservation_repository._LOCK)
_LINES = _sql(reservation_repository._LINES)
_CLOSE = _sql(reservation_repository._CLOSE)


async def _run(conn: asyncpg.Connection, statement: tuple[str, list[str]], **values: Any) -> Any:
    sql, names = statement
    return await conn.fetch(sql, *[values[name] for name in names])


async def reserve_and_commit_sql(conn: asyncpg.Connection, company_id: int, pair: Pair) -> None:
    """The two transactions the app runs for POST reservations + POST …/commit."""
    p_id, w_id = pair
    one = {"company_id": company_id, "products": [p_id], "warehouses": [w_id]}
    async with conn.transaction():
        await _run(conn, _REFERENCES, **one)
        rows = await _run(conn, _LOCK_LEVELS, **one)
        if not rows or rows[0]["quantity"] - rows[0]["reserved"] < 1:
            raise RuntimeError("insufficient stock")
        created = await _run(conn, _CREATE, **one, reference=None, ttl=900, quantities=[1])
    rid = created[0]["id"]
    async with conn.transaction():
        await _run(conn, _LOCK, company_id=company_id, id=rid)
        await _run(conn, _LINES, company_id=company_id, ids=[rid])
        rows = await _run(conn, _LOCK_LEVELS, **one)
        quantity = rows[0]["quantity"] - 1
        await _run(conn, _END_HOLDS, products=[p_id], warehouses=[w_id], quantities=[1])
        await _run(
            conn,
            _WRITE,
            **one,
            level_products=[p_id],
            level_warehouses=[w_id],
            level_quantities=[quantity],
            level_sold=[True],
            reference=f"RES-{rid}",
            occurred_at=None,
            deltas=[-1],
            reasons=["sale"],
            after=[quantity],
            bundles=[None],
        )
        await _run(conn, _CLOSE, company_id=company_id, id=rid, status="committed")


async def http(
    server: measure.Server, company_id: int, pairs: list[Pair], clients: int, seconds: float
) -> tuple[float, int]:
    """Create + commit pairs per second over HTTP, and the failures."""
    rng = random.Random(3)
    base = f"/api/companies/{company_id}/reservations"
    connections: list[HttpConnection] = []

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        conn = server.connection()
        connections.append(conn)

        async def once() -> bool:
            p_id, w_id = rng.choice(pairs)
            body = {"lines": [{"product_id": p_id, "warehouse_id": w_id, "quantity": 1}]}
            status, raw = await conn.request("POST", base, body)
            if status != 201:
                return False
            rid = int(raw.split(b'"id":', 1)[1].split(b",", 1)[0])
            status, _ = await conn.request("POST", f"{base}/{rid}/commit")
            return status == 201

        return once

    ok, failed, elapsed = await measure.run_clients(clients, seconds, make)
    for conn in connections:
        await conn.close()
    return ok / elapsed, failed


async def sql(
    pool: asyncpg.Pool, company_id: int, pairs: list[Pair], clients: int, seconds: float
) -> tuple[float, int]:
    rng = random.Random(4)

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        async def once() -> bool:
            async with pool.acquire() as conn:
                try:
                    await reserve_and_commit_sql(conn, company_id, rng.choice(pairs))
                except (RuntimeError, asyncpg.PostgresError):
                    return False
            return True

        return once

    ok, failed, elapsed = await measure.run_clients(clients, seconds, make)
    return ok / elapsed, failed


async def measure_reservations(
    server: measure.Server,
    pool: asyncpg.Pool,
    company_id: int,
    pairs: list[Pair],
    clients: int = 32,
    seconds: float = 15,
) -> dict[str, Any]:
    """Both sides and their ratio (target: HTTP >= 0.4 x SQL). `pairs` need stock."""
    http_rate, http_failed = await http(server, company_id, pairs, clients, seconds)
    sql_rate, sql_failed = await sql(pool, company_id, pairs, clients, seconds)
    return {
        "clients": clients,
        "http_per_s": round(http_rate, 1),
        "sql_per_s": round(sql_rate, 1),
        "ratio": round(http_rate / sql_rate, 3) if sql_rate else None,
        "failed": {"http": http_failed, "sql": sql_failed},
    }


async def _smoke(seconds: float, clients: int) -> dict[str, Any]:
    from bench.database import DATA_DIR, drop_database, dsn, fresh_database, server_url

    url = await fresh_database(server_url(), "stockflow_bench_resv")
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        async with measure.Server(url, DATA_DIR / "server-reservations.log") as server:
            admin = server.connection()
            _, raw = await admin.request("POST", "/api/companies", {"name": "Bench"})
            company = int(raw.split(b'"id":', 1)[1].split(b",", 1)[0])
            pairs: list[Pair] = []
            _, raw = await admin.request(
                "POST", f"/api/companies/{company}/warehouses", {"name": "W"}
            )
            wid = int(raw.split(b'"id":', 1)[1].split(b",", 1)[0])
            for i in range(20):
                body = {
                    "name": f"P{i}",
                    "sku": f"BENCH-RESV-{i}",
                    "price": "1.00",
                    "warehouse_id": wid,
                    "initial_quantity": 1_000_000,
                }
                _, raw = await admin.request("POST", f"/api/companies/{company}/products", body)
                pairs.append((int(raw.split(b'"id":', 1)[1].split(b",", 1)[0]), wid))
            await admin.close()
            pool = await asyncpg.create_pool(
                dsn(url),
                min_size=clients,
                max_size=clients,
                server_settings=measure.SERVER_SETTINGS,
            )
            try:
                return await measure_reservations(server, pool, company, pairs, clients, seconds)
            finally:
                await pool.close()
    finally:
        await drop_database(server_url(), "stockflow_bench_resv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    print(asyncio.run(_smoke(args.seconds, args.clients)))


if __name__ == "__main__":
    main()
