"""The low-stock report's SQL: one statement, driven by the levels that sold in the window.

How it stays proportional to the window's sales (not to the ledger's history or the
catalog's size):
1. `candidates` starts from `ix_inventory_levels_company_id_last_sold_at`: the company's
   levels whose latest sale is inside the window. `last_sold_at` is kept by the ledger
   writer in the same statement as the sale entries (a level that never sold, or not
   lately, can never alert and is never read). The few of them below their threshold
   (level, product, product type, then the default) are kept.
2. `low` sums each candidate's sales inside the window with a short range scan of the
   partial covering index `ix_ledger_entries_sales_by_level (product_id, warehouse_id,
   occurred_at) INCLUDE (delta) WHERE reason = 'sale'`: index-only, whatever the
   history's length. Component lines of bundle sales are `sale` entries of the
   components, so bundle-driven demand is counted with no extra work.
   Each candidate's `on_order` (units still expected from open purchase orders) is a
   column of the level row the scan reads anyway, kept by the purchasing transactions
   that change it (purchasing/repository.py): no order line is read, so the cost does
   not grow with the number of purchase orders.
3. The supplier is chosen per alerting product only (`LATERAL ... LIMIT 1` on the
   `product_suppliers` primary key), and the warehouse name is joined last.

The plan it is meant to have (EXPLAIN (ANALYZE, BUFFERS) on the bench's L dataset, 20k
products x 20 warehouses, 5M ledger rows over 365 days, window 30 days; see
docs/benchmarks.md for the numbers):

    Sort  (days_until_stockout, product_id, warehouse_id)              ~67 ms in all
      -> Nested Loop Left Join                          -- supplier per alert (2.1k)
           -> Hash Join  (warehouses)
                -> Nested Loop                          -- units_sold > 0
                     -> Hash Left Join  (product_types)
                          Filter: l.quantity < COALESCE(thresholds)   -- 54.5k -> 2.1k
                          -> Hash Join  (l.product_id = p.id)
                               -> Bitmap Heap Scan on inventory_levels   -- 54.6k rows
                                    -> Bitmap Index Scan on
                                         ix_inventory_levels_company_id_last_sold_at
                                         Index Cond: company_id = $1 AND last_sold_at > $2
                               -> Hash  (Seq Scan on products: the company's active,
                                         non-bundle products)
                     -> Aggregate                                   -- loops=2.1k
                          -> Index Only Scan using ix_ledger_entries_sales_by_level
                               Index Cond: product_id = l.product_id
                                 AND warehouse_id = l.warehouse_id
                                 AND occurred_at > $2 AND occurred_at <= $3
                               Heap Fetches: 0                      -- ~4 rows a loop
           -> Limit -> Sort -> Nested Loop (product_suppliers by pk, suppliers by pk)

The recommendation subtracts `on_order` before rounding up to `min_order_qty`; `order_by`
and the `needs_order` filter are derived from these columns in alerts/service.py.

Integer arithmetic is exact: `div()` on numeric truncates exactly (all operands are
non-negative, so truncation is floor) and ceil(a / b) is div(a + b - 1, b).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.database import driver_connection, to_positional

LOW_STOCK_SQL = """
WITH candidates AS (
    SELECT l.product_id, l.warehouse_id, l.quantity AS current_stock, l.on_order,
           COALESCE(l.low_stock_threshold, p.low_stock_threshold, pt.low_stock_threshold,
                    CAST(:default_threshold AS integer)) AS threshold,
           p.name AS product_name, p.sku
    FROM inventory_levels AS l
    JOIN products AS p ON p.id = l.product_id
    LEFT JOIN product_types AS pt ON pt.id = p.product_type_id
    WHERE l.company_id = CAST(:company_id AS bigint)
      AND l.last_sold_at > CAST(:since AS timestamptz)
      AND (CAST(:warehouse_id AS bigint) IS NULL OR l.warehouse_id = CAST(:warehouse_id AS bigint))
      AND p.company_id = CAST(:company_id AS bigint)
      AND p.is_active AND NOT p.is_bundle
      AND (CAST(:product_type_id AS bigint) IS NULL
           OR p.product_type_id = CAST(:product_type_id AS bigint))
      AND l.quantity < COALESCE(l.low_stock_threshold, p.low_stock_threshold,
                                pt.low_stock_threshold, CAST(:default_threshold AS integer))
),
low AS (
    SELECT c.product_id, c.warehouse_id, c.current_stock, c.on_order, c.threshold,
           c.product_name, c.sku, s.units_sold
    FROM candidates AS c
    CROSS JOIN LATERAL (
        SELECT -sum(e.delta) AS units_sold
        FROM ledger_entries AS e
        WHERE e.product_id = c.product_id AND e.warehouse_id = c.warehouse_id
          AND e.reason = 'sale'
          AND e.occurred_at > CAST(:since AS timestamptz)
          AND e.occurred_at <= CAST(:now AS timestamptz)
    ) AS s
    WHERE s.units_sold > 0
)
SELECT low.product_id, low.product_name, low.sku,
       low.warehouse_id, w.name AS warehouse_name,
       low.current_stock, low.on_order, low.threshold, low.units_sold,
       div(low.current_stock::numeric * CAST(:window_days AS integer), low.units_sold)
           AS days_until_stockout,
       round(low.units_sold::numeric / CAST(:window_days AS integer), 2) AS avg_daily_sales,
       sup.supplier_id, sup.supplier_name, sup.contact_email, sup.lead_time_days,
       CASE WHEN COALESCE(sup.min_order_qty, 1) > 1
            THEN div(need.quantity + sup.min_order_qty - 1, sup.min_order_qty)
                 * sup.min_order_qty
            ELSE need.quantity
       END AS recommended_order_quantity
