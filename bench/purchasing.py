"""Purchasing in the bench: open purchase orders in every dataset (`add_open_orders`,
called by `bench.dataset.load`), drafting orders from the report (`from-alerts`) against
the report itself, and receipts against orders over HTTP against the same statements on
asyncpg, each in alternating rounds."""

import json
import time
from datetime import UTC, datetime
from statistics import median
from typing import Any

import asyncpg
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from bench import measure, throughput
from bench.client import HttpConnection
from bench.registry import Context, Target, measurement
from bench.report import _block
from bench.stats import alternate, ratio, render, spread, summary
from bench.throughput import http_over_sql
from stockflow.core.database import to_positional
from stockflow.models import PurchaseOrder, PurchaseOrderLine
from stockflow.purchasing import repository as purchasing_repository

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
_DELETE_DRAFTS = "DELETE FROM purchase_orders WHERE company_id = $1 AND status = 'draft'"


async def _from_alerts_once(
    http: HttpConnection, conn: asyncpg.Connection, company_id: int
) -> tuple[float, int]:
    """One POST from-alerts drafting every alert's order (the drafts of the run before are
    deleted first, untimed, so every run does the whole work): ms and drafts made."""
    await conn.execute(_DELETE_DRAFTS, company_id)
    t = time.perf_counter()
    status, body = await http.request(
        "POST", f"/api/companies/{company_id}/purchase-orders/from-alerts", {}
    )
    elapsed = (time.perf_counter() - t) * 1000
    if status != 201:
        raise RuntimeError(f"from-alerts answered {status}: {body[:300]!r}")
    return elapsed, len(json.loads(body)["purchase_orders"])


