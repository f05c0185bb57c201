"""Stateful low-stock alerts: one flag per level, opened and resolved by the ledger
writer's transaction while it holds the levels' row locks (so two concurrent sales that
both cross the threshold queue on the lock, and only the first opens the alert)."""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.database import DriverStatement
from stockflow.core.settings import get_settings
from stockflow.events.outbox import EventData, emit_many

Pair = tuple[int, int]

# The report's threshold chain and its "units sold in the last 30 days > 0" (sale deltas
# are always negative, so any sale entry in the window means units sold > 0; the level's
# last_sold_at lets most levels skip the ledger). A level flips only when its state
# changes: open when low, sold and eligible; resolve when at or above the threshold.
# Sent on the session's asyncpg connection: every stock change runs it (write path).
_TRANSITIONS = DriverStatement(
    """
    WITH state AS (
        SELECT l.product_id, l.warehouse_id, l.quantity, l.low_stock_open,
               coalesce(l.low_stock_threshold, p.low_stock_threshold,
                        pt.low_stock_threshold, :default_threshold) AS threshold,
               p.is_active AND NOT p.is_bundle AS eligible,
               l.last_sold_at > now() - interval '30 days' AND EXISTS (
                   SELECT 1 FROM ledger_entries AS e
                   WHERE e.product_id = l.product_id AND e.warehouse_id = l.warehouse_id
                     AND e.reason = 'sale'
                     AND e.occurred_at > now() - interval '30 days'
                     AND e.occurred_at <= now()
               ) AS sold
        FROM inventory_levels AS l
        JOIN unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
          ON l.product_id = t.p AND l.warehouse_id = t.w
        JOIN products AS p ON p.company_id = l.company_id AND p.id = l.product_id
        LEFT JOIN product_types AS pt
          ON pt.company_id = p.company_id AND pt.id = p.product_type_id
        WHERE l.company_id = :company_id
    ), flips AS (
        SELECT product_id, warehouse_id, quantity, threshold,
               NOT low_stock_open AS opening
        FROM state
        WHERE (NOT low_stock_open AND eligible AND sold IS TRUE AND quantity < threshold)
           OR (low_stock_open AND quantity >= threshold)
    )
    UPDATE inventory_levels AS l
    SET low_stock_open = f.opening
    FROM flips AS f
    WHERE l.product_id = f.product_id AND l.warehouse_id = f.warehouse_id
    RETURNING f.product_id, f.warehouse_id, f.quantity, f.threshold, f.opening
    """
)

# Deactivating a product resolves every open alert of its levels.
_RESOLVE_PRODUCT = text(
    """
    UPDATE inventory_levels AS l
    SET low_stock_open = false
    FROM products AS p
    LEFT JOIN product_types AS pt
      ON pt.company_id = p.company_id AND pt.id = p.product_type_id
    WHERE l.company_id = :company_id AND l.product_id = :product_id AND l.low_stock_open
      AND p.company_id = l.company_id AND p.id = l.product_id
    RETURNING l.product_id, l.warehouse_id, l.quantity,
              coalesce(l.low_stock_threshold, p.low_stock_threshold,
                       pt.low_stock_threshold, :default_threshold) AS threshold
    """
)


def _data(row: Mapping[Any, Any]) -> dict[str, int]:
    return {
        "product_id": row["product_id"],
        "warehouse_id": row["warehouse_id"],
        "current_stock": row["quantity"],
        "threshold": row["threshold"],
    }


async def update_alerts(session: AsyncSession, company_id: int, pairs: Iterable[Pair]) -> None:
    """Open or resolve the alerts of `pairs` (levels the caller has locked and moved) and
    emit `low_stock.opened` / `low_stock.resolved` for each change."""
    ordered = sorted(set(pairs))
    if not ordered:
        return
    rows = await _TRANSITIONS.fetch(
        session,
        {
            "company_id": company_id,
            "default_threshold": get_settings().default_low_stock_threshold,
            "products": [p for p, _ in ordered],
            "warehouses": [w for _, w in ordered],
        },
    )
    events: list[tuple[str, EventData]] = [
        ("low_stock.opened" if r["opening"] else "low_stock.resolved", _data(r))
        for r in sorted(rows, key=lambda r: (r["product_id"], r["warehouse_id"]))
    ]
    await emit_many(session, company_id, events)


async def resolve_product(session: AsyncSession, company_id: int, product_id: int) -> None:
    """Resolve the open alerts of a product that was just deactivated."""
    rows = await session.execute(
        _RESOLVE_PRODUCT,
        {
            "company_id": company_id,
            "product_id": product_id,
            "default_threshold": get_settings().default_low_stock_threshold,
        },
    )
    events: list[tuple[str, EventData]] = [
        ("low_stock.resolved", _data(r._mapping))
        for r in sorted(rows, key=lambda r: r.warehouse_id)
    ]
    await emit_many(session, company_id, events)
