"""Synthetic but realistic StockFlow data, generated in memory and loaded with COPY.

What makes it look real:
- product popularity is Zipf-skewed (a few best sellers, a long tail), and so are
  warehouses (a main warehouse carries everything, small ones part of the range);
- demand is seasonal (a yearly wave, quieter weekends) with a growth trend;
- a third of the products are dormant: their sales stopped months ago (discontinued or
  seasonal lines), so many stocked products have no recent sales;
- stock is replenished like a real store does: a reorder point, a lot size, and a lead
  time during which stock keeps selling (which is how levels end up low);
- shrinkage adjustments and customer returns; some bundles whose sales write component
  `sale` lines (with `bundle_id`) exactly as the ledger does;
- 0-3 suppliers per product, some primary, some without lead time or minimum order.

Each (product, warehouse) stream is simulated in time order, so `quantity_after` is the
running level, no level ever goes negative, and every level equals its ledger sum (the
bench checks this in SQL after loading).

A twin company ("history-30d") gets the same catalog and the same last 30 days of
entries, plus one opening-balance receipt per level just before them: its report is the
same as the main company's, with 30 days of history instead of the full span.
"""

import bisect
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import asyncpg

DAY = 86_400.0
TWIN_DAYS = 30


@dataclass(frozen=True)
class Size:
    name: str
    warehouses: int
    products: int
    rows: int
    days: int


SIZES = {
    "S": Size("S", 3, 1_000, 100_000, 365),
    "M": Size("M", 10, 10_000, 1_000_000, 365),
    "L": Size("L", 20, 20_000, 5_000_000, 365),
}

# reason codes while generating; names when loading
RECEIPT, SALE, RETURN, ADJUSTMENT = 0, 1, 2, 3
REASONS = ["receipt", "sale", "return", "adjustment"]
SALE_ROW_SHARE = 0.885  # of all ledger rows, tuned so the total lands near Size.rows


@dataclass
class Dataset:
    size: Size
    now: datetime
    company_id: int = 1
    twin_company_id: int = 2
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    # for the bench's write path and N+1 baseline
    stocked_pairs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ledger_rows(self) -> int:
        return len(self.ledger)


def _seasonal_cum_weights(days: int, start: float) -> list[float]:
    """Cumulative sales intensity per hour over the span: a yearly wave, quieter
    weekends, quieter nights, 30% growth over the span."""
    weights = []
    for h in range(days * 24):
        t = start + h * 3600
        moment = datetime.fromtimestamp(t, UTC)
        yearly = 1 + 0.35 * math.sin(2 * math.pi * (moment.timetuple().tm_yday - 80) / 365)
        weekly = 0.6 if moment.weekday() >= 5 else 1.0
        daily = 1.0 if 8 <= moment.hour < 21 else 0.15
        trend = 1 + 0.3 * h / (days * 24)
        weights.append(yearly * weekly * daily * trend)
    return list(accumulate(weights))


