"""Purchasing in the bench: open purchase orders in the datasets, drafting orders from
the report (`from-alerts`) and receipts against orders, over HTTP and on raw asyncpg."""

import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench import measure
from bench.client import HttpConnection

# Open orders for about a tenth of the low levels and a hundredth of the others, chosen
# by rank within each company (so the 30-day twin, whose catalog mirrors the main
# company's in the same id order, gets the same orders and the same report). One order
# per (supplier, warehouse); half are partly received. on_order follows, as the app keeps
# it.
_OPEN_ORDERS = """
WITH levels AS (
    SELECT l.company_id, l.product_id, l.warehouse_id,
           l.quantity < COALESCE(l.low_stock_threshold, p.low_stock_threshold,
                                 pt.low_stock_threshold, 10) AS is_low,
           (SELECT ps.supplier_id FROM product_suppliers AS ps
            WHERE ps.product_id = l.product_id
            ORDER BY ps.is_primary DESC, ps.supplier_id LIMIT 1) AS supplier_id
    FROM inventory_levels AS l
    JOIN products AS p ON p.id = l.product_id
    LEFT JOIN product_types AS pt ON pt.id = p.product_type_id
    WHERE p.is_active AND NOT p.is_bundle
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY company_id, is_low
                                 ORDER BY product_id, warehouse_id) AS n
    FROM levels WHERE supplier_id IS NOT NULL
)
SELECT company_id, product_id, warehouse_id, supplier_id FROM ranked
WHERE (is_low AND n % 10 = 0) OR (NOT is_low AND n % 100 = 0)
ORDER BY company_id, supplier_id, warehouse_id, product_id
"""


async def add_open_orders(conn: asyncpg.Connection) -> int:
    """Insert the open purchase orders (see `_OPEN_ORDERS`); returns their number."""
    picked = await conn.fetch(_OPEN_ORDERS)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for r in picked:
        key = (r["company_id"], r["supplier_id"], r["warehouse_id"])
        groups.setdefault(key, []).append(r["product_id"])
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    on_order: dict[tuple[int, int], int] = {}
    next_id = 1
    for (company, supplier, warehouse), products in groups.items():
        partly = next_id % 2 == 0
        status = "partially_received" if partly else "ordered"
        orders.append((next_id, company, supplier, warehouse, status))
        for position, product in enumerate(products):
            quantity = 10 + (product % 7) * 5
            received = quantity // 3 if partly else 0
            lines.append((next_id, product, company, position, quantity, received))
            on_order[(product, warehouse)] = quantity - received
        next_id += 1
    await conn.copy_records_to_table(
        "purchase_orders",
        records=orders,
        columns=["id", "company_id", "supplier_id", "warehouse_id", "status"],
    )
    await conn.copy_records_to_table(
        "purchase_order_lines",
        records=lines,
        columns=[
            "purchase_order_id",
            "product_id",
            "company_id",
            "position",
            "quantity",
            "received_quantity",
        ],
    )
    await conn.execute(
        """
        UPDATE inventory_levels AS l SET on_order = t.q
        FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(p, w, q)
        WHERE l.product_id = t.p AND l.warehouse_id = t.w
        """,
        [p for p, _ in on_order],
        [w for _, w in on_order],
        list(on_order.values()),
    )
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('purchase_orders', 'id'), "
        "(SELECT coalesce(max(id), 1) FROM purchase_orders))"
    )
    return len(orders)


# --- from-alerts ---------------------------------------------------------------------------


