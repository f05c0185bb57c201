"""The ledger's SQL: the only place that changes stock levels.

Every statement takes arrays (`unnest`) so a movement of 1 or 1,000 lines is the same
four prepared statements.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import LedgerEntry, Product

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
    SELECT :company_id, t.p, t.w, t.d, t.r, CAST(:reference AS text),
           coalesce(CAST(:occurred_at AS timestamptz), now()), t.q, t.b
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


@dataclass(frozen=True)
class ProductFacts:
    """What a movement needs to know about a product."""

    id: int
    is_bundle: bool
    is_active: bool


@dataclass(frozen=True)
class EntryQuery:
    """Filters of the ledger list; None means "any"."""

    product_id: int | None = None
    warehouse_id: int | None = None
    bundle_id: int | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    descending: bool = True


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
        occurred_at: datetime | None,
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

    async def products(self, company_id: int, ids: Sequence[int]) -> dict[int, ProductFacts]:
        """The company's products among `ids` (another company's are simply absent)."""
        rows = await self.session.execute(
            select(Product.id, Product.is_bundle, Product.is_active).where(
                Product.company_id == company_id, Product.id.in_(sorted(set(ids)))
            )
        )
        return {r.id: ProductFacts(r.id, r.is_bundle, r.is_active) for r in rows}

    async def list_entries(
        self, company_id: int, query: EntryQuery, after_id: int | None, limit: int
    ) -> list[LedgerEntry]:
        """Up to `limit` entries in id order (newest first when descending), after the
        keyset position `after_id`."""
        stmt: Select[LedgerEntry] = select(LedgerEntry).where(LedgerEntry.company_id == company_id)
        if query.product_id is not None:
            stmt = stmt.where(LedgerEntry.product_id == query.product_id)
        if query.warehouse_id is not None:
            stmt = stmt.where(LedgerEntry.warehouse_id == query.warehouse_id)
        if query.bundle_id is not None:
            stmt = stmt.where(LedgerEntry.bundle_id == query.bundle_id)
        if query.reason is not None:
            stmt = stmt.where(LedgerEntry.reason == query.reason)
        if query.since is not None:
            stmt = stmt.where(LedgerEntry.occurred_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(LedgerEntry.occurred_at <= query.until)
        if query.descending:
            if after_id is not None:
                stmt = stmt.where(LedgerEntry.id < after_id)
            stmt = stmt.order_by(LedgerEntry.id.desc())
        else:
            if after_id is not None:
                stmt = stmt.where(LedgerEntry.id > after_id)
            stmt = stmt.order_by(LedgerEntry.id)
        return list(await self.session.scalars(stmt.limit(limit)))
