"""The ledger's SQL: the only place that changes stock levels.

Every statement takes arrays (`unnest`) so a movement of 1 or 1,000 lines is the same
two or three prepared statements. The write path's statements run on the session's own
asyncpg connection (`DriverStatement`, same transaction), on every sale.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.database import DriverStatement
from stockflow.models import LedgerEntry, Product

# Creates the level rows that will receive stock and do not exist yet, in (product,
# warehouse) order. Only pairs with a positive line need one: a level that only loses
# stock and does not exist holds 0, and the check before writing rejects the line.
#
# Why skipping the others cannot deadlock: a `SELECT ... FOR UPDATE` never sees, and so
# never waits on, a row another transaction inserted and has not committed. So the only
# waits are (1) this INSERT waiting on a concurrent insert of the same key, taken by
# both in sorted order, and (2) `_LOCK_LEVELS` waiting on committed rows, locked by all
# in (product, warehouse) order. Both orders are the same total order, so no cycle.
_ENSURE_LEVELS = DriverStatement(
    """
    INSERT INTO inventory_levels (company_id, product_id, warehouse_id)
    SELECT :company_id, t.p, t.w
    FROM unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
    ORDER BY t.p, t.w
    ON CONFLICT (product_id, warehouse_id) DO NOTHING
    """
)

# Locks the levels in (product, warehouse) order: two movements touching the same rows
# always queue in the same order, so they can never deadlock. `reserved` is read from the
# locked (latest) row version.
_LOCK_LEVELS = DriverStatement(
    """
    SELECT l.product_id, l.warehouse_id, l.quantity, l.reserved
    FROM inventory_levels AS l
    JOIN unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
      ON l.product_id = t.p AND l.warehouse_id = t.w
    WHERE l.company_id = :company_id
    ORDER BY l.product_id, l.warehouse_id
    FOR UPDATE OF l
    """
)

# Units that `reserved` still counts for reservations already past their expiry (stored
# `active` until the expiry job folds them): they hold nothing any more. Starts from the
# company's lapsed reservations (few, while the job keeps up), never from a level's whole
# history of lines. Run it as its own statement AFTER the levels are locked: every
# transaction that ends a hold (commit, release, expiry) locks the hold's levels, so this
# statement's snapshot agrees with the locked rows' `reserved`. Inside the locking
# statement it would not (READ COMMITTED re-reads the locked row, not the subquery).
_LAPSED_HOLDS = DriverStatement(
    """
    WITH lapsed AS MATERIALIZED (
        SELECT r.id FROM reservations AS r
        WHERE r.company_id = :company_id AND r.status = 'active' AND r.expires_at <= now()
    )
    SELECT rl.product_id, rl.warehouse_id, sum(rl.quantity)::bigint AS quantity
    FROM lapsed
    JOIN reservation_lines AS rl ON rl.reservation_id = lapsed.id
    JOIN unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[])) AS t(p, w)
      ON rl.product_id = t.p AND rl.warehouse_id = t.w
    GROUP BY rl.product_id, rl.warehouse_id
    """
)

# Ends holds on locked levels: a reservation committed, released or expired.
_END_HOLDS = DriverStatement(
    """
    UPDATE inventory_levels AS l
    SET reserved = l.reserved - t.q
    FROM unnest(
        CAST(:products AS bigint[]), CAST(:warehouses AS bigint[]), CAST(:quantities AS bigint[])
    ) AS t(p, w, q)
    WHERE l.product_id = t.p AND l.warehouse_id = t.w
    """
)

# The new levels and their entries in one round trip: a data-modifying CTE always runs
# to completion, whether or not the outer statement reads it. A level that sells moves
# its `last_sold_at` forward (never back: a back-dated sale is not the latest), in the
# same statement as the sale entries, so it always agrees with the ledger.
_WRITE = DriverStatement(
    """
    WITH levels AS (
        UPDATE inventory_levels AS l
        SET quantity = t.q, updated_at = now(),
            last_sold_at = CASE
                WHEN t.sold THEN GREATEST(
                    l.last_sold_at, coalesce(CAST(:occurred_at AS timestamptz), now()))
                ELSE l.last_sold_at
            END
        FROM unnest(
            CAST(:level_products AS bigint[]), CAST(:level_warehouses AS bigint[]),
            CAST(:level_quantities AS bigint[]), CAST(:level_sold AS boolean[])
        ) AS t(p, w, q, sold)
        WHERE l.product_id = t.p AND l.warehouse_id = t.w
    )
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