async def from_alerts_http(
    server: measure.Server, conn: asyncpg.Connection, company_id: int, runs: int
) -> tuple[list[float], int]:
    """`runs` timings of POST from-alerts drafting every alert's order (the drafts of the
    previous run are deleted first, so every run does the whole work); returns the
    samples and the number of draft orders of the last run."""
    http = server.connection()
    samples: list[float] = []
    drafted = 0
    try:
        for _ in range(runs):
            await conn.execute(
                "DELETE FROM purchase_orders WHERE company_id = $1 AND status = 'draft'",
                company_id,
            )
            t = time.perf_counter()
            status, body = await http.request(
                "POST", f"/api/companies/{company_id}/purchase-orders/from-alerts", {}
            )
            samples.append((time.perf_counter() - t) * 1000)
            if status != 201:
                raise RuntimeError(f"from-alerts answered {status}: {body[:300]!r}")
            drafted = len(json.loads(body)["purchase_orders"])
    finally:
        await conn.execute(
            "DELETE FROM purchase_orders WHERE company_id = $1 AND status = 'draft'", company_id
        )
        await http.close()
    return samples, drafted


# --- receipts ------------------------------------------------------------------------------


async def receipt_orders(
    conn: asyncpg.Connection, company_id: int, pairs: list[tuple[int, int]], supplier_id: int
) -> list[tuple[int, int]]:
    """One placed order per pair expecting a billion units (never fully received):
    (order id, product id) for single-line receipts."""
    out: list[tuple[int, int]] = []
    async with conn.transaction():
        for product, warehouse in pairs:
            order_id = await conn.fetchval(
                "INSERT INTO purchase_orders (company_id, supplier_id, warehouse_id, status, "
                "ordered_at) VALUES ($1, $2, $3, 'ordered', now()) RETURNING id",
                company_id,
                supplier_id,
                warehouse,
            )
            await conn.execute(
                "INSERT INTO purchase_order_lines (purchase_order_id, product_id, company_id, "
                "position, quantity) VALUES ($1, $2, $3, 0, 1000000000)",
                order_id,
                product,
                company_id,
            )
            await conn.execute(
                "UPDATE inventory_levels SET on_order = on_order + 1000000000 "
                "WHERE product_id = $1 AND warehouse_id = $2",
                product,
                warehouse,
            )
            out.append((order_id, product))
    return out


async def receipts_http(
    server: measure.Server,
    company_id: int,
    orders: list[tuple[int, int]],
    clients: int,
    seconds: float,
) -> tuple[float, int]:
    rng = random.Random(3)
    connections: list[HttpConnection] = []

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        conn = server.connection()
        connections.append(conn)

        async def receive() -> bool:
            order_id, product = rng.choice(orders)
            path = f"/api/companies/{company_id}/purchase-orders/{order_id}/receipts"
            body = {"lines": [{"product_id": product, "quantity": 1}]}
            status, _ = await conn.request("POST", path, body)
            return status == 201

        return receive

    ok, failed, elapsed = await measure.run_clients(clients, seconds, make)
    for conn in connections:
        await conn.close()
    return ok / elapsed, failed


# The statements one single-line receipt sends in the app, in its order, written out for
# the driver: the order's lock, its lines, the ledger writer's ensure/lock/write, then
# on_order, the received quantity, the lines again and the status.
_RECEIPT_STEPS = [
    "SELECT id, company_id, supplier_id, warehouse_id, status, reference, expected_at, "
    "ordered_at, created_at, updated_at FROM purchase_orders "
    "WHERE company_id = $1 AND id = $2 FOR UPDATE",
    "SELECT purchase_order_id, product_id, company_id, position, quantity, received_quantity, "
    "unit_cost FROM purchase_order_lines WHERE purchase_order_id = $1 ORDER BY position",
]