@measurement(
    "from_alerts",
    title="Draft orders from the report (from-alerts) vs the report",
    targets=[Target("ratio_from_alerts_over_report", "L", "<", 3)],
    markdown=lambda by: _markdown_from_alerts(by),
    method="From-alerts: `POST …/purchase-orders/from-alerts` drafting an order for every "
    "alert (drafts of the previous run deleted first, untimed) alternating with a block of "
    "sequential report requests on one keep-alive connection; per round the ratio of the "
    "from-alerts median to the report's p50.",
)
async def from_alerts(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    report = measure.ReportHttp(ctx.server, ctx.company_id)
    http = ctx.server.connection()
    runs = max(1, plan.requests // 5)
    drafting: list[float] = []
    reports: list[float] = []
    per_round: list[float] = []
    drafts = 0
    try:
        await _block(report.once, plan.warmup)
        await _from_alerts_once(http, ctx.conn, ctx.company_id)
        with ctx.ui.step(f"{ctx.size.name}: from-alerts, {plan.rounds} rounds", plan.rounds) as adv:
            for i in range(plan.rounds):
                block: dict[str, list[float]] = {}
                for side in alternate(i, ["report", "from_alerts"]):
                    if side == "report":
                        block[side] = await _block(report.once, plan.requests)
                    else:
                        block[side] = []
                        for _ in range(runs):
                            ms, drafts = await _from_alerts_once(http, ctx.conn, ctx.company_id)
                            block[side].append(ms)
                reports += block["report"]
                drafting += block["from_alerts"]
                per_round.append(ratio(median(block["from_alerts"]), median(block["report"])))
                adv()
        alerts = report.last()["total_alerts"]
    finally:
        await ctx.conn.execute(_DELETE_DRAFTS, ctx.company_id)
        await report.close()
        await http.close()
    return {
        "alerts": alerts,
        "drafts": drafts,
        "from_alerts": summary(drafting),
        "report": summary(reports),
        "ratio_from_alerts_over_report": spread(per_round),
    }


def _markdown_from_alerts(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | alerts | drafts | from-alerts p50 / p99 ms | report p50 ms "
        "| from-alerts / report p50 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        f = r["from_alerts"]
        lines.append(
            f"| {name} | {r['alerts']:,} | {r['drafts']:,} | {f['p50_ms']} / {f['p99_ms']} | "
            f"{r['report']['p50_ms']} | {render(r['ratio_from_alerts_over_report'])} |"
        )
    return lines


# --- receipts ------------------------------------------------------------------------------
RECEIPT_PAIRS = 200
BILLION = 1_000_000_000


async def receipt_orders(
    conn: asyncpg.Connection, company_id: int, pairs: list[tuple[int, int]]
) -> dict[int, tuple[int, int]]:
    """One placed order per pair expecting a billion units (never fully received), with
    `on_order` raised as placing it does: order id -> (product, warehouse)."""
    supplier_id = await conn.fetchval(
        "SELECT min(id) FROM suppliers WHERE company_id = $1", company_id
    )
    out: dict[int, tuple[int, int]] = {}
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
                "position, quantity) VALUES ($1, $2, $3, 0, $4)",
                order_id,
                product,
                company_id,
                BILLION,
            )
            await conn.execute(
                "UPDATE inventory_levels SET on_order = on_order + $3 "
                "WHERE product_id = $1 AND warehouse_id = $2",
                product,
                warehouse,
                BILLION,
            )
            out[order_id] = (product, warehouse)
    return out


async def drop_receipt_orders(conn: asyncpg.Connection, order_ids: list[int]) -> None:
    """Take what the orders still expect off `on_order` and delete them (their lines go
    with them): the dataset is as before, plus the receipts' ledger entries."""
    async with conn.transaction():
        await conn.execute(
            """
            UPDATE inventory_levels AS l
            SET on_order = l.on_order - (ol.quantity - ol.received_quantity)
            FROM purchase_order_lines AS ol
            JOIN purchase_orders AS o ON o.id = ol.purchase_order_id
            WHERE o.id = ANY($1::bigint[])
              AND l.product_id = ol.product_id AND l.warehouse_id = o.warehouse_id
            """,
            order_ids,
        )
        await conn.execute("DELETE FROM purchase_orders WHERE id = ANY($1::bigint[])", order_ids)


def _compiled(statement: Any) -> tuple[str, list[str]]:
    """An ORM statement as the app's engine sends it on asyncpg ($n and casts), with its
    parameter names in $n order."""
    compiled = statement.compile(
        dialect=PGDialect_asyncpg(paramstyle="numeric_dollar"),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
    return compiled.string, list(compiled.positiontup or [])


# The statements one single-line receipt sends in the app (purchasing/service.py
# `receive`), in its order: the tenant scope, the order's lock and its lines (the
# repository's ORM statements, compiled as the app's engine compiles them), the ledger
# writer (ensure, lock, write, `stock.changed`, alert transitions: `measure.
# write_entries_sql`), the lines' received quantities with `on_order` (the repository's
# own text), the status, and the `purchase_order.updated` event.
_ORDER_SQL, _ORDER_PARAMS = _compiled(
    select(PurchaseOrder)
    .where(
        PurchaseOrder.company_id == bindparam("company_id"),
        PurchaseOrder.id == bindparam("order_id"),
    )
    .with_for_update()
)
# `lines([order.id])`: an IN list of one, its parameter renamed to order_id.
_LINES_SQL, _ = _compiled(
    select(PurchaseOrderLine)
    .where(PurchaseOrderLine.purchase_order_id.in_([0]))
    .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.position)
)
_LINES_PARAMS = ["order_id"]
_STATUS_SQL, _STATUS_PARAMS = _compiled(
    update(PurchaseOrder)
    .where(PurchaseOrder.id == bindparam("order_id"))
    .values(status=bindparam("status"), updated_at=func.now())
)
_RECEIVE_SQL, _RECEIVE_PARAMS = to_positional(purchasing_repository._RECEIVE.text)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def receipt_sql(
    conn: asyncpg.Connection, company_id: int, order_id: int, product: int, units: int = 1
) -> None:
    async with conn.transaction():
        await measure.scope(conn, company_id)
        values: dict[str, Any] = {"company_id": company_id, "order_id": order_id}
        order = await conn.fetchrow(_ORDER_SQL, *measure.args(_ORDER_PARAMS, values))
        if order is None or order["status"] not in ("ordered", "partially_received"):
            raise RuntimeError("not an open order")
        lines = await conn.fetch(_LINES_SQL, *measure.args(_LINES_PARAMS, values))
        line = next(ln for ln in lines if ln["product_id"] == product)
        if units > line["quantity"] - line["received_quantity"]:
            raise RuntimeError("over-receipt")
        warehouse = order["warehouse_id"]
        await measure.write_entries_sql(
            conn,
            company_id,
            [(product, warehouse, units, "receipt")],
            order["reference"] or f"PO-{order_id}",
        )
        values.update(warehouse_id=warehouse, products=[product], units=[units])
        await conn.execute(_RECEIVE_SQL, *measure.args(_RECEIVE_PARAMS, values))
        after = [
            {
                "product_id": ln["product_id"],
                "quantity": ln["quantity"],
                "received_quantity": ln["received_quantity"]
                + (units if ln["product_id"] == product else 0),
                "unit_cost": None if ln["unit_cost"] is None else str(ln["unit_cost"]),
            }
            for ln in lines
        ]
        done = all(ln["received_quantity"] == ln["quantity"] for ln in after)
        values.update(status="received" if done else "partially_received")
        await conn.execute(_STATUS_SQL, *measure.args(_STATUS_PARAMS, values))
        event = {
            "id": order_id,
            "supplier_id": order["supplier_id"],
            "warehouse_id": warehouse,
            "status": values["status"],
            "reference": order["reference"],
            "expected_at": _iso(order["expected_at"]),
            "ordered_at": _iso(order["ordered_at"]),
            "created_at": _iso(order["created_at"]),
            "updated_at": datetime.now(UTC).isoformat(),
            "lines": after,
        }
        await measure.emit_sql(conn, company_id, [("purchase_order.updated", event)])


@measurement(
    "receipts",
    title="Receipts against purchase orders, 32 concurrent clients",
    targets=[Target("ratio_http_over_sql", "L", ">=", 0.4)],
    markdown=throughput.markdown("receipts", "same transaction"),
    method="Receipts: 32 clients posting single-line receipts of 1 unit "
    "(`POST …/purchase-orders/{id}/receipts`) against 200 placed orders vs the app's "
    "statements for the same receipt (tenant setting, order lock, lines, the ledger "
    "writer's statements and events, received quantities and on_order, status, "
    "`purchase_order.updated`) in one transaction on a 32-connection asyncpg pool as the "
    "app role; alternating blocks as for writes; ratio of the rates per round.",
)
async def receipts(ctx: Context) -> dict[str, Any]:
    company_id = ctx.company_id
    orders = await receipt_orders(ctx.conn, company_id, ctx.pairs[:RECEIPT_PAIRS])
    items = [(order_id, product) for order_id, (product, _) in orders.items()]

    def receive(item: measure.Item) -> tuple[str, dict[str, Any]]:
        order_id, product = item
        path = f"/api/companies/{company_id}/purchase-orders/{order_id}/receipts"
        return path, {"lines": [{"product_id": product, "quantity": 1}]}

    async def receive_sql(conn: asyncpg.Connection, item: measure.Item) -> None:
        await receipt_sql(conn, company_id, *item)

    try:
        async with (
            measure.http_posts(ctx.server, items, ctx.plan.clients, receive, seed=3) as http,
            ctx.pool() as pool,
        ):
            sql = measure.sql_load(pool, items, ctx.plan.clients, receive_sql)
            result = await http_over_sql(ctx, "receipts", http, sql)
    finally:
        await drop_receipt_orders(ctx.conn, list(orders))
    return {**result, "orders": len(orders)}
