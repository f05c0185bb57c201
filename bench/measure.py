"""The measurements: the report over HTTP, the same SQL on asyncpg, the N+1 baseline,
and the write path (HTTP vs the same transaction on asyncpg)."""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.client import HttpConnection
from stockflow.alerts.repository import LOW_STOCK_SQL
from stockflow.core.database import to_positional
from stockflow.events import low_stock as events_low_stock
from stockflow.events import outbox as events_outbox
from stockflow.ledger import repository as ledger_repository

ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 - a throwaway server
# The app's engine plans every statement for its parameters (core/database.py); the SQL
# floor gets the same plans.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
DEFAULT_THRESHOLD = 10


REPORT_SQL, REPORT_PARAMS = to_positional(LOW_STOCK_SQL)


def report_args(company_id: int, window_days: int = 30) -> list[Any]:
    now = datetime.now(UTC)
    values = {
        "company_id": company_id,
        "since": now - timedelta(days=window_days),
        "now": now,
        "window_days": window_days,
        "default_threshold": DEFAULT_THRESHOLD,
        "warehouse_id": None,
        "product_type_id": None,
    }
    return [values[name] for name in REPORT_PARAMS]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(p(samples, 0.95), 2),
        "min_ms": round(min(samples), 2),
        "n": len(samples),
    }


