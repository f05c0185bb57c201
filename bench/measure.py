"""What the measurements are made of: the server, the report over HTTP and as bare SQL,
the N+1 baseline, and sale loads (HTTP, and the same transaction on asyncpg)."""

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import workers
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

    def __init__(self, db_url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.db_url = db_url
        self.log_path = log_path
        self.env = env or {}  # more settings for this server (STOCKFLOW_...)
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
        env.update(self.env)
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

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (the server itself when it runs one)."""
        if self.proc is None:
            return []
        pids = workers.serving(workers.children(self.proc.pid), self.port)
        return pids or [self.proc.pid]

    async def connections(self, n: int) -> tuple[list[HttpConnection], dict[int, int]]:
        """`n` keep-alive connections spread evenly over the uvicorn workers, and how
        many each worker got (see bench/workers.py for why)."""
        return await workers.balanced(self.connection, n, self.port, self.worker_pids())


# --- the report --------------------------------------------------------------------------
class ReportHttp:
    """The low-stock report of one company over one keep-alive connection."""

    def __init__(self, server: Server, company_id: int) -> None:
        self.conn = server.connection()
        self.path = f"/api/companies/{company_id}/alerts/low-stock"
        self.body = b""

    async def once(self) -> None:
        status, body = await self.conn.request("GET", self.path)
        if status != 200:
            raise RuntimeError(f"report: HTTP {status}: {body[:500]!r}")
        self.body = body

    def last(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result

    async def close(self) -> None:
        await self.conn.close()


class ReportSql:
    """The report's statement text, prepared once on asyncpg, rows fetched."""

    def __init__(self, conn: asyncpg.Connection, company_id: int) -> None:
        self.conn, self.company_id = conn, company_id
        self.statement: Any = None

    async def once(self) -> None:
        if self.statement is None:
            self.statement = await self.conn.prepare(REPORT_SQL)
        await self.statement.fetch(*report_args(self.company_id))


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
       l.on_order,
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
        quantity = max(0, threshold - stock - row["on_order"] + -(-sold * lead // window_days))
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


class SaleLoad:
    """`clients` loops posting single-line sales, each on its own connection, either for
    a fixed time (`run_for`) or in the background while something else is timed
    (`async with load.running():`). Connections stay open between runs."""

    def __init__(
        self,
        sell: Callable[[int, tuple[int, int]], Awaitable[bool]],
        pairs: list[tuple[int, int]],
        clients: int,
        seed: int,
        connect: Callable[[], Awaitable[None]] | None = None,
        disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sell, self.pairs, self.clients = sell, pairs, clients
        # HTTP loads open their connections before each window and close them after:
        # uvicorn drops keep-alive connections idle for 5 s, and a reconnect would land
        # on any worker (bench/workers.py).
        self.connect, self.disconnect = connect, disconnect
        self.rng = random.Random(seed)
        self.ok = self.failed = 0
        self.per_worker: list[int] = []  # connections per uvicorn worker (HTTP loads)

    async def _loop(self, client: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await self.sell(client, self.rng.choice(self.pairs)):
                self.ok += 1
            else:
                self.failed += 1

    async def run_for(self, seconds: float) -> tuple[float, int]:
        """Sales per second and failures over `seconds`."""
        async with self.running() as window:
            await asyncio.sleep(seconds)
        return window.rate, window.failed

    @asynccontextmanager
    async def running(self) -> AsyncIterator["LoadWindow"]:
        if self.connect is not None:
            await self.connect()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(self._loop(i, stop)) for i in range(self.clients)]
        window = LoadWindow(self)
        try:
            yield window
        finally:
            window.close()
            stop.set()
            await asyncio.gather(*tasks)
            if self.disconnect is not None:
                await self.disconnect()


class LoadWindow:
    """What a `SaleLoad` did between the window's start and `close()`."""

    def __init__(self, load: SaleLoad) -> None:
        self.load = load
        self.start = time.monotonic()
        self.ok0, self.failed0 = load.ok, load.failed
        self.rate = 0.0
        self.failed = 0

    def close(self) -> None:
        elapsed = time.monotonic() - self.start
        self.rate = (self.load.ok - self.ok0) / elapsed if elapsed else 0.0
        self.failed = self.load.failed - self.failed0


@asynccontextmanager
async def http_sales(
    server: Server, company_id: int, pairs: list[tuple[int, int]], clients: int
) -> AsyncIterator[SaleLoad]:
    """Sales through `POST /stock-movements`, one keep-alive connection per client."""
    path = f"/api/companies/{company_id}/stock-movements"
    connections: list[HttpConnection] = []

    async def sell(client: int, pair: tuple[int, int]) -> bool:
        body = {
            "reason": "sale",
            "lines": [{"product_id": pair[0], "warehouse_id": pair[1], "delta": -1}],
        }
        status, _ = await connections[client].request("POST", path, body)
        return status == 201

    async def connect() -> None:
        opened, per_worker = await server.connections(clients)
        connections[:] = opened
        load.per_worker = sorted(per_worker.values())

    async def disconnect() -> None:
        for conn in connections:
            await conn.close()

    load = SaleLoad(sell, pairs, clients, 1, connect, disconnect)
    yield load


def sql_sales(
    pool: asyncpg.Pool, company_id: int, pairs: list[tuple[int, int]], clients: int
) -> SaleLoad:
    """The same sales as the app's statements in one transaction on an asyncpg pool."""

    async def sell(_: int, pair: tuple[int, int]) -> bool:
        async with pool.acquire() as conn:
            try:
                await sale_sql(conn, company_id, pair)
            except (RuntimeError, asyncpg.PostgresError):
                return False
        return True

    return SaleLoad(sell, pairs, clients, seed=2)
