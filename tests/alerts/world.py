"""A company's catalog and ledger built through the HTTP API, mirrored in plain Python.

`World` creates everything as a client would (warehouses, types, products, bundles,
suppliers and links, thresholds, back-dated movements, transfers) and keeps its own
record of what it asked for. `expected_report` then applies SPEC's rules to that record
with Python integers: an oracle that shares no code and no SQL with the endpoint (it
explodes bundle sales itself, from the components it set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from httpx import AsyncClient

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


@dataclass
class POrder:
    id: int
    supplier_id: int
    warehouse_id: int
    status: str
    # product -> [quantity, received_quantity]
    lines: dict[int, list[int]]


class World:
    def __init__(self, client: AsyncClient, company_id: int) -> None:
        self.client = client
        self.company_id = company_id
        self.base = f"/api/companies/{company_id}"
        self.warehouses: dict[int, str] = {}
        self.types: dict[int, int] = {}
        self.products: dict[int, PProduct] = {}
        self.suppliers: dict[int, PSupplier] = {}
        self.links: dict[int, list[PLink]] = {}
        self.level_thresholds: dict[tuple[int, int], int | None] = {}
        self.levels: dict[tuple[int, int], int] = {}
        # (product, warehouse, units, occurred_at) of every sale entry written
        self.sales: list[tuple[int, int, int, datetime]] = []
        self.orders: dict[int, POrder] = {}

    async def _send(self, method: str, path: str, body: Any, status: int = 201) -> Any:
        r = await self.client.request(method, self.base + path, json=body)
        assert r.status_code == status, (method, path, body, r.status_code, r.text)
        return r.json() if r.content else None

    # --- catalog -------------------------------------------------------------------------
    async def warehouse(self, name: str = "Main") -> int:
        wid: int = (await self._send("POST", "/warehouses", {"name": name}))["id"]
        self.warehouses[wid] = name
        return wid

    async def product_type(self, threshold: int, name: str | None = None) -> int:
        body = {"name": name or unique_sku("type"), "low_stock_threshold": threshold}
        tid: int = (await self._send("POST", "/product-types", body))["id"]
        self.types[tid] = threshold
        return tid

    async def product(
        self,
        name: str = "Widget",
        *,
        threshold: int | None = None,
        type_id: int | None = None,
        is_bundle: bool = False,
    ) -> int:
        sku = unique_sku()
        body: dict[str, Any] = {"name": name, "sku": sku, "price": "9.99", "is_bundle": is_bundle}
        if threshold is not None:
            body["low_stock_threshold"] = threshold
        if type_id is not None:
            body["product_type_id"] = type_id
        pid: int = (await self._send("POST", "/products", body))["id"]
        self.products[pid] = PProduct(pid, name, sku, threshold, type_id, is_bundle)
        return pid

    async def deactivate(self, product_id: int) -> None:
        await self._send("DELETE", f"/products/{product_id}", None, 204)
        self.products[product_id].is_active = False

    async def components(self, bundle_id: int, parts: dict[int, int]) -> None:
        body = [{"product_id": p, "quantity": q} for p, q in parts.items()]
        await self._send("PUT", f"/products/{bundle_id}/components", body, 200)
        self.products[bundle_id].components = dict(parts)

    async def supplier(self, name: str = "Supplier Corp", email: str | None = None) -> int:
        body: dict[str, Any] = {"name": name}
        if email is not None:
            body["contact_email"] = email
        sid: int = (await self._send("POST", "/suppliers", body))["id"]
        self.suppliers[sid] = PSupplier(sid, name, email)
        return sid

    async def link(
        self,
        product_id: int,
        supplier_id: int,
        *,
        is_primary: bool = False,
        lead_time_days: int | None = None,
        min_order_qty: int | None = None,
    ) -> None:
        body: dict[str, Any] = {"is_primary": is_primary}
        if lead_time_days is not None:
            body["lead_time_days"] = lead_time_days
        if min_order_qty is not None:
            body["min_order_qty"] = min_order_qty
        await self._send("PUT", f"/products/{product_id}/suppliers/{supplier_id}", body, 200)
        self.links.setdefault(product_id, []).append(
            PLink(supplier_id, is_primary, lead_time_days, min_order_qty)
        )

    async def level_threshold(self, product_id: int, warehouse_id: int, value: int | None) -> None:
        """The warehouse-level threshold (PUT .../thresholds/{product_id})."""
        path = f"/warehouses/{warehouse_id}/thresholds/{product_id}"
        await self._send("PUT", path, {"low_stock_threshold": value}, 200)
        self.level_thresholds[(product_id, warehouse_id)] = value
        self.levels.setdefault((product_id, warehouse_id), 0)

    # --- ledger --------------------------------------------------------------------------
    def _leaves(self, product_id: int, quantity: int) -> dict[int, int]:
        """A bundle's stock-holding components, per SPEC (nested bundles explode down)."""
        product = self.products[product_id]
        if not product.is_bundle:
            return {product_id: quantity}
        out: dict[int, int] = {}
        for child, units in product.components.items():
            for leaf, q in self._leaves(child, quantity * units).items():
                out[leaf] = out.get(leaf, 0) + q
        return out

    async def move(
        self, reason: str, lines: list[tuple[int, int, int]], occurred_at: datetime
    ) -> None:
        """POST a (back-dated) stock movement of (product, warehouse, delta) lines."""
        body = {
            "reason": reason,
            "occurred_at": occurred_at.isoformat(),
            "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in lines],
        }
        await self._send("POST", "/stock-movements", body)
        for product_id, warehouse_id, delta in lines:
            for leaf, units in self._leaves(product_id, delta).items():
                pair = (leaf, warehouse_id)
                self.levels[pair] = self.levels.get(pair, 0) + units
                if reason == "sale":
                    self.sales.append((leaf, warehouse_id, -units, occurred_at))

    async def receive(self, product_id: int, warehouse_id: int, qty: int, at: datetime) -> None:
        await self.move("receipt", [(product_id, warehouse_id, qty)], at)

    async def sell(self, product_id: int, warehouse_id: int, qty: int, at: datetime) -> None:
        await self.move("sale", [(product_id, warehouse_id, -qty)], at)

    async def transfer(self, product_id: int, src: int, dst: int, qty: int) -> None:
        body = {
            "product_id": product_id,
            "from_warehouse_id": src,
            "to_warehouse_id": dst,
            "quantity": qty,
        }
        await self._send("POST", "/stock-transfers", body)
        self.levels[(product_id, src)] -= qty
        self.levels[(product_id, dst)] = self.levels.get((product_id, dst), 0) + qty

    # --- purchase orders ------------------------------------------------------------------
    async def purchase_order(
        self, supplier_id: int, warehouse_id: int, lines: dict[int, int], *, place: bool = True
    ) -> int:
        """A purchase order of {product: quantity}, placed unless `place` is false."""
        body = {
            "supplier_id": supplier_id,
            "warehouse_id": warehouse_id,
            "lines": [{"product_id": p, "quantity": q} for p, q in lines.items()],
        }
        oid: int = (await self._send("POST", "/purchase-orders", body))["id"]
        self.orders[oid] = POrder(
            oid, supplier_id, warehouse_id, "draft", {p: [q, 0] for p, q in lines.items()}
        )
        if place:
            await self._send("POST", f"/purchase-orders/{oid}/order", None, 200)
            self.orders[oid].status = "ordered"
            for pid in lines:
                self.levels.setdefault((pid, warehouse_id), 0)
        return oid

    async def receive_order(self, order_id: int, lines: dict[int, int]) -> None:
        body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines.items()]}
        await self._send("POST", f"/purchase-orders/{order_id}/receipts", body)
        order = self.orders[order_id]
        for pid, qty in lines.items():
            order.lines[pid][1] += qty
            pair = (pid, order.warehouse_id)
            self.levels[pair] = self.levels.get(pair, 0) + qty
        done = all(q == r for q, r in order.lines.values())
        order.status = "received" if done else "partially_received"

    async def cancel_order(self, order_id: int) -> None:
        await self._send("POST", f"/purchase-orders/{order_id}/cancel", None, 200)
        self.orders[order_id].status = "cancelled"

    def on_order(self, product_id: int, warehouse_id: int) -> int:
        """SPEC: what `ordered` and `partially_received` orders still expect."""
        return sum(
            o.lines[product_id][0] - o.lines[product_id][1]
            for o in self.orders.values()
            if o.status in ("ordered", "partially_received")
            and o.warehouse_id == warehouse_id
            and product_id in o.lines
        )

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
        needs_order: bool = False,
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
                on_order = self.on_order(product.id, wid)
                quantity = max(0, threshold - stock - on_order + -(-units * lead // window_days))
                moq = choice[1].min_order_qty if choice else None
                if moq is not None and moq > 1:
                    quantity = -(-quantity // moq) * moq
                avg = (Decimal(units) / Decimal(window_days)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                if needs_order and quantity == 0:
                    continue
                days_left = stock * window_days // units
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
                        "on_order": on_order,
                        "order_by": (now.date() + timedelta(days=days_left - lead)).isoformat(),
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
