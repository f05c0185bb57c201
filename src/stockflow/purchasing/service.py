"""Business rules of purchase orders: their life (draft -> ordered -> received, or
cancelled), receiving against them through the ledger's one write path, and drafting
them from the low-stock report.

One public method per state change (create, update, place, receive, cancel,
from_alerts), so each is the one place to record what changed: each emits
`purchase_order.updated` with the order as it is after the change, in the change's
transaction.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.alerts.service import AlertService
from stockflow.core.errors import NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import require_owned
from stockflow.events.outbox import emit, emit_many
from stockflow.ledger.repository import EntryLine
from stockflow.ledger.schemas import LedgerEntryRead
from stockflow.ledger.service import check_occurred_at
from stockflow.ledger.writer import write_entries
from stockflow.models import PurchaseOrder, PurchaseOrderLine, Supplier, Warehouse
from stockflow.models.purchasing import OPEN_STATUSES
from stockflow.purchasing.exceptions import invalid, order_not_found, over_receipt, wrong_status
from stockflow.purchasing.repository import (
    DraftLine,
    NewDraft,
    NewLine,
    OrderQuery,
    PurchasingRepository,
)
from stockflow.purchasing.schemas import (
    FromAlertsCreate,
    OrderFilters,
    OrderLineCreate,
    OrderLineRead,
    PurchaseOrderCreate,
    PurchaseOrderRead,
    PurchaseOrderUpdate,
    ReceiptCreate,
    ReceiptRead,
    SkippedAlert,
)

_SKIPPED: TypeAdapter[list[SkippedAlert]] = TypeAdapter(list[SkippedAlert])


def _draft_read(company_id: int, draft: NewDraft) -> PurchaseOrderRead:
    return PurchaseOrderRead(
        id=draft.id,
        company_id=company_id,
        supplier_id=draft.supplier_id,
        warehouse_id=draft.warehouse_id,
        status="draft",
        reference=None,
        expected_at=None,
        ordered_at=None,
        created_at=draft.created_at,
        lines=[
            OrderLineRead(product_id=p, quantity=q, received_quantity=0, unit_cost=cost)
            for p, q, cost in draft.lines
        ],
    )


def _read(
    order: PurchaseOrder | Row[Any], lines: Sequence[PurchaseOrderLine | OrderLineRead]
) -> PurchaseOrderRead:
    return PurchaseOrderRead(
        id=order.id,
        company_id=order.company_id,
        supplier_id=order.supplier_id,
        warehouse_id=order.warehouse_id,
        status=order.status,
        reference=order.reference,
        expected_at=order.expected_at,
        ordered_at=order.ordered_at,
        created_at=order.created_at,
        lines=[
            line if isinstance(line, OrderLineRead) else OrderLineRead.model_validate(line)
            for line in lines
        ],
    )


class PurchasingService:
    def __init__(self, session: AsyncSession, alerts: AlertService) -> None:
        self.session = session
        self.repo = PurchasingRepository(session)
        self.alerts = alerts

    # -- reading ---------------------------------------------------------------------

    async def get(self, company_id: int, order_id: int) -> PurchaseOrderRead:
        order = await self._get(company_id, order_id)
        return _read(order, (await self.repo.lines([order.id]))[order.id])

    async def page(
        self, company_id: int, filters: OrderFilters, params: PageParams
    ) -> Page[PurchaseOrderRead]:
        await require_owned(self.session, Supplier, company_id, filters.supplier_id)
        await require_owned(self.session, Warehouse, company_id, filters.warehouse_id)
        after = params.after()
        query = OrderQuery(filters.status, filters.supplier_id, filters.warehouse_id)
        rows = await self.repo.list_after(
            company_id, query, after[0] if after else None, params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda o: [o.id])
        lines = await self.repo.lines([o.id for o in items])
        return Page[PurchaseOrderRead](
            items=[_read(o, lines[o.id]) for o in items], next_cursor=cursor
        )

    # -- state changes ---------------------------------------------------------------

    async def create(self, company_id: int, data: PurchaseOrderCreate) -> PurchaseOrderRead:
        """A new `draft` order (drafts are not on order)."""
        await require_owned(self.session, Supplier, company_id, data.supplier_id)
        await require_owned(self.session, Warehouse, company_id, data.warehouse_id)
        lines = await self._new_lines(company_id, data.supplier_id, data.lines)
        order = await self.repo.add(
            company_id, data.supplier_id, data.warehouse_id, data.reference, data.expected_at
        )
        await self.repo.replace_lines(company_id, order.id, lines)
        return await self._updated(company_id, await self.get(company_id, order.id))

    async def update(
        self, company_id: int, order_id: int, data: PurchaseOrderUpdate
    ) -> PurchaseOrderRead:
        """Change a draft's reference, expected_at or (all of) its lines."""
        order = await self._get(company_id, order_id, lock=True)
        if order.status != "draft":
            raise wrong_status(order.id, order.status, "changed (only drafts can)")
        values = data.model_dump(exclude_unset=True, include={"reference", "expected_at"})
        if data.lines is not None:
            lines = await self._new_lines(company_id, order.supplier_id, data.lines)
            await self.repo.replace_lines(company_id, order.id, lines)
        await self.repo.update_order(order, values)
        return await self._updated(company_id, await self.get(company_id, order.id))

    async def place(self, company_id: int, order_id: int) -> PurchaseOrderRead:
        """draft -> ordered: its lines go on order in its warehouse."""
        order = await self._get(company_id, order_id, lock=True)
        if order.status != "draft":
            raise wrong_status(order.id, order.status, "ordered (only drafts can)")
        lines = (await self.repo.lines([order.id]))[order.id]
        products = [line.product_id for line in lines]
        await self.repo.lock_levels(company_id, order.warehouse_id, products, ensure=True)
        await self.repo.move_on_order(
            company_id, order.warehouse_id, {ln.product_id: ln.quantity for ln in lines}
        )
        now = datetime.now(UTC)
        values: dict[str, object] = {"status": "ordered", "ordered_at": now}
        if order.expected_at is None:
            terms = await self.repo.link_terms(company_id, order.supplier_id, products)
            lead_times = [lt for _, lt in terms.values() if lt is not None]
            if lead_times:
                values["expected_at"] = now + timedelta(days=max(lead_times))
        await self.repo.update_order(order, values)
        return await self._updated(company_id, _read(order, lines))

    async def receive(self, company_id: int, order_id: int, data: ReceiptCreate) -> ReceiptRead:
        """Receive goods against an open order: one `receipt` ledger entry per line,
        written by the ledger writer in this transaction, and the lines' received
        quantities with them. The order's row lock serialises racing receipts, so the
        outstanding quantities checked here are the ones written."""
        # The same bounds as stock movements (SPEC: "occurred_at as for movements").
        check_occurred_at(data.occurred_at)
        order = await self._get(company_id, order_id, lock=True)
        if order.status not in OPEN_STATUSES:
            raise wrong_status(order.id, order.status, "received against")
        lines = {ln.product_id: ln for ln in (await self.repo.lines([order.id]))[order.id]}
        for i, receipt in enumerate(data.lines):
            if receipt.product_id not in lines:
                raise invalid(
                    f"Product {receipt.product_id} is not on purchase order {order.id}.",
                    ["body", "lines", i, "product_id"],
                )
        for receipt in data.lines:
            line = lines[receipt.product_id]
            outstanding = line.quantity - line.received_quantity
            if receipt.quantity > outstanding:
                raise over_receipt(order.id, line.product_id, outstanding, receipt.quantity)
        entries = await write_entries(
            self.session,
            company_id,
            [
                EntryLine(r.product_id, order.warehouse_id, r.quantity, "receipt")
                for r in data.lines
            ],
            occurred_at=data.occurred_at,
            reference=data.reference or order.reference or f"PO-{order.id}",
        )
        # The writer holds these levels' locks now; on_order moves under them.
        received = {r.product_id: r.quantity for r in data.lines}
        await self.repo.receive(company_id, order.id, order.warehouse_id, received)
        after = [
            OrderLineRead(
                product_id=ln.product_id,
                quantity=ln.quantity,
                received_quantity=ln.received_quantity + received.get(ln.product_id, 0),
                unit_cost=ln.unit_cost,
            )
            for ln in lines.values()
        ]
        done = all(ln.received_quantity == ln.quantity for ln in after)
        await self.repo.set_status(order, "received" if done else "partially_received")
        return ReceiptRead(
            purchase_order=await self._updated(company_id, _read(order, after)),
            entries=[LedgerEntryRead.model_validate(e) for e in entries],
        )

    async def cancel(self, company_id: int, order_id: int) -> PurchaseOrderRead:
        """-> cancelled: what was received stays, the rest is no longer on order."""
        order = await self._get(company_id, order_id, lock=True)
        if order.status not in ("draft", *OPEN_STATUSES):
            raise wrong_status(order.id, order.status, "cancelled")
        lines = (await self.repo.lines([order.id]))[order.id]
        if order.status in OPEN_STATUSES:
            outstanding = {ln.product_id: ln.quantity - ln.received_quantity for ln in lines}
            await self.repo.lock_levels(
                company_id, order.warehouse_id, list(outstanding), ensure=False
            )
            await self.repo.move_on_order(
                company_id, order.warehouse_id, {p: -q for p, q in outstanding.items()}
            )
        await self.repo.update_order(order, {"status": "cancelled"})
        return await self._updated(company_id, _read(order, lines))

    async def from_alerts(self, company_id: int, data: FromAlertsCreate) -> bytes:
        """Draft one order per (supplier, warehouse) from the low-stock report's alerts
        that need an order, skipping those with no supplier or already on a draft.

        Returns the answer as JSON in `FromAlertsRead`'s shape: a large company drafts
        thousands of orders, and each is serialized once, for its event and the answer."""
        await self.repo.lock_company_drafting(company_id)
        alerts = await self.alerts.alerts(
            company_id,
            window_days=data.window_days,
            warehouse_id=data.warehouse_id,
            needs_order=True,
        )
        drafted = await self.repo.drafted_pairs(company_id)
        skipped: list[SkippedAlert] = []
        groups: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
        for alert in alerts:
            product_id, warehouse_id = alert["product_id"], alert["warehouse_id"]
            if alert["supplier"] is None:
                skipped.append(
                    SkippedAlert(
                        product_id=product_id, warehouse_id=warehouse_id, reason="no-supplier"
                    )
                )
            elif (product_id, warehouse_id) in drafted:
                skipped.append(
                    SkippedAlert(
                        product_id=product_id, warehouse_id=warehouse_id, reason="in-draft"
                    )
                )
            else:
                key = (alert["supplier"]["id"], warehouse_id)
                groups[key][product_id] = alert["recommended_order_quantity"]
        drafts = [
            (supplier_id, warehouse_id, [DraftLine(p, q) for p, q in sorted(products.items())])
            for (supplier_id, warehouse_id), products in sorted(groups.items())
        ]
        created = [
            _draft_read(company_id, draft).model_dump_json()
            for draft in await self.repo.add_drafts(company_id, drafts)
        ]
        await emit_many(
            self.session, company_id, [("purchase_order.updated", order) for order in created]
        )
        skipped.sort(key=lambda s: (s.product_id, s.warehouse_id))
        return b"".join(
            [
                b'{"purchase_orders":[',
                ",".join(created).encode(),
                b'],"skipped":',
                _SKIPPED.dump_json(skipped),
                b"}",
            ]
        )

    # -- helpers -----------------------------------------------------------------------

    async def _updated(self, company_id: int, order: PurchaseOrderRead) -> PurchaseOrderRead:
        await emit(self.session, company_id, "purchase_order.updated", order)
        return order

    async def _get(self, company_id: int, order_id: int, *, lock: bool = False) -> PurchaseOrder:
        order = await self.repo.get(company_id, order_id, lock=lock)
        if order is None:
            raise order_not_found(order_id)
        return order

    async def _new_lines(
        self, company_id: int, supplier_id: int, lines: Sequence[OrderLineCreate]
    ) -> list[NewLine]:
        """Checked lines with their default unit costs: an unknown or foreign product is
        404, an inactive product or a bundle 422."""
        ids = [ln.product_id for ln in lines]
        products = await self.repo.products(company_id, ids)
        for product_id in ids:
            if product_id not in products:
                raise NotFound(f"Product {product_id} not found.")
        for i, line in enumerate(lines):
            product = products[line.product_id]
            if product.is_bundle:
                raise invalid(
                    f"Product {product.id} is a bundle: order its components instead.",
                    ["body", "lines", i, "product_id"],
                )
            if not product.is_active:
                raise invalid(
                    f"Product {product.id} is inactive and cannot be ordered.",
                    ["body", "lines", i, "product_id"],
                )
        terms = await self.repo.link_terms(company_id, supplier_id, ids)
        return [
            NewLine(
                ln.product_id,
                ln.quantity,
                ln.unit_cost if ln.unit_cost is not None else _link_cost(terms, ln.product_id),
            )
            for ln in lines
        ]


def _link_cost(
    terms: dict[int, tuple[Decimal | None, int | None]], product_id: int
) -> Decimal | None:
    found = terms.get(product_id)
    return None if found is None else found[0]
