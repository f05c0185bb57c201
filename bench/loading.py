"""A dataset into a fresh database: generate, COPY with indexes deferred, check; and the
stocked product/warehouse pairs the write loads sell from."""

import time
from typing import Any

import asyncpg

from bench import dataset, measure
from bench.database import DeferredIndexes, dsn, fresh_database

LOADED_TABLES = ["ledger_entries", "inventory_levels", "product_suppliers", "bundle_components"]


async def prepare(
    size: dataset.Size, url: str, db_name: str
) -> tuple[str, dataset.Dataset, dict[str, Any]]:
    t = time.perf_counter()
    data = dataset.generate(size)
    generated = time.perf_counter() - t
    db_url = await fresh_database(url, db_name)
    conn = await asyncpg.connect(dsn(db_url))
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET synchronous_commit = off")
        t = time.perf_counter()
        deferred = DeferredIndexes(conn, LOADED_TABLES)
        await deferred.drop()
        await dataset.load(conn, data)
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        await deferred.restore()
        indexed = time.perf_counter() - t
        mismatched = await conn.fetchval(
            """
            SELECT count(*) FROM inventory_levels AS l
            FULL JOIN (SELECT product_id, warehouse_id, sum(delta) AS total
                       FROM ledger_entries GROUP BY product_id, warehouse_id) AS s
              ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id
            WHERE coalesce(l.quantity, 0) <> coalesce(s.total, 0)
            """
        )
        if mismatched:
            raise RuntimeError(f"{mismatched} levels differ from their ledger sums")
        stale = await conn.fetchval(
            """
            SELECT count(*) FROM inventory_levels AS l
            LEFT JOIN (SELECT product_id, warehouse_id, max(occurred_at) AS latest
                       FROM ledger_entries WHERE reason = 'sale'
                       GROUP BY product_id, warehouse_id) AS s
              ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id
            WHERE l.last_sold_at IS DISTINCT FROM s.latest
            """
        )
        if stale:
            raise RuntimeError(f"{stale} levels' last_sold_at differ from their ledgers")
        counts = {
            "ledger_rows": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 1"
            ),
            "sales_in_window": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 1 AND reason = 'sale' "
                "AND occurred_at > now() - interval '30 days'"
            ),
            "inventory_levels": await conn.fetchval(
                "SELECT count(*) FROM inventory_levels WHERE company_id = 1"
            ),
            "twin_ledger_rows": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 2"
            ),
            "server_version": await conn.fetchval("SHOW server_version"),
        }
    finally:
        await conn.close()
    info = {
        "warehouses": size.warehouses,
        "products": size.products,
        "history_days": size.days,
        **counts,
        "generate_s": round(generated, 1),
        "copy_s": round(loaded, 1),
        "index_s": round(indexed, 1),
    }
    return db_url, data, info


async def write_pairs(
    conn: asyncpg.Connection, server: measure.Server, company_id: int
) -> list[tuple[int, int]]:
    """1,000 stocked pairs of active products, topped up through the API (one receipt
    movement) so that the write runs never run out of stock."""
    rows = await conn.fetch(
        """
        SELECT l.product_id, l.warehouse_id FROM inventory_levels AS l
        JOIN products AS p ON p.id = l.product_id
        WHERE l.company_id = $1 AND p.is_active AND NOT p.is_bundle
        ORDER BY l.product_id, l.warehouse_id LIMIT 1000
        """,
        company_id,
    )
    pairs = [(r["product_id"], r["warehouse_id"]) for r in rows]
    http = server.connection()
    status, body = await http.request(
        "POST",
        f"/api/companies/{company_id}/stock-movements",
        {
            "reason": "receipt",
            "reference": "bench top-up",
            "lines": [{"product_id": p, "warehouse_id": w, "delta": 100_000} for p, w in pairs],
        },
    )
    await http.close()
    if status != 201:
        raise RuntimeError(f"top-up failed: {status} {body[:300]!r}")
    return pairs
