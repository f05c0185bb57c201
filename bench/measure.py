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
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import workers
from bench.client import HttpConnection
from stockflow.alerts.repository import LOW_STOCK_SQL
from stockflow.core import tenancy
from stockflow.core.database import to_positional
from stockflow.core.settings import Settings
from stockflow.events import low_stock as events_low_stock
from stockflow.events import outbox as events_outbox
from stockflow.ledger import repository as ledger_repository

ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 - a throwaway server
# The app plans the report's statement for its parameters (`plan_cache_mode` around that
# one statement, alerts/repository.py); the bench's report floors get the same plans from
# their connection's setting. Every other statement keeps the plan cache on both sides.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
DEFAULT_THRESHOLD = 10


def app_server_settings(settings: Settings | None = None) -> dict[str, str]:
    """The startup parameters of the app's own connections (`create_engine` in
    core/database.py): its statement timeout and role. As the app role (neither superuser
    nor BYPASSRLS) every statement passes row-level security, as the app's do; the
    bench's owner connection (`SERVER_SETTINGS`) bypasses it."""
    s = settings or Settings()
    out = {"statement_timeout": str(s.db_statement_timeout_ms)}
    if s.db_role:
        out["role"] = s.db_role
    return out


# What the SQL baselines of the write paths connect with: the app's startup parameters.
APP_SERVER_SETTINGS = app_server_settings()


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
            # The webhook measurement's receiver listens on 127.0.0.1 (bench/events.py).
            STOCKFLOW_WEBHOOK_ALLOW_PRIVATE="true",
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
# The statements one single-line sale movement sends, in the app's order, as the app's own
# statement texts (taken from the app, so they cannot drift):
# 1. the tenant scope of row-level security (core/tenancy.py, sent by the company-scope
#    dependency as the transaction's first statement; the admin's company check is
#    answered from the process's set of known companies after the first request);
# 2. products and warehouses in one query; 3. the level lock (a sale only takes stock, so
#    no level is created first); 4. the level update and the entry insert in one
#    statement (ledger/repository.py);
# 5. the request's `stock.changed` event (events/outbox.py) and 6. the low-stock alert
#    transitions of the level (events/low_stock.py), as `record_stock_change` sends them
#    from ledger/writer.py; a flip would add one more event insert, as in the app.
# The baseline connects as the app role (`APP_SERVER_SETTINGS`), so RLS applies to both.
SCOPE_SQL, SCOPE_PARAMS = to_positional(tenancy._SCOPE_TO_COMPANY.text)
ENSURE_SQL, ENSURE_PARAMS = to_positional(ledger_repository._ENSURE_LEVELS.text)
_REFERENCES_SQL, _REFERENCES_PARAMS = to_positional(ledger_repository._REFERENCES.text)
LOCK_SQL, LOCK_PARAMS = to_positional(ledger_repository._LOCK_LEVELS.text)
WRITE_SQL, WRITE_PARAMS = to_positional(ledger_repository._WRITE.text)
EVENT_SQL, EVENT_PARAMS = to_positional(events_outbox._INSERT.text)
ALERTS_SQL, ALERTS_PARAMS = to_positional(events_low_stock._TRANSITIONS.text)


def args(names: list[str], values: dict[str, Any]) -> list[Any]:
    return [values[name] for name in names]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def scope(conn: asyncpg.Connection, company_id: int) -> None:
    """The app's tenant scope for the rest of the transaction (`scope_to_company`)."""
    await conn.fetch(SCOPE_SQL, *args(SCOPE_PARAMS, {"company_id": str(company_id)}))


async def write_entries_sql(
    conn: asyncpg.Connection,
    company_id: int,
    lines: list[tuple[int, int, int, str]],
    reference: str | None,
    *,
    events: bool = True,
) -> list[asyncpg.Record]:
    """ledger/writer.py's `write_entries` on the driver: (product, warehouse, delta,
    reason) lines, distinct pairs; the levels created first only for receiving lines, locked,
    written with their entries, then the `stock.changed` event and the alert flips (and
    their events when any). `events=False`: the ledger as it was before events (for the
    write_floor measurement only)."""
    pairs = sorted({(p, w) for p, w, _, _ in lines})
    values: dict[str, Any] = {"company_id": company_id}
    receiving = sorted({(p, w) for p, w, d, _ in lines if d > 0})
    if receiving:
        values.update(products=[p for p, _ in receiving], warehouses=[w for _, w in receiving])
        await conn.execute(ENSURE_SQL, *args(ENSURE_PARAMS, values))
    values.update(products=[p for p, _ in pairs], warehouses=[w for _, w in pairs])
    levels = {
        (r["product_id"], r["warehouse_id"]): r["quantity"]
        for r in await conn.fetch(LOCK_SQL, *args(LOCK_PARAMS, values))
    }
    after = []
    for p, w, delta, _ in lines:
        quantity = levels.get((p, w), 0) + delta
        if quantity < 0:
            raise RuntimeError("insufficient stock")
        levels[(p, w)] = quantity
        after.append(quantity)
    sold = {(p, w) for p, w, _, reason in lines if reason == "sale"}
    values.update(
        level_products=[p for p, _ in pairs],
        level_warehouses=[w for _, w in pairs],
        level_quantities=[levels[pair] for pair in pairs],
        level_sold=[pair in sold for pair in pairs],
        reference=reference,
        occurred_at=None,
        products=[p for p, _, _, _ in lines],
        warehouses=[w for _, w, _, _ in lines],
        deltas=[d for _, _, d, _ in lines],
        reasons=[r for _, _, _, r in lines],
        after=after,
        bundles=[None] * len(lines),
    )
    written = await conn.fetch(WRITE_SQL, *args(WRITE_PARAMS, values))
    entries = sorted(written, key=lambda e: e["id"])
    if not events:
        return entries
    event = {
        "reason": lines[0][3],
        "reference": reference,
        "entries": [{k: _json_value(v) for k, v in e.items()} for e in entries],
    }
    await emit_sql(conn, company_id, [("stock.changed", event)])
    values.update(
        products=[p for p, _ in pairs],
        warehouses=[w for _, w in pairs],
        default_threshold=DEFAULT_THRESHOLD,
    )
    flips = await conn.fetch(ALERTS_SQL, *args(ALERTS_PARAMS, values))
    if flips:
        await emit_sql(
            conn,
            company_id,
            [
                (
                    "low_stock.opened" if f["opening"] else "low_stock.resolved",
                    {
                        "product_id": f["product_id"],
                        "warehouse_id": f["warehouse_id"],
                        "current_stock": f["quantity"],
                        "threshold": f["threshold"],
                    },
                )
                for f in sorted(flips, key=lambda f: (f["product_id"], f["warehouse_id"]))
            ],
        )
    return entries


