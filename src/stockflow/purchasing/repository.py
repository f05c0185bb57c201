"""Purchase orders' SQL, and the one place that moves `inventory_levels.on_order`.

Lock order (so purchasing can never deadlock with itself or with the ledger writer):
the purchase order row first (`FOR UPDATE`), then levels in (product, warehouse) order.
The ledger writer takes only level locks, in that same order, and never an order's, so
no transaction ever waits for an order while holding a level. A receipt's `on_order`
update touches only levels that `write_entries` has just locked in the same transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from stockflow.core.database import DriverStatement
from stockflow.models import (
    Product,
    ProductSupplier,
    PurchaseOrder,
    PurchaseOrderLine,
)

# Creates the missing levels of a placed order at 0, then locks them all in (product,
# warehouse) order, as the ledger writer does (see ledger/repository.py on why an insert
# taken in sorted order and a sorted FOR UPDATE cannot form a cycle).
_ENSURE_LEVELS = text(
    """
    INSERT INTO inventory_levels (company_id, product_id, warehouse_id)
    SELECT :company_id, p, :warehouse_id
    FROM unnest(CAST(:products AS bigint[])) AS p
    ORDER BY p
    ON CONFLICT (product_id, warehouse_id) DO NOTHING
    """
)

_LOCK_LEVELS = text(
    """
    SELECT l.product_id FROM inventory_levels AS l
    WHERE l.company_id = :company_id AND l.warehouse_id = :warehouse_id
      AND l.product_id = ANY(CAST(:products AS bigint[]))
    ORDER BY l.product_id, l.warehouse_id
    FOR UPDATE OF l
    """
)

# Adds signed amounts to `on_order`; callers hold the rows' locks already.
_MOVE_ON_ORDER = text(
    """
    UPDATE inventory_levels AS l
    SET on_order = l.on_order + t.d
    FROM unnest(CAST(:products AS bigint[]), CAST(:deltas AS bigint[])) AS t(p, d)
    WHERE l.company_id = :company_id AND l.warehouse_id = :warehouse_id
      AND l.product_id = t.p
    """
)


# A receipt's lines and the levels' on_order in one round trip (a data-modifying CTE
# always runs to completion).
_RECEIVE = text(
    """
    WITH received AS (
        UPDATE purchase_order_lines AS ol
        SET received_quantity = ol.received_quantity + t.q
        FROM unnest(CAST(:products AS bigint[]), CAST(:units AS bigint[])) AS t(p, q)
        WHERE ol.purchase_order_id = :order_id AND ol.product_id = t.p
    )
    UPDATE inventory_levels AS l
    SET on_order = l.on_order - t.q
    FROM unnest(CAST(:products AS bigint[]), CAST(:units AS bigint[])) AS t(p, q)
    WHERE l.company_id = :company_id AND l.warehouse_id = :warehouse_id AND l.product_id = t.p
    """
)


# Drafts from the report, however many (thousands on a large company): the orders, their
# lines with the supplier link's unit_cost, in one statement on the driver's connection
# (ORM objects or SQLAlchemy rows per draft cost more than the SQL). A draft is found by
# its (supplier, warehouse), unique within one call. The lines' foreign key to the new
# orders is checked at the end of the statement, when the orders exist.
_INSERT_DRAFTS = DriverStatement(
    """
    WITH orders AS (
        INSERT INTO purchase_orders (company_id, supplier_id, warehouse_id, status)
        SELECT :company_id, t.supplier_id, t.warehouse_id, 'draft'
        FROM unnest(CAST(:suppliers AS bigint[]), CAST(:warehouses AS bigint[]))
            WITH ORDINALITY AS t(supplier_id, warehouse_id, n)
        ORDER BY t.n
        RETURNING id, supplier_id, warehouse_id, created_at
    ), lines AS (
        INSERT INTO purchase_order_lines
            (purchase_order_id, company_id, product_id, position, quantity, unit_cost)
        SELECT o.id, :company_id, t.product_id, t.position, t.quantity, ps.unit_cost
        FROM unnest(
            CAST(:line_suppliers AS bigint[]), CAST(:line_warehouses AS bigint[]),
            CAST(:products AS bigint[]), CAST(:positions AS int[]), CAST(:quantities AS bigint[])
        ) AS t(supplier_id, warehouse_id, product_id, position, quantity)
        JOIN orders AS o USING (supplier_id, warehouse_id)
        LEFT JOIN product_suppliers AS ps
            ON ps.company_id = :company_id AND ps.supplier_id = t.supplier_id
            AND ps.product_id = t.product_id
        RETURNING purchase_order_id, product_id, position, quantity, unit_cost
    )
    SELECT o.id, o.supplier_id, o.warehouse_id, o.created_at,
           l.product_id, l.quantity, l.unit_cost
    FROM orders AS o JOIN lines AS l ON l.purchase_order_id = o.id
    ORDER BY o.id, l.position
    """
)


@dataclass(frozen=True)
class DraftLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class NewDraft:
    """A draft order of `add_drafts` as stored: lines with the link's unit_cost."""

    id: int
    supplier_id: int
    warehouse_id: int
    created_at: datetime
    lines: list[tuple[int, int, Decimal | None]]  # product, quantity, unit_cost


