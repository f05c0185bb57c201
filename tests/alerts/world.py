"""A company's catalog and ledger built for report tests, mirrored in plain Python.

`World` writes through the same paths the API uses (the ledger's `write_entries`, the
bundle explosion) and keeps its own record of what it wrote. `expected_report` then
applies SPEC's rules to that record with Python integers: an oracle that shares no code
and no SQL with the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.bundles.repository import BundleRepository
from stockflow.ledger.repository import EntryLine
from stockflow.ledger.writer import write_entries
from stockflow.models import (
    BundleComponent,
    InventoryLevel,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from tests.factories import unique_sku


@dataclass
class PProduct:
    id: int
    name: str
    sku: str
    threshold: int | None
    type_id: int | None
    is_bundle: bool = False
    is_active: bool = True
    components: dict[int, int] = field(default_factory=dict)


@dataclass
class PLink:
    supplier_id: int
    is_primary: bool
    lead_time_days: int | None
    min_order_qty: int | None


@dataclass
class PSupplier:
    id: int
    name: str
    contact_email: str | None


class World:
    def __init__(self, app: FastAPI, company_id: int) -> None:
        self.app = app
        self.company_id = company_id
        self.warehouses: dict[int, str] = {}
        self.types: dict[int, int] = {}
        self.products: dict[int, PProduct] = {}
        self.suppliers: dict[int, PSupplier] = {}
        self.links: dict[int, list[PLink]] = {}
        self.level_thresholds: dict[tuple[int, int], int | None] = {}
        self.levels: dict[tuple[int, int], int] = {}
        # (product, warehouse, units, occurred_at) of every sale entry written
        self.sales: list[tuple[int, int, int, datetime]] = []

    def _session(self) -> AsyncSession:
        session: AsyncSession = self.app.state.sessionmaker()
        return session

    async def _add(self, obj: Any) -> Any:
        async with self._session() as s:
            s.add(obj)
            await s.commit()
        return obj

    # --- catalog -------------------------------------------------------------------------
    async def warehouse(self, name: str = "Main") -> int:
        w = await self._add(Warehouse(company_id=self.company_id, name=name))
        self.warehouses[w.id] = name
        return int(w.id)

    async def product_type(self, threshold: int, name: str | None = None) -> int:
        t = await self._add(
            ProductType(
                company_id=self.company_id,
                name=name or unique_sku("type"),
                low_stock_threshold=threshold,
            )
        )
        self.types[t.id] = threshold
        return int(t.id)

    async def product(
        self,
        name: str = "Widget",
        *,
        threshold: int | None = None,
        type_id: int | None = None,
        is_bundle: bool = False,
    ) -> int:
        sku = unique_sku()
        p = await self._add(
            Product(
                company_id=self.company_id,
                name=name,
                sku=sku,
                price=Decimal("9.99"),
                low_stock_threshold=threshold,
                product_type_id=type_id,
                is_bundle=is_bundle,
            )
        )
        self.products[p.id] = PProduct(p.id, name, sku, threshold, type_id, is_bundle)
        return int(p.id)

    async def deactivate(self, product_id: int) -> None:
        async with self._session() as s:
            await s.execute(update(Product).where(Product.id == product_id).values(is_active=False))
            await s.commit()
        self.products[product_id].is_active = False

    async def components(self, bundle_id: int, parts: dict[int, int]) -> None:
        async with self._session() as s:
            for component_id, quantity in parts.items():
                s.add(
                    BundleComponent(
                        company_id=self.company_id,
                        bundle_id=bundle_id,
                        component_id=component_id,
                        quantity=quantity,
                    )
                )
            await s.commit()
        self.products[bundle_id].components = dict(parts)

    async def supplier(self, name: str = "Supplier Corp", email: str | None = None) -> int:
        sup = await self._add(Supplier(company_id=self.company_id, name=name, contact_email=email))
        self.suppliers[sup.id] = PSupplier(sup.id, name, email)
        return int(sup.id)

    async def link(
        self,
        product_id: int,
        supplier_id: int,
        *,
        is_primary: bool = False,
        lead_time_days: int | None = None,
        min_order_qty: int | None = None,
    ) -> None:
        await self._add(
            ProductSupplier(
                company_id=self.company_id,
                product_id=product_id,
                supplier_id=supplier_id,
                is_primary=is_primary,
                lead_time_days=lead_time_days,
                min_order_qty=min_order_qty,
            )
        )
        self.links.setdefault(product_id, []).append(
            PLink(supplier_id, is_primary, lead_time_days, min_order_qty)
        )

    async def level_threshold(self, product_id: int, warehouse_id: int, value: int | None) -> None:
        """The warehouse-level threshold (PUT .../thresholds/{product_id})."""
        async with self._session() as s:
            level = await s.get(InventoryLevel, (product_id, warehouse_id))
            if level is None:
                s.add(
                    InventoryLevel(
                        company_id=self.company_id,
                        product_id=product_id,
                        warehouse_id=warehouse_id,
                        low_stock_threshold=value,
                    )
                )
            else:
                level.low_stock_threshold = value
            await s.commit()
        self.level_thresholds[(product_id, warehouse_id)] = value
        self.levels.setdefault((product_id, warehouse_id), 0)

    # --- ledger --------------------------------------------------------------------------
    async def move(
        self, reason: str, lines: list[tuple[int, int, int]], occurred_at: datetime
    ) -> None:
        """A stock movement of (product, warehouse, delta) lines; bundle lines of a sale
        are exploded into component sale lines like the API does."""
        async with self._session() as s:
            entry_lines: list[EntryLine] = []
            for product_id, warehouse_id, delta in lines:
                if self.products[product_id].is_bundle:
                    tree = await BundleRepository(s).explode(self.company_id, [product_id])
                    for leaf, quantity in sorted(tree[product_id].items()):
                        entry_lines.append(
                            EntryLine(leaf, warehouse_id, delta * quantity, reason, product_id)
                        )
                else:
                    entry_lines.append(EntryLine(product_id, warehouse_id, delta, reason))
            await write_entries(s, self.company_id, entry_lines, occurred_at=occurred_at)
            await s.commit()
        for line in entry_lines:
            pair = (line.product_id, line.warehouse_id)
            self.levels[pair] = self.levels.get(pair, 0) + line.delta
            if reason == "sale":
                self.sales.append((line.product_id, line.warehouse_id, -line.delta, occurred_at))

    async def receive(self, product_id: int, warehouse_id: int, qty: int, at: datetime) -> None:
        await self.move("receipt", [(product_id, warehouse_id, qty)], at)

    async def sell(self, product_id: int, warehouse_id: int, qty: int, at: datetime) -> None:
        await self.move("sale", [(product_id, warehouse_id, -qty)], at)

    async def transfer(self, product_id: int, src: int, dst: int, qty: int, at: datetime) -> None:
        async with self._session() as s:
            await write_entries(
                s,
                self.company_id,
                [
                    EntryLine(product_id, src, -qty, "transfer_out"),
                    EntryLine(product_id, dst, qty, "transfer_in"),
                ],
                occurred_at=at,
            )
            await s.commit()
        self.levels[(product_id, src)] -= qty
        self.levels[(product_id, dst)] = self.levels.get((product_id, dst), 0) + qty

    # --- the oracle ----------------------------------------------------------------------
    def expected_supplier(self, product_id: int) -> tuple[PSupplier, PLink] | None:
        links = self.links.get(product_id, [])
        if not links:
            return None
        primary = [link for link in links if link.is_primary]
        if primary:
            chosen = primary[0]
        else:
            with_lead = [link for link in links if link.lead_time_days is not None]
            pool = with_lead or links
            chosen = min(pool, key=lambda link: (link.lead_time_days or 0, link.supplier_id))
        return self.suppliers[chosen.supplier_id], chosen

    def expected_report(
        self,
        now: datetime,
        window_days: int = 30,
        *,
        default_threshold: int = 10,
        warehouse_id: int | None = None,
        product_type_id: int | None = None,
    ) -> dict[str, Any]:
        since = now - timedelta(days=window_days)
        sold: dict[tuple[int, int], int] = {}
        for product_id, wid, units, at in self.sales:
            if since < at <= now:
                sold[(product_id, wid)] = sold.get((product_id, wid), 0) + units
        alerts = []
        for product in self.products.values():
            if not product.is_active or product.is_bundle:
                continue
            if product_type_id is not None and product.type_id != product_type_id:
                continue
            for wid, wname in self.warehouses.items():
                if warehouse_id is not None and wid != warehouse_id:
                    continue
                units = sold.get((product.id, wid), 0)
                stock = self.levels.get((product.id, wid), 0)
                candidates = [
                    self.level_thresholds.get((product.id, wid)),
                    product.threshold,
                    self.types.get(product.type_id) if product.type_id else None,
                    default_threshold,
                ]
                threshold = next(t for t in candidates if t is not None)
                if not (units > 0 and stock < threshold):
                    continue
                choice = self.expected_supplier(product.id)
                lead = (choice[1].lead_time_days or 0) if choice else 0
                quantity = max(0, threshold - stock + -(-units * lead // window_days))
                moq = choice[1].min_order_qty if choice else None
                if moq is not None and moq > 1:
                    quantity = -(-quantity // moq) * moq
                avg = (Decimal(units) / Decimal(window_days)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                alerts.append(
                    {
                        "product_id": product.id,
                        "product_name": product.name,
                        "sku": product.sku,
                        "warehouse_id": wid,
                        "warehouse_name": wname,
                        "current_stock": stock,
                        "threshold": threshold,
                        "days_until_stockout": stock * window_days // units,
                        "units_sold": units,
                        "avg_daily_sales": float(avg),
                        "recommended_order_quantity": quantity,
                        "supplier": None
                        if choice is None
                        else {
                            "id": choice[0].id,
                            "name": choice[0].name,
                            "contact_email": choice[0].contact_email,
                            "lead_time_days": choice[1].lead_time_days,
                        },
                    }
                )
        alerts.sort(key=lambda a: (a["days_until_stockout"], a["product_id"], a["warehouse_id"]))
        return {"alerts": alerts, "total_alerts": len(alerts)}