async def emit_sql(
    conn: asyncpg.Connection, company_id: int, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """events/outbox.py's `emit_many`: one insert for the events, in order."""
    values = {
        "company_id": company_id,
        "types": [t for t, _ in events],
        "datas": [json.dumps(d) for _, d in events],
    }
    await conn.execute(EVENT_SQL, *args(EVENT_PARAMS, values))


async def sale_sql(
    conn: asyncpg.Connection,
    company_id: int,
    pair: tuple[int, int],
    *,
    tenant: bool = True,
    events: bool = True,
) -> None:
    """One single-line sale as the app sends it (`tenant=False`: without the tenant
    setting, for a connection that bypasses RLS; `events=False`: without the event and
    alert statements; both only for the write_floor measurement)."""
    p_id, w_id = pair
    async with conn.transaction():
        if tenant:
            await scope(conn, company_id)
        values = {"company_id": company_id, "products": [p_id], "warehouses": [w_id]}
        await conn.fetch(_REFERENCES_SQL, *args(_REFERENCES_PARAMS, values))
        await write_entries_sql(conn, company_id, [(p_id, w_id, -1, "sale")], None, events=events)


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


Item = tuple[int, int]


@asynccontextmanager
async def http_posts(
    server: Server,
    items: list[Item],
    clients: int,
    request: Callable[[Item], tuple[str, dict[str, Any]]],
    seed: int = 1,
) -> AsyncIterator[SaleLoad]:
    """`clients` loops each POSTing `request(item)` (path, body) for random `items` on its
    own keep-alive connection, spread over the workers; a 201 counts as done."""
    connections: list[HttpConnection] = []

    async def post(client: int, item: Item) -> bool:
        path, body = request(item)
        status, _ = await connections[client].request("POST", path, body)
        return status == 201

    async def connect() -> None:
        opened, per_worker = await server.connections(clients)
        connections[:] = opened
        load.per_worker = sorted(per_worker.values())

    async def disconnect() -> None:
        for conn in connections:
            await conn.close()

    load = SaleLoad(post, items, clients, seed, connect, disconnect)
    yield load


def sql_load(
    pool: asyncpg.Pool,
    items: list[Item],
    clients: int,
    run: Callable[[asyncpg.Connection, Item], Awaitable[None]],
    seed: int = 2,
) -> SaleLoad:
    """`clients` loops each running `run(conn, item)` on a connection of `pool`; a
    RuntimeError or a PostgreSQL error counts as a failure."""

    async def once(_: int, item: Item) -> bool:
        async with pool.acquire() as conn:
            try:
                await run(conn, item)
            except (RuntimeError, asyncpg.PostgresError):
                return False
        return True

    return SaleLoad(once, items, clients, seed)


def http_sales(
    server: Server, company_id: int, pairs: list[tuple[int, int]], clients: int
) -> AbstractAsyncContextManager[SaleLoad]:
    """Sales through `POST /stock-movements`, one keep-alive connection per client."""
    path = f"/api/companies/{company_id}/stock-movements"

    def sale(pair: Item) -> tuple[str, dict[str, Any]]:
        line = {"product_id": pair[0], "warehouse_id": pair[1], "delta": -1}
        return path, {"reason": "sale", "lines": [line]}

    return http_posts(server, pairs, clients, sale)


def sql_sales(
    pool: asyncpg.Pool,
    company_id: int,
    pairs: list[tuple[int, int]],
    clients: int,
    *,
    tenant: bool = True,
    events: bool = True,
) -> SaleLoad:
    """The same sales as the app's statements in one transaction on an asyncpg pool
    (`pool` connected with `APP_SERVER_SETTINGS`)."""

    async def sell(conn: asyncpg.Connection, pair: Item) -> None:
        await sale_sql(conn, company_id, pair, tenant=tenant, events=events)

    return sql_load(pool, pairs, clients, sell)