@dataclass(frozen=True)
class NewLine:
    product_id: int
    quantity: int
    unit_cost: Decimal | None


@dataclass(frozen=True)
class OrderQuery:
    status: str | None = None
    supplier_id: int | None = None
    warehouse_id: int | None = None


@dataclass(frozen=True)
class ProductState:
    id: int
    is_active: bool
    is_bundle: bool


class PurchasingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, company_id: int, order_id: int, *, lock: bool = False
    ) -> PurchaseOrder | None:
        stmt = select(PurchaseOrder).where(
            PurchaseOrder.company_id == company_id, PurchaseOrder.id == order_id
        )
        if lock:
            stmt = stmt.with_for_update()
        result = await self.session.scalars(stmt, execution_options={"populate_existing": True})
        return result.one_or_none()

    async def lines(self, order_ids: Sequence[int]) -> dict[int, list[PurchaseOrderLine]]:
        """Each order's lines in the order they were given."""
        found: dict[int, list[PurchaseOrderLine]] = {i: [] for i in order_ids}
        if not order_ids:
            return found
        rows = await self.session.scalars(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id.in_(list(order_ids)))
            .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.position),
            execution_options={"populate_existing": True},
        )
        for line in rows:
            found[line.purchase_order_id].append(line)
        return found

    async def add(
        self,
        company_id: int,
        supplier_id: int,
        warehouse_id: int,
        reference: str | None,
        expected_at: datetime | None,
    ) -> PurchaseOrder:
        order = PurchaseOrder(
            company_id=company_id,
            supplier_id=supplier_id,
            warehouse_id=warehouse_id,
            status="draft",
            reference=reference,
            expected_at=expected_at,
        )
        self.session.add(order)
        await self.session.flush()
        await self.session.refresh(order)
        return order

    async def replace_lines(self, company_id: int, order_id: int, lines: Sequence[NewLine]) -> None:
        await self.session.execute(
            delete(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order_id)
        )
        await self.session.execute(
            insert(PurchaseOrderLine),
            [
                {
                    "purchase_order_id": order_id,
                    "company_id": company_id,
                    "product_id": ln.product_id,
                    "position": i,
                    "quantity": ln.quantity,
                    "received_quantity": 0,
                    "unit_cost": ln.unit_cost,
                }
                for i, ln in enumerate(lines)
            ],
        )

    async def update_order(self, order: PurchaseOrder, values: dict[str, object]) -> PurchaseOrder:
        await self.session.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == order.id)
            .values(**values, updated_at=func.now())
        )
        await self.session.refresh(order)
        return order

    async def receive(
        self, company_id: int, order_id: int, warehouse_id: int, received: dict[int, int]
    ) -> None:
        """Add `received` (product -> units) to the order's lines and take it off the
        levels' on_order, in one statement (the caller holds the order's and the levels'
        locks)."""
        products = sorted(received)
        await self.session.execute(
            _RECEIVE,
            {
                "company_id": company_id,
                "order_id": order_id,
                "warehouse_id": warehouse_id,
                "products": products,
                "units": [received[p] for p in products],
            },
        )

    async def set_status(self, order: PurchaseOrder, status: str) -> None:
        """Store `status` without reading the order back (its other columns are unchanged)."""
        await self.session.execute(
            update(PurchaseOrder)
            .where(PurchaseOrder.id == order.id)
            .values(status=status, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        set_committed_value(order, "status", status)

    async def list_after(
        self, company_id: int, query: OrderQuery, after_id: int | None, limit: int
    ) -> list[PurchaseOrder]:
        stmt: Select[PurchaseOrder] = select(PurchaseOrder).where(
            PurchaseOrder.company_id == company_id
        )
        if query.status is not None:
            stmt = stmt.where(PurchaseOrder.status == query.status)
        if query.supplier_id is not None:
            stmt = stmt.where(PurchaseOrder.supplier_id == query.supplier_id)
        if query.warehouse_id is not None:
            stmt = stmt.where(PurchaseOrder.warehouse_id == query.warehouse_id)
        if after_id is not None:
            stmt = stmt.where(PurchaseOrder.id > after_id)
        return list(await self.session.scalars(stmt.order_by(PurchaseOrder.id).limit(limit)))

    async def products(self, company_id: int, ids: Sequence[int]) -> dict[int, ProductState]:
        rows = await self.session.execute(
            select(Product.id, Product.is_active, Product.is_bundle).where(
                Product.company_id == company_id, Product.id.in_(sorted(set(ids)))
            )
        )
        return {r.id: ProductState(r.id, r.is_active, r.is_bundle) for r in rows}

    async def link_terms(
        self, company_id: int, supplier_id: int, product_ids: Sequence[int]
    ) -> dict[int, tuple[Decimal | None, int | None]]:
        """product -> (unit_cost, lead_time_days) of the supplier's links to them."""
        rows = await self.session.execute(
            select(
                ProductSupplier.product_id,
                ProductSupplier.unit_cost,
                ProductSupplier.lead_time_days,
            ).where(
                ProductSupplier.company_id == company_id,
                ProductSupplier.supplier_id == supplier_id,
                ProductSupplier.product_id.in_(sorted(set(product_ids))),
            )
        )
        return {r.product_id: (r.unit_cost, r.lead_time_days) for r in rows}

    async def add_drafts(
        self, company_id: int, drafts: Sequence[tuple[int, int, Sequence[DraftLine]]]
    ) -> list[NewDraft]:
        """Insert draft orders (supplier, warehouse, lines) with null reference and
        expected_at, each line's unit_cost the supplier's link's (null without one); one
        statement however many there are. The drafts come back in id order."""
        if not drafts:
            return []
        lines = [(s, w, i, ln) for s, w, lns in drafts for i, ln in enumerate(lns)]
        rows = await _INSERT_DRAFTS.fetch(
            self.session,
            {
                "company_id": company_id,
                "suppliers": [supplier_id for supplier_id, _, _ in drafts],
                "warehouses": [warehouse_id for _, warehouse_id, _ in drafts],
                "line_suppliers": [s for s, _, _, _ in lines],
                "line_warehouses": [w for _, w, _, _ in lines],
                "products": [ln.product_id for _, _, _, ln in lines],
                "positions": [i for _, _, i, _ in lines],
                "quantities": [ln.quantity for _, _, _, ln in lines],
            },
        )
        created: list[NewDraft] = []
        for r in rows:
            if not created or created[-1].id != r["id"]:
                created.append(
                    NewDraft(r["id"], r["supplier_id"], r["warehouse_id"], r["created_at"], [])
                )
            created[-1].lines.append((r["product_id"], r["quantity"], r["unit_cost"]))
        return created

    async def drafted_pairs(self, company_id: int) -> set[tuple[int, int]]:
        """(product, warehouse) pairs on the company's draft orders."""
        rows = await self.session.execute(
            select(PurchaseOrderLine.product_id, PurchaseOrder.warehouse_id)
            .join(
                PurchaseOrder,
                PurchaseOrder.id == PurchaseOrderLine.purchase_order_id,
            )
            .where(PurchaseOrder.company_id == company_id, PurchaseOrder.status == "draft")
        )
        return {(r.product_id, r.warehouse_id) for r in rows}

    async def lock_company_drafting(self, company_id: int) -> None:
        """Serialise from-alerts runs of one company (transaction-scoped advisory lock),
        so two concurrent runs cannot both draft the same alert."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended('purchasing.from-alerts', :c))"),
            {"c": company_id},
        )

    async def lock_levels(
        self, company_id: int, warehouse_id: int, product_ids: Sequence[int], *, ensure: bool
    ) -> None:
        """Lock (creating them at 0 first when `ensure`) the order's levels in the
        ledger's order."""
        products = sorted(set(product_ids))
        params = {"company_id": company_id, "warehouse_id": warehouse_id, "products": products}
        if ensure:
            await self.session.execute(_ENSURE_LEVELS, params)
        await self.session.execute(_LOCK_LEVELS, params)

    async def move_on_order(
        self, company_id: int, warehouse_id: int, deltas: dict[int, int]
    ) -> None:
        """Add `deltas` (product -> signed units) to the levels' on_order; the caller holds
        the levels' locks."""
        moves = {p: d for p, d in deltas.items() if d}
        if not moves:
            return
        products = sorted(moves)
        await self.session.execute(
            _MOVE_ON_ORDER,
            {
                "company_id": company_id,
                "warehouse_id": warehouse_id,
                "products": products,
                "deltas": [moves[p] for p in products],
            },
        )
