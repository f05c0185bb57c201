"""The low-stock report's SQL: one statement, driven by the sales inside the window.

How it stays proportional to the window's sales (not to the ledger's history or the
catalog's size):
1. `window_sales` is a range scan of the partial covering index
   `ix_ledger_entries_sales_window (company_id, occurred_at) INCLUDE (product_id,
   warehouse_id, delta) WHERE reason = 'sale'`: an index-only scan that reads exactly the
   company's sale entries inside the window, however long the history is, and aggregates
   them per (product, warehouse). Component lines of bundle sales are `sale` entries of
   the components, so bundle-driven demand is counted with no extra work.
2. Only the (product, warehouse) pairs that sold are joined to their levels (primary key
   or a hash join on the company's levels), products and product types, and filtered to
   the ones below their threshold. A pair without sales can never alert, so nothing else
   of the catalog is read.
3. The supplier is chosen per alerting product only (`LATERAL ... LIMIT 1` on the
   `product_suppliers` primary key), and the warehouse name is joined last.

The plan it is meant to have (EXPLAIN (ANALYZE, BUFFERS) on the bench's L dataset, 20k
products x 20 warehouses, 5M ledger rows over 365 days, window 30 days; see
docs/benchmarks.md for the full plan and the numbers):

    Sort  (days_until_stockout, product_id, warehouse_id)
      -> Nested Loop Left Join                      -- supplier per alert
           -> Hash Join  (warehouses)
                -> Hash Join  (l.quantity < COALESCE(thresholds))
                     -> HashAggregate  (product_id, warehouse_id)   -- or Finalize/Partial
                          -> Index Only Scan using ix_ledger_entries_sales_window
                               Index Cond: company_id = $1 AND occurred_at > $2
                                           AND occurred_at <= $3
                               Heap Fetches: 0
                     -> Hash  (inventory_levels of the company JOIN products, product_types)
           -> Limit -> Sort -> Nested Loop (product_suppliers by pk, suppliers by pk)

Integer arithmetic is exact: `div()` on numeric truncates exactly (all operands are
non-negative, so truncation is floor) and ceil(a / b) is div(a + b - 1, b).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import ProductType, Warehouse

LOW_STOCK_SQL = """
WITH window_sales AS (
    SELECT e.product_id, e.warehouse_id, -sum(e.delta) AS units_sold
    FROM ledger_entries AS e
    WHERE e.company_id = CAST(:company_id AS bigint)
      AND e.reason = 'sale'
      AND e.occurred_at > CAST(:since AS timestamptz)
      AND e.occurred_at <= CAST(:now AS timestamptz)
      AND (CAST(:warehouse_id AS bigint) IS NULL OR e.warehouse_id = CAST(:warehouse_id AS bigint))
    GROUP BY e.product_id, e.warehouse_id
),
low AS (
    SELECT s.product_id, s.warehouse_id, s.units_sold,
           l.quantity AS current_stock,
           COALESCE(l.low_stock_threshold, p.low_stock_threshold, pt.low_stock_threshold,
                    CAST(:default_threshold AS integer)) AS threshold,
           p.name AS product_name, p.sku
    FROM window_sales AS s
    JOIN inventory_levels AS l
      ON l.product_id = s.product_id AND l.warehouse_id = s.warehouse_id
    JOIN products AS p ON p.id = s.product_id
    LEFT JOIN product_types AS pt ON pt.id = p.product_type_id
    WHERE l.company_id = CAST(:company_id AS bigint)
      AND p.company_id = CAST(:company_id AS bigint)
      AND p.is_active AND NOT p.is_bundle
      AND (CAST(:product_type_id AS bigint) IS NULL
           OR p.product_type_id = CAST(:product_type_id AS bigint))
      AND l.quantity < COALESCE(l.low_stock_threshold, p.low_stock_threshold,
                                pt.low_stock_threshold, CAST(:default_threshold AS integer))
)
SELECT low.product_id, low.product_name, low.sku,
       low.warehouse_id, w.name AS warehouse_name,
       low.current_stock, low.threshold, low.units_sold,
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
        low.threshold - low.current_stock
        + div(low.units_sold::numeric * COALESCE(sup.lead_time_days, 0)
              + CAST(:window_days AS integer) - 1,
              CAST(:window_days AS integer))
    ) AS quantity
) AS need
ORDER BY days_until_stockout, low.product_id, low.warehouse_id
"""

_PARAM = re.compile(r"(?<!:):([a-z_]+)")


def _positional(sql: str) -> tuple[str, list[str]]:
    """SQLAlchemy-style `:name` binds to asyncpg's `$n`, keeping `::casts`."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PARAM.sub(number, sql), names


# Run on the session's own asyncpg connection (same transaction): up to ~200k-row scans
# end in a few thousand alert rows, and SQLAlchemy's per-row processing of those cost
# more than the driver's own records.
_LOW_STOCK_POSITIONAL, _LOW_STOCK_PARAMS = _positional(LOW_STOCK_SQL)


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
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        values = report_bind_params(params)
        return await driver.fetch(  # type: ignore[no-any-return]
            _LOW_STOCK_POSITIONAL, *[values[name] for name in _LOW_STOCK_PARAMS]
        )

    async def warehouse_exists(self, company_id: int, warehouse_id: int) -> bool:
        found = await self.session.scalar(
            select(Warehouse.id).where(
                Warehouse.company_id == company_id, Warehouse.id == warehouse_id
            )
        )
        return found is not None

    async def product_type_exists(self, company_id: int, product_type_id: int) -> bool:
        found = await self.session.scalar(
            select(ProductType.id).where(
                ProductType.company_id == company_id, ProductType.id == product_type_id
            )
        )
        return found is not None