def generate(size: Size, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    end = now.timestamp() - 60  # nothing in the (future) last minute
    start = end - size.days * DAY
    data = Dataset(size, now)
    cid = data.company_id
    created = now - timedelta(days=size.days + 1)

    # --- catalog -------------------------------------------------------------------------
    wh_ids = list(range(1, size.warehouses + 1))
    wh_weight = {w: 1 / (i + 1) ** 0.7 for i, w in enumerate(wh_ids)}
    wh_stock_share = {w: 1.0 if i == 0 else rng.uniform(0.35, 0.8) for i, w in enumerate(wh_ids)}
    type_ids = list(range(1, 13))
    type_threshold = {t: rng.choice([5, 10, 10, 15, 20, 25, 30, 50]) for t in type_ids}
    n_products = size.products
    product_ids = list(range(1, n_products + 1))
    bundles = set(rng.sample(product_ids, max(3, n_products * 3 // 100)))
    leaves = [p for p in product_ids if p not in bundles]
    inactive = set(rng.sample(leaves, n_products // 50))
    rank = leaves[:]
    rng.shuffle(rank)
    popularity = {p: 1 / (i + 1) ** 0.9 for i, p in enumerate(rank)}
    dormant_until = {
        p: end - rng.uniform(45, size.days * 0.9) * DAY
        for p in leaves
        if rng.random() < 0.33 or p in inactive
    }
    products = []
    for p in product_ids:
        threshold = rng.choice([None, None, rng.randint(5, 60)]) if rng.random() < 0.5 else None
        products.append(
            (
                p,
                cid,
                f"Product {p}",
                f"B{size.name}-{p:06d}",
                round(rng.uniform(1, 500), 2),
                rng.choice(type_ids),
                threshold,
                p in bundles,
                p not in inactive,
                created,
                created,
            )
        )
    components = []
    for b in sorted(bundles):
        for c in rng.sample(leaves, rng.randint(2, 4)):
            components.append((b, c, cid, rng.randint(1, 3)))

    n_suppliers = max(5, n_products // 50)
    suppliers = [
        (s, cid, f"Supplier {s}", rng.choice([None, f"orders@supplier{s}.example"]), None, created)
        for s in range(1, n_suppliers + 1)
    ]
    links = []
    for p in product_ids:
        k = rng.choices([0, 1, 2, 3], weights=[15, 45, 25, 15])[0]
        chosen = rng.sample(range(1, n_suppliers + 1), k)
        primary = chosen[0] if chosen and rng.random() < 0.6 else None
        for s in chosen:
            links.append(
                (
                    p,
                    s,
                    cid,
                    s == primary,
                    None if rng.random() < 0.15 else rng.randint(1, 30),
                    round(rng.uniform(0.5, 300), 2),
                    rng.choice([None, None, 1, 6, 12, 24, 50]),
                    created,
                )
            )

    pairs = [(p, w) for p in leaves for w in wh_ids if rng.random() < wh_stock_share[w]]
    data.stocked_pairs = pairs
    stocked = set(pairs)

    # --- demand --------------------------------------------------------------------------
    cum = _seasonal_cum_weights(size.days, start)
    total = cum[-1]
    pair_weight = [popularity[p] * wh_weight[w] for p, w in pairs]
    weight_sum = sum(pair_weight)
    sale_rows = size.rows * SALE_ROW_SHARE
    bundle_rows = sale_rows * 0.05
    events: dict[tuple[int, int], list[tuple[float, int, int, int | None]]] = defaultdict(list)

    def times(n: int, until: float) -> list[float]:
        limit = total if until >= end else cum[max(0, int((until - start) / 3600) - 1)]
        out = []
        for _ in range(n):
            x = rng.random() * limit
            h = bisect.bisect_left(cum, x)
            out.append(start + (h + rng.random()) * 3600)
        return out

    qty_choices = [1, 1, 1, 1, 2, 2, 3, 4, 5]
    for (p, w), weight in zip(pairs, pair_weight, strict=True):
        expected = sale_rows * 0.95 * weight / weight_sum
        n = int(expected) + (rng.random() < expected - int(expected))
        until = dormant_until.get(p, end)
        for t in times(n, until):
            events[(p, w)].append((t, SALE, -rng.choice(qty_choices), None))

    bundle_list = sorted(bundles)
    bundle_parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for b, c, _, q in components:
        bundle_parts[b].append((c, q))
    sellable = {
        b: [w for w in wh_ids if all((c, w) in stocked for c, _ in bundle_parts[b])]
        for b in bundle_list
    }
    sellable = {b: ws for b, ws in sellable.items() if ws}
    if sellable:
        b_ids = list(sellable)
        b_weights = [1 / (i + 1) for i in range(len(b_ids))]
        avg_parts = sum(len(bundle_parts[b]) for b in b_ids) / len(b_ids)
        for b in rng.choices(b_ids, weights=b_weights, k=int(bundle_rows / avg_parts)):
            w = rng.choice(sellable[b])
            t = times(1, end)[0]
            q = rng.choice([1, 1, 1, 2])
            for c, units in bundle_parts[b]:
                events[(c, w)].append((t, SALE, -q * units, b))

    # --- replenishment, shrinkage, returns; the running level ----------------------------
    ledger: list[tuple[float, int, int, int, int, int, int, int | None]] = []
    twin_cut = end - TWIN_DAYS * DAY
    twin_offset = n_products  # twin product ids: p + offset
    twin_rows: list[tuple[float, int, int, int, int, int, int, int | None]] = []
    levels = {}
    # Each level's latest sale, as the ledger writer keeps it (`last_sold_at`).
    last_sale: dict[tuple[int, int], float] = {}
    level_threshold = {pair: rng.randint(5, 80) for pair in pairs if rng.random() < 0.05}
    product_threshold = {row[0]: row[6] for row in products}
    product_type = {row[0]: row[5] for row in products}
    for p, w in pairs:
        stream = events.get((p, w), [])
        units = -sum(e[2] for e in stream)
        active_days = max(1.0, (dormant_until.get(p, end) - start) / DAY)
        rate = units / active_days
        threshold = level_threshold.get((p, w)) or product_threshold[p]
        threshold = threshold or type_threshold[product_type[p]]
        # Like a store: reorder when the level crosses the low-stock threshold (plus the
        # demand expected over the lead time), receive a lot worth weeks of demand. A level
        # is low mostly while a delivery is on its way, or when demand outran the plan.
        lead_days = rng.uniform(1, 8)
        reorder_point = max(threshold, round(rate * lead_days * rng.uniform(0.3, 1.2)))
        lot = max(threshold, 10, round(rate * rng.uniform(30, 90)))
        lead = lead_days * DAY
        extra = []
        for t, _, _, _ in stream:
            if rng.random() < 0.02:
                extra.append((min(end, t + rng.uniform(1, 10) * DAY), RETURN, 1, None))
            if rng.random() < 0.01:
                extra.append((min(end, t + rng.uniform(0, 2) * DAY), ADJUSTMENT, -1, None))
        stream = sorted(stream + extra)
        stock = 0
        t0 = start - rng.uniform(1, 5) * DAY
        out = [(t0, RECEIPT, lot + reorder_point)]
        stock = lot + reorder_point
        pending: float | None = None
        twin_opened = False
        for t, reason, d, b in stream:
            if pending is not None and pending <= t:
                stock += lot
                out.append((pending, RECEIPT, lot))
                pending = None
            if stock + d < 0:
                if reason == ADJUSTMENT:
                    continue
                # an emergency delivery: the shelf never goes below zero
                stock += lot - d
                out.append((t - 60, RECEIPT, lot - d))
                pending = None
            stock += d
            out.append((t, reason, d, b))  # type: ignore[arg-type]
            if pending is None and stock < reorder_point and t < dormant_until.get(p, end):
                pending = t + lead
        if pending is not None and pending <= end:
            stock += lot
            out.append((pending, RECEIPT, lot))
        running = 0
        twin_running = 0
        for item in out:
            t, reason, d = item[0], item[1], item[2]
            b = item[3] if len(item) > 3 else None
            running += d
            ledger.append((t, cid, p, w, d, reason, running, b))
            if reason == SALE:
                last_sale[(p, w)] = max(t, last_sale.get((p, w), t))
            if t > twin_cut:
                if not twin_opened:
                    opening = running - d
                    if opening > 0:
                        twin_rows.append(
                            (
                                twin_cut - 1,
                                2,
                                p + twin_offset,
                                w + size.warehouses,
                                opening,
                                RECEIPT,
                                opening,
                                None,
                            )
                        )
                    twin_running = opening
                    twin_opened = True
                twin_running += d
                twin_rows.append(
                    (
                        t,
                        2,
                        p + twin_offset,
                        w + size.warehouses,
                        d,
                        reason,
                        twin_running,
                        None if b is None else b + twin_offset,
                    )
                )
        if not twin_opened and running > 0:
            twin_rows.append(
                (
                    twin_cut - 1,
                    2,
                    p + twin_offset,
                    w + size.warehouses,
                    running,
                    RECEIPT,
                    running,
                    None,
                )
            )
        levels[(p, w)] = running
    ledger.extend(twin_rows)
    ledger.sort(key=lambda r: r[0])

    # --- rows to load ------------------------------------------------------------------
    level_rows = []
    for (p, w), q in levels.items():
        threshold = level_threshold.get((p, w))
        sold = last_sale.get((p, w))
        sold_at = None if sold is None else datetime.fromtimestamp(sold, UTC)
        # The twin's ledger keeps only the last TWIN_DAYS, so only a sale in them counts.
        twin_sold_at = sold_at if sold is not None and sold > twin_cut else None
        level_rows.append((p, w, cid, q, threshold, now, sold_at))
        level_rows.append(
            (p + twin_offset, w + size.warehouses, 2, q, threshold, now, twin_sold_at)
        )
    twin = _twin_catalog(
        n_products,
        size.warehouses,
        len(type_ids),
        n_suppliers,
        products,
        components,
        suppliers,
        links,
    )
    data.rows = {
        "companies": [(cid, "Bench Co", created), (2, "Bench Co (history-30d)", created)],
        "warehouses": [(w, cid, f"Warehouse {w}", f"City {w}", created) for w in wh_ids]
        + [(w + size.warehouses, 2, f"Warehouse {w}", f"City {w}", created) for w in wh_ids],
        "product_types": [(t, cid, f"Type {t}", type_threshold[t], created) for t in type_ids]
        + [(t + len(type_ids), 2, f"Type {t}", type_threshold[t], created) for t in type_ids],
        "products": products + twin["products"],
        "bundle_components": components + twin["bundle_components"],
        "suppliers": suppliers + twin["suppliers"],
        "product_suppliers": links + twin["product_suppliers"],
        "inventory_levels": level_rows,
    }
    reasons = REASONS
    data.ledger = [
        (i, c, p, w, d, reasons[r], None, datetime.fromtimestamp(t, UTC), now, q, b)
        for i, (t, c, p, w, d, r, q, b) in enumerate(ledger, start=1)
    ]
    return data


def _twin_catalog(
    n_products: int,
    n_warehouses: int,
    n_types: int,
    n_suppliers: int,
    products: list[tuple[Any, ...]],
    components: list[tuple[Any, ...]],
    suppliers: list[tuple[Any, ...]],
    links: list[tuple[Any, ...]],
) -> dict[str, list[tuple[Any, ...]]]:
    del n_warehouses
    return {
        "products": [
            (p + n_products, 2, name, f"{sku}-H30", price, t + n_types, th, b, a, c, u)
            for p, _, name, sku, price, t, th, b, a, c, u in products
        ],
        "bundle_components": [(b + n_products, c + n_products, 2, q) for b, c, _, q in components],
        "suppliers": [
            (s + n_suppliers, 2, name, email, phone, c) for s, _, name, email, phone, c in suppliers
        ],
        "product_suppliers": [
            (p + n_products, s + n_suppliers, 2, pr, lead, cost, moq, c)
            for p, s, _, pr, lead, cost, moq, c in links
        ],
    }


COLUMNS = {
    "companies": ["id", "name", "created_at"],
    "warehouses": ["id", "company_id", "name", "location", "created_at"],
    "product_types": ["id", "company_id", "name", "low_stock_threshold", "created_at"],
    "products": [
        "id",
        "company_id",
        "name",
        "sku",
        "price",
        "product_type_id",
        "low_stock_threshold",
        "is_bundle",
        "is_active",
        "created_at",
        "updated_at",
    ],
    "bundle_components": ["bundle_id", "component_id", "company_id", "quantity"],
    "suppliers": ["id", "company_id", "name", "contact_email", "contact_phone", "created_at"],
    "product_suppliers": [
        "product_id",
        "supplier_id",
        "company_id",
        "is_primary",
        "lead_time_days",
        "unit_cost",
        "min_order_qty",
        "created_at",
    ],
    "inventory_levels": [
        "product_id",
        "warehouse_id",
        "company_id",
        "quantity",
        "low_stock_threshold",
        "updated_at",
        "last_sold_at",
    ],
    "ledger_entries": [
        "id",
        "company_id",
        "product_id",
        "warehouse_id",
        "delta",
        "reason",
        "reference",
        "occurred_at",
        "recorded_at",
        "quantity_after",
        "bundle_id",
    ],
}
SEQUENCED = ["companies", "warehouses", "product_types", "products", "suppliers", "ledger_entries"]


async def load(conn: asyncpg.Connection, data: Dataset) -> None:
    """COPY everything in (secondary indexes and constraints are the caller's to defer),
    then move the id sequences past the loaded ids."""
    from decimal import Decimal

    for table, rows in data.rows.items():
        if table in ("products", "product_suppliers"):
            idx = COLUMNS[table].index("price" if table == "products" else "unit_cost")
            rows = [(*r[:idx], Decimal(str(r[idx])), *r[idx + 1 :]) for r in rows]
        await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
    chunk = 500_000
    for i in range(0, len(data.ledger), chunk):
        await conn.copy_records_to_table(
            "ledger_entries", records=data.ledger[i : i + chunk], columns=COLUMNS["ledger_entries"]
        )
    for table in SEQUENCED:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    # Open purchase orders (on_order) on the loaded levels: bench/purchasing.py; the
    # main company's last month of events: bench/events.py.
    from bench.events import add_event_history
    from bench.purchasing import add_open_orders

    await add_open_orders(conn)
    await add_event_history(conn, data.company_id)