async def receipt_sql(
    conn: asyncpg.Connection, company_id: int, order_id: int, product: int, warehouse: int
) -> None:
    async with conn.transaction():
        await conn.fetchrow(_RECEIPT_STEPS[0], company_id, order_id)
        lines = await conn.fetch(_RECEIPT_STEPS[1], order_id)
        if lines[0]["quantity"] - lines[0]["received_quantity"] < 1:
            raise RuntimeError("over-receipt")
        await conn.execute(
            "INSERT INTO inventory_levels (company_id, product_id, warehouse_id) "
            "VALUES ($1, $2, $3) ON CONFLICT (product_id, warehouse_id) DO NOTHING",
            company_id,
            product,
            warehouse,
        )
        quantity = await conn.fetchval(
            "SELECT quantity FROM inventory_levels WHERE company_id = $1 AND product_id = $2 "
            "AND warehouse_id = $3 FOR UPDATE",
            company_id,
            product,
            warehouse,
        )
        await conn.fetch(
            "WITH levels AS (UPDATE inventory_levels SET quantity = $4, updated_at = now() "
            "WHERE product_id = $2 AND warehouse_id = $3) "
            "INSERT INTO ledger_entries (company_id, product_id, warehouse_id, delta, reason, "
            "reference, occurred_at, quantity_after) "
            "VALUES ($1, $2, $3, 1, 'receipt', 'bench', now(), $4) RETURNING id",
            company_id,
            product,
            warehouse,
            quantity + 1,
        )
        await conn.execute(
            "UPDATE inventory_levels SET on_order = on_order - 1 "
            "WHERE company_id = $1 AND warehouse_id = $2 AND product_id = $3",
            company_id,
            warehouse,
            product,
        )
        await conn.execute(
            "UPDATE purchase_order_lines SET received_quantity = received_quantity + 1 "
            "WHERE purchase_order_id = $1 AND product_id = $2",
            order_id,
            product,
        )
        await conn.fetch(_RECEIPT_STEPS[1], order_id)
        await conn.execute(
            "UPDATE purchase_orders SET status = 'partially_received', updated_at = now() "
            "WHERE id = $1",
            order_id,
        )


async def receipts_sql(
    pool: asyncpg.Pool,
    company_id: int,
    orders: list[tuple[int, int]],
    warehouses: dict[int, int],
    clients: int,
    seconds: float,
) -> tuple[float, int]:
    rng = random.Random(4)

    async def make(_: int) -> Callable[[], Awaitable[bool]]:
        async def receive() -> bool:
            order_id, product = rng.choice(orders)
            async with pool.acquire() as conn:
                try:
                    await receipt_sql(conn, company_id, order_id, product, warehouses[order_id])
                except (RuntimeError, asyncpg.PostgresError):
                    return False
            return True

        return receive

    ok, failed, elapsed = await measure.run_clients(clients, seconds, make)
    return ok / elapsed, failed


async def measure_purchasing(
    server: measure.Server,
    conn: asyncpg.Connection,
    db_dsn: str,
    company_id: int,
    pairs: list[tuple[int, int]],
    clients: int,
    seconds: float,
    from_alerts_runs: int = 5,
) -> dict[str, Any]:
    """Both purchasing measurements on a running server; the report's own HTTP p50 is the
    caller's to compare with."""
    samples, drafted = await from_alerts_http(server, conn, company_id, from_alerts_runs)
    supplier_id = await conn.fetchval(
        "SELECT min(id) FROM suppliers WHERE company_id = $1", company_id
    )
    pairs = pairs[:200]
    orders = await receipt_orders(conn, company_id, pairs, supplier_id)
    warehouses = {order_id: w for (order_id, _), (_, w) in zip(orders, pairs, strict=True)}
    http_rate, http_failed = await receipts_http(server, company_id, orders, clients, seconds)
    pool = await asyncpg.create_pool(
        db_dsn, min_size=clients, max_size=clients, server_settings=measure.SERVER_SETTINGS
    )
    try:
        sql_rate, sql_failed = await receipts_sql(
            pool, company_id, orders, warehouses, clients, seconds
        )
    finally:
        await pool.close()
    return {
        "from_alerts_http": measure.summary(samples),
        "from_alerts_drafts": drafted,
        "receipts": {
            "clients": clients,
            "seconds": seconds,
            "http_per_s": round(http_rate, 1),
            "sql_per_s": round(sql_rate, 1),
            "http_failed": http_failed,
            "sql_failed": sql_failed,
        },
    }