async def timed(fn: Callable[[], Awaitable[Any]], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


# --- the server --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`stockflow serve` (migrate, then its default 2 uvicorn workers) on the bench
    database."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.db_url = db_url
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> "Server":
        env = dict(os.environ)
        env.update(
            STOCKFLOW_DATABASE_URL=self.db_url,
            STOCKFLOW_ADMIN_TOKEN=ADMIN_TOKEN,
            STOCKFLOW_DEFAULT_LOW_STOCK_THRESHOLD=str(DEFAULT_THRESHOLD),
            STOCKFLOW_HOST="127.0.0.1",
            STOCKFLOW_PORT=str(self.port),
        )
        executable = Path(sys.executable).parent / "stockflow"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603, ASYNC220 - our own entry point, once
            [str(executable), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stockflow serve exited; see {self.log_path}")
            try:
                conn = HttpConnection("127.0.0.1", self.port, ADMIN_TOKEN)
                status, _ = await conn.request("GET", "/readyz")
                await conn.close()
                if status == 200:
                    return self
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("stockflow serve did not become ready")

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def connection(self) -> HttpConnection:
        return HttpConnection("127.0.0.1", self.port, ADMIN_TOKEN)


# --- the report --------------------------------------------------------------------------
async def report_http(
    server: Server, company_id: int, runs: int, warmup: int
) -> tuple[list[float], dict[str, Any]]:
    conn = server.connection()
    last: dict[str, Any] = {}

    async def once() -> None:
        status, body = await conn.request("GET", f"/api/companies/{company_id}/alerts/low-stock")
        assert status == 200, body[:500]
        last["body"] = body

    samples = await timed(once, runs, warmup)
    await conn.close()
    import json

    return samples, json.loads(last["body"])


async def report_sql(
    conn: asyncpg.Connection, company_id: int, runs: int, warmup: int
) -> list[float]:
    statement = await conn.prepare(REPORT_SQL)

    async def once() -> None:
        await statement.fetch(*report_args(company_id))

    return await timed(once, runs, warmup)


async def explain(conn: asyncpg.Connection, company_id: int) -> str:
    rows = await conn.fetch(
        f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {REPORT_SQL}", *report_args(company_id)
    )
    return "\n".join(r[0] for r in rows)


# The typical answer to the StockFlow case study: list the inventory, then ask the ledger
# for each row's recent sales, then the supplier of each alert. It runs on the same asyncpg
# connection with prepared statements (no HTTP, no ORM), which flatters it.
_N1_LEVELS = """
SELECT l.product_id, l.warehouse_id, l.quantity, l.low_stock_threshold AS level_threshold,
       p.name, p.sku, p.low_stock_threshold AS product_threshold,
       pt.low_stock_threshold AS type_threshold, w.name AS warehouse_name
FROM inventory_levels AS l
JOIN products AS p ON p.id = l.product_id
LEFT JOIN product_types AS pt ON pt.id = p.product_type_id
JOIN warehouses AS w ON w.id = l.warehouse_id
WHERE l.company_id = $1 AND p.is_active AND NOT p.is_bundle
"""
_N1_SALES = """
SELECT coalesce(-sum(delta), 0) FROM ledger_entries
WHERE product_id = $1 AND warehouse_id = $2 AND reason = 'sale'
  AND occurred_at > $3 AND occurred_at <= $4
"""
_N1_SUPPLIER = """
SELECT s.id, s.name, s.contact_email, ps.lead_time_days, ps.min_order_qty
FROM product_suppliers AS ps JOIN suppliers AS s ON s.id = ps.supplier_id
WHERE ps.product_id = $1
ORDER BY ps.is_primary DESC, ps.lead_time_days ASC NULLS LAST, ps.supplier_id
LIMIT 1
"""


async def n_plus_1_report(
    conn: asyncpg.Connection, company_id: int, window_days: int = 30
) -> tuple[list[dict[str, Any]], int]:
    """Returns the alerts and the number of queries it sent."""
    now = datetime.now(UTC)
    since = now - timedelta(days=window_days)
    sales = await conn.prepare(_N1_SALES)
    supplier_q = await conn.prepare(_N1_SUPPLIER)
    queries = 1
    alerts = []
    for row in await conn.fetch(_N1_LEVELS, company_id):
        threshold = next(
            t
            for t in (
                row["level_threshold"],
                row["product_threshold"],
                row["type_threshold"],
                DEFAULT_THRESHOLD,
            )
            if t is not None
        )
        sold = int(await sales.fetchval(row["product_id"], row["warehouse_id"], since, now))
        queries += 1
        stock = row["quantity"]
        if not (sold > 0 and stock < threshold):
            continue
        sup = await supplier_q.fetchrow(row["product_id"])
        queries += 1
        lead = (sup["lead_time_days"] or 0) if sup else 0
        quantity = max(0, threshold - stock + -(-sold * lead // window_days))
        moq = sup["min_order_qty"] if sup else None
        if moq and moq > 1:
            quantity = -(-quantity // moq) * moq
        alerts.append(
            {
                "product_id": row["product_id"],
                "warehouse_id": row["warehouse_id"],
                "current_stock": stock,
                "units_sold": sold,
                "days_until_stockout": stock * window_days // sold,
                "recommended_order_quantity": quantity,
                "supplier_id": sup["id"] if sup else None,
            }
        )
    alerts.sort(key=lambda a: (a["days_until_stockout"], a["product_id"], a["warehouse_id"]))
    return alerts, queries


# --- the write path ----------------------------------------------------------------------
# The statements one single-line sale movement sends, in the app's order, as the
# ledger's own statement texts (taken from the app, so they cannot drift): products and
# warehouses in one query, the level lock, then the level update and the entry insert in
# one statement. A sale only takes stock, so no level is created first. The admin's
# company check is answered from the process's set of known companies after the first
# request, so it sends nothing either.
_REFERENCES_SQL, _REFERENCES_PARAMS = to_positional(ledger_repository._REFERENCES.text)
_LOCK_SQL, _LOCK_PARAMS = to_positional(ledger_repository._LOCK_LEVELS.text)
_WRITE_SQL, _WRITE_PARAMS = to_positional(ledger_repository._WRITE.text)
# With events on, the writer also inserts the request's stock.changed event and flips the
# level's low-stock alert: the baseline sends the same two statements.
_EVENT_SQL, _EVENT_PARAMS = to_positional(events_outbox._INSERT.text)
_ALERTS_SQL, _ALERTS_PARAMS = to_positional(events_low_stock._TRANSITIONS.text)


def _args(names: list[str], values: dict[str, Any]) -> list[Any]:
    return [values[name] for name in names]


async def sale_sql(conn: asyncpg.Connection, company_id: int, pair: tuple[int, int]) -> None:
    p_id, w_id = pair
    async with conn.transaction():
        values: dict[str, Any] = {
            "company_id": company_id,
            "products": [p_id],
            "warehouses": [w_id],
        }
        await conn.fetch(_REFERENCES_SQL, *_args(_REFERENCES_PARAMS, values))
        rows = await conn.fetch(_LOCK_SQL, *_args(_LOCK_PARAMS, values))
        quantity = (rows[0]["quantity"] if rows else 0) - 1
        if quantity < 0:
            raise RuntimeError("insufficient stock")
        values.update(
            level_products=[p_id],
            level_warehouses=[w_id],
            level_quantities=[quantity],
            level_sold=[True],
            reference=None,
            occurred_at=None,
            deltas=[-1],
            reasons=["sale"],
            after=[quantity],
            bundles=[None],
        )
        entries = await conn.fetch(_WRITE_SQL, *_args(_WRITE_PARAMS, values))
        event = {
            "reason": "sale",
            "reference": None,
            "entries": [{k: str(v) for k, v in dict(e).items()} for e in entries],
        }
        values.update(types=["stock.changed"], datas=[json.dumps(event)])
        await conn.execute(_EVENT_SQL, *_args(_EVENT_PARAMS, values))
        values.update(default_threshold=DEFAULT_THRESHOLD)
        await conn.fetch(_ALERTS_SQL, *_args(_ALERTS_PARAMS, values))


async def run_clients(
    clients: int, seconds: float, make: Callable[[int], Awaitable[Callable[[], Awaitable[bool]]]]
) -> tuple[int, int, float]:
    """`clients` loops calling their operation until `seconds` pass; returns (ok, failed,
    elapsed)."""
    operations = [await make(i) for i in range(clients)]
    ok = failed = 0
    stop = time.monotonic() + seconds

    async def loop(op: Callable[[], Awaitable[bool]]) -> None:
        nonlocal ok, failed
        while time.monotonic() < stop:
            if await op():
                ok += 1
            else:
                failed += 1

    start = time.monotonic()
    await asyncio.gather(*(loop(op) for op in operations))
    return ok, failed, time.monotonic() - start


async def writes_http(
    server: Server, company_id: int, pairs: list[tuple[int, int]], clients: int, seconds: float
) -> tuple[float, int]:
    rng = random.Random(1)
    path = f"/api/companies/{company_id}/stock-movements"
    connections: list[HttpConnection] = []

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        conn = server.connection()
        connections.append(conn)

        async def sell() -> bool:
            p_id, w_id = rng.choice(pairs)
            body = {
                "reason": "sale",
                "lines": [{"product_id": p_id, "warehouse_id": w_id, "delta": -1}],
            }
            status, _ = await conn.request("POST", path, body)
            return status == 201

        return sell

    ok, failed, elapsed = await run_clients(clients, seconds, make)
    for conn in connections:
        await conn.close()
    return ok / elapsed, failed


async def writes_sql(
    pool: asyncpg.Pool, company_id: int, pairs: list[tuple[int, int]], clients: int, seconds: float
) -> tuple[float, int]:
    rng = random.Random(2)

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        async def sell() -> bool:
            async with pool.acquire() as conn:
                try:
                    await sale_sql(conn, company_id, rng.choice(pairs))
                except (RuntimeError, asyncpg.PostgresError):
                    return False
            return True

        return sell

    ok, failed, elapsed = await run_clients(clients, seconds, make)
    return ok / elapsed, failed
