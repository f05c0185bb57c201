"""The ledger's SQL: the only place that changes stock levels.

Every statement takes arrays (`unnest`) so a movement of 1 or 1,000 lines is the same
four prepared statements.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Creates the level rows a movement touches that do not exist yet, in (product,
# warehouse) order. Rows another open transaction is creating are waited for in that
# same order, which keeps the next statement deadlock-free.
_ENSURE_LEVELS = text(
    """
    INSERT INTO inventory_levels (company_id, product_id, warehouse_id)
    SELECT :company_id, t.p, t.w
    FROM unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
    ORDER BY t.p, t.w
    ON CONFLICT (product_id, warehouse_id) DO NOTHING
    """
)

# Locks the levels in (product, warehouse) order: two movements touching the same rows
# always queue in the same order, so they can never deadlock.
_LOCK_LEVELS = text(
    """
    SELECT l.product_id, l.warehouse_id, l.quantity
    FROM inventory_levels AS l
    JOIN unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
      ON l.product_id = t.p AND l.warehouse_id = t.w
    WHERE l.company_id = :company_id
    ORDER BY l.product_id, l.warehouse_id
    FOR UPDATE OF l
    """
)

_SET_LEVELS = text(
    """
    UPDATE inventory_levels AS l
    SET quantity = t.q, updated_at = now()
    FROM unnest(
        CAST(:products AS bigint[]), CAST(:warehouses AS bigint[]), CAST(:quantities AS bigint[])
    ) AS t(p, w, q)
    WHERE l.product_id = t.p AND l.warehouse_id = t.w
    """
)

_INSERT_ENTRIES = text(
    """
    INSERT INTO ledger_entries
        (company_id, product_id, warehouse_id, delta, reason, reference, occurred_at,
         quantity_after, bundle_id)
    SELECT :company_id, t.p, t.w, t.d, t.r, :reference, :occurred_at, t.q, t.b
    FROM unnest(
        CAST(:products AS bigint[]), CAST(:warehouses AS bigint[]), CAST(:deltas AS bigint[]),
        CAST(:reasons AS text[]), CAST(:after AS bigint[]), CAST(:bundles AS bigint[])
    ) WITH ORDINALITY AS t(p, w, d, r, q, b, n)
    ORDER BY t.n
    RETURNING id, product_id, warehouse_id, delta, reason, reference, occurred_at,
              quantity_after, bundle_id
    """
)


@dataclass(frozen=True)
class EntryLine:
    """One ledger line about to be written."""

    product_id: int
    warehouse_id: int
    delta: int
    reason: str
    bundle_id: int | None = None


@dataclass(frozen=True)
class EntryRow:
    """One ledger entry as stored."""

    id: int
    product_id: int
    warehouse_id: int
    delta: int
    reason: str
    reference: str | None
    occurred_at: datetime
    quantity_after: int
    bundle_id: int | None


Pair = tuple[int, int]


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_levels(self, company_id: int, pairs: Sequence[Pair]) -> dict[Pair, int]:
        """Create missing levels at 0 and lock them all; returns the current quantities."""
        ordered = sorted(set(pairs))
        params = {
            "company_id": company_id,
            "products": [p for p, _ in ordered],
            "warehouses": [w for _, w in ordered],
        }
        await self.session.execute(_ENSURE_LEVELS, params)
        rows = await self.session.execute(_LOCK_LEVELS, params)
        return {(r.product_id, r.warehouse_id): r.quantity for r in rows}

    async def set_levels(self, quantities: dict[Pair, int]) -> None:
        pairs = list(quantities)
        await self.session.execute(
            _SET_LEVELS,
            {
                "products": [p for p, _ in pairs],
                "warehouses": [w for _, w in pairs],
                "quantities": [quantities[pair] for pair in pairs],
            },
        )

    async def insert_entries(
        self,
        company_id: int,
        lines: Sequence[EntryLine],
        after: Sequence[int],
        occurred_at: datetime,
        reference: str | None,
    ) -> list[EntryRow]:
        rows = await self.session.execute(
            _INSERT_ENTRIES,
            {
                "company_id": company_id,
                "reference": reference,
                "occurred_at": occurred_at,
                "products": [line.product_id for line in lines],
                "warehouses": [line.warehouse_id for line in lines],
                "deltas": [line.delta for line in lines],
                "reasons": [line.reason for line in lines],
                "after": list(after),
                "bundles": [line.bundle_id for line in lines],
            },
        )
        entries = [EntryRow(**row._mapping) for row in rows]
        return sorted(entries, key=lambda e: e.id)