FROM low
JOIN warehouses AS w ON w.id = low.warehouse_id
LEFT JOIN LATERAL (
    SELECT s.id AS supplier_id, s.name AS supplier_name, s.contact_email,
           ps.lead_time_days, ps.min_order_qty
    FROM product_suppliers AS ps
    JOIN suppliers AS s ON s.id = ps.supplier_id
    WHERE ps.product_id = low.product_id AND ps.company_id = CAST(:company_id AS bigint)
    ORDER BY ps.is_primary DESC, ps.lead_time_days ASC NULLS LAST, ps.supplier_id
    LIMIT 1
) AS sup ON true
CROSS JOIN LATERAL (
    SELECT GREATEST(
        0,
        low.threshold - low.current_stock - low.on_order
        + div(low.units_sold::numeric * COALESCE(sup.lead_time_days, 0)
              + CAST(:window_days AS integer) - 1,
              CAST(:window_days AS integer))
    ) AS quantity
) AS need
ORDER BY days_until_stockout, low.product_id, low.warehouse_id
"""

# Run on the session's own asyncpg connection (same transaction): up to ~200k-row scans
# end in a few thousand alert rows, and SQLAlchemy's per-row processing of those cost
# more than the driver's own records.
_LOW_STOCK_POSITIONAL, _LOW_STOCK_PARAMS = to_positional(LOW_STOCK_SQL)


@dataclass(frozen=True)
class ReportParams:
    company_id: int
    since: datetime
    now: datetime
    window_days: int
    default_threshold: int
    warehouse_id: int | None = None
    product_type_id: int | None = None


def report_bind_params(params: ReportParams) -> dict[str, object]:
    return {
        "company_id": params.company_id,
        "since": params.since,
        "now": params.now,
        "window_days": params.window_days,
        "default_threshold": params.default_threshold,
        "warehouse_id": params.warehouse_id,
        "product_type_id": params.product_type_id,
    }


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def low_stock(self, params: ReportParams) -> Sequence[Any]:
        """The whole report, already ordered, in one statement (asyncpg records)."""
        driver = await driver_connection(self.session)
        values = report_bind_params(params)
        # Planned for its own parameters: as a prepared statement it would switch to a
        # generic plan after five runs, which cannot see the window's bounds, misjudges
        # its size and ran ~2x slower on L. Only this statement: the rest of the
        # transaction keeps the plan cache, the foreign-key checks of every insert
        # included (re-planned per row they cost drafting orders two thirds of its time).
        await driver.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows: list[Any] = await driver.fetch(
            _LOW_STOCK_POSITIONAL, *[values[name] for name in _LOW_STOCK_PARAMS]
        )
        await driver.execute("SET LOCAL plan_cache_mode TO DEFAULT")
        return rows