# A movement's products (with what the rules need) and warehouses, both limited to the
# company, in one round trip.
_REFERENCES = DriverStatement(
    """
    SELECT true AS is_product, id, is_bundle, is_active FROM products
    WHERE company_id = :company_id AND id = ANY(CAST(:products AS bigint[]))
    UNION ALL
    SELECT false, id, false, true FROM warehouses
    WHERE company_id = :company_id AND id = ANY(CAST(:warehouses AS bigint[]))
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
class LevelState:
    """A locked level: its quantity and the units `reserved` counts (some of which may
    belong to lapsed reservations, see `lapsed_holds`)."""

    quantity: int
    reserved: int


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

    async def lock_levels(
        self, company_id: int, pairs: Sequence[Pair], receiving: Sequence[Pair] | None = None
    ) -> dict[Pair, int]:
        """Create the missing levels among `receiving` (default: all of `pairs`) at 0 and
        lock every existing level of `pairs`; returns their current quantities (a pair
        without a level is absent)."""
        states = await self.lock_level_states(company_id, pairs, receiving)
        return {pair: state.quantity for pair, state in states.items()}

    async def lock_level_states(
        self, company_id: int, pairs: Sequence[Pair], receiving: Sequence[Pair] | None = None
    ) -> dict[Pair, LevelState]:
        """`lock_levels`, returning each locked level's quantity and `reserved`."""
        if receiving is None:
            receiving = pairs
        if receiving:
            ensure = sorted(set(receiving))
            await _ENSURE_LEVELS.fetch(
                self.session,
                {
                    "company_id": company_id,
                    "products": [p for p, _ in ensure],
                    "warehouses": [w for _, w in ensure],
                },
            )
        ordered = sorted(set(pairs))
        rows = await _LOCK_LEVELS.fetch(
            self.session,
            {
                "company_id": company_id,
                "products": [p for p, _ in ordered],
                "warehouses": [w for _, w in ordered],
            },
        )
        return {
            (r["product_id"], r["warehouse_id"]): LevelState(r["quantity"], r["reserved"])
            for r in rows
        }

    async def lapsed_holds(self, company_id: int, pairs: Sequence[Pair]) -> dict[Pair, int]:
        """Units of `reserved` on these (locked) levels that belong to reservations past
        their expiry at the transaction's time; pairs with none are absent."""
        ordered = sorted(set(pairs))
        rows = await _LAPSED_HOLDS.fetch(
            self.session,
            {
                "company_id": company_id,
                "products": [p for p, _ in ordered],
                "warehouses": [w for _, w in ordered],
            },
        )
        return {(r["product_id"], r["warehouse_id"]): r["quantity"] for r in rows}

    async def end_holds(self, holds: dict[Pair, int]) -> None:
        """Take `holds` (pair -> units) off the locked levels' `reserved`."""
        pairs = sorted(holds)
        await _END_HOLDS.fetch(
            self.session,
            {
                "products": [p for p, _ in pairs],
                "warehouses": [w for _, w in pairs],
                "quantities": [holds[pair] for pair in pairs],
            },
        )

    async def write(
        self,
        company_id: int,
        levels: dict[Pair, int],
        sold: set[Pair],
        lines: Sequence[EntryLine],
        after: Sequence[int],
        occurred_at: datetime | None,
        reference: str | None,
    ) -> list[EntryRow]:
        """Set `levels` (pair -> new quantity; `sold` ones also move their last sale) and
        insert the entries of `lines`, whose quantities after are `after`; returns the
        entries in id order."""
        pairs = list(levels)
        rows = await _WRITE.fetch(
            self.session,
            {
                "level_products": [p for p, _ in pairs],
                "level_warehouses": [w for _, w in pairs],
                "level_quantities": [levels[pair] for pair in pairs],
                "level_sold": [pair in sold for pair in pairs],
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
        entries = [EntryRow(**row) for row in rows]
        return sorted(entries, key=lambda e: e.id)

    async def references(
        self, company_id: int, product_ids: Sequence[int], warehouse_ids: Sequence[int]
    ) -> tuple[dict[int, ProductFacts], set[int]]:
        """The company's products among `product_ids` and warehouses among
        `warehouse_ids` (another company's are simply absent)."""
        rows = await _REFERENCES.fetch(
            self.session,
            {
                "company_id": company_id,
                "products": sorted(set(product_ids)),
                "warehouses": sorted(set(warehouse_ids)),
            },
        )
        products: dict[int, ProductFacts] = {}
        warehouses: set[int] = set()
        for r in rows:
            if r["is_product"]:
                products[r["id"]] = ProductFacts(r["id"], r["is_bundle"], r["is_active"])
            else:
                warehouses.add(r["id"])
        return products, warehouses

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
