"""The report against an independent Python computation of SPEC's rules, on randomized
companies: thresholds at all four levels, back-dated sales around the window's edges,
transfers, adjustments, returns, (nested) bundle sales, suppliers with and without lead
times and minimum order quantities, inactive products, filters."""

import random
from datetime import timedelta

import pytest
from httpx import AsyncClient

from tests.alerts.conftest import utcnow
from tests.alerts.world import World

DAY = timedelta(days=1)
WINDOWS = [1, 7, 30, 90, 365]


async def build(world: World, rng: random.Random) -> int:
    """A random company; returns the window the edges were placed around."""
    now = utcnow()
    window = rng.choice(WINDOWS)
    warehouses = [await world.warehouse(f"W{i}") for i in range(rng.randint(1, 3))]
    types = [await world.product_type(rng.randint(0, 40)) for _ in range(2)]
    suppliers = [
        await world.supplier(f"S{i}", rng.choice([None, f"s{i}@example.com"])) for i in range(4)
    ]
    leaves = []
    for i in range(rng.randint(4, 10)):
        pid = await world.product(
            f"P{i}",
            threshold=rng.choice([None, None, rng.randint(0, 60)]),
            type_id=rng.choice([None, *types]),
        )
        leaves.append(pid)
        linked = rng.sample(suppliers, rng.randint(0, 3))
        primary = rng.choice([None, *linked]) if linked else None
        for sup in linked:
            await world.link(
                pid,
                sup,
                is_primary=sup == primary,
                lead_time_days=rng.choice([None, 0, rng.randint(1, 45)]),
                min_order_qty=rng.choice([None, 1, rng.randint(2, 24)]),
            )
    bundles = []
    for i in range(rng.randint(0, 2)):
        bid = await world.product(f"B{i}", is_bundle=True)
        await world.components(bid, {p: rng.randint(1, 3) for p in rng.sample(leaves, 2)})
        bundles.append(bid)
    if len(bundles) == 2:
        nested = await world.product("nested", is_bundle=True)
        await world.components(nested, {bundles[0]: 2, leaves[0]: 1})
        bundles.append(nested)

    for pid in leaves:
        for wh in warehouses:
            if rng.random() < 0.8:
                await world.receive(pid, wh, rng.randint(1, 120), now - 400 * DAY)
            if rng.random() < 0.4:
                await world.level_threshold(pid, wh, rng.choice([None, rng.randint(0, 80)]))

    edges = [
        now - window * DAY - timedelta(minutes=2),  # just outside
        now - window * DAY + timedelta(minutes=2),  # just inside
        now - (window + 1) * DAY,
        now - timedelta(minutes=5),
        now + timedelta(minutes=4),  # future-dated: excluded
    ]
    for _ in range(rng.randint(30, 60)):
        dice = rng.random()
        if dice < 0.3:
            at = rng.choice(edges)
        elif dice < 0.7:
            at = now - rng.uniform(0, 2 * window) * DAY
        else:
            at = now - rng.uniform(0, 400) * DAY
        kind = rng.random()
        wh = rng.choice(warehouses)
        if kind < 0.55:
            in_stock = [p for p in leaves if world.levels.get((p, wh), 0) > 0]
            if in_stock:
                pid = rng.choice(in_stock)
                await world.sell(pid, wh, rng.randint(1, world.levels[(pid, wh)]), at)
        elif kind < 0.65 and bundles:
            bid = rng.choice(bundles)
            qty = rng.randint(1, 2)
            if _can_sell(world, bid, wh, qty):
                await world.move("sale", [(bid, wh, -qty)], at)
        elif kind < 0.75 and len(warehouses) > 1:
            pid = rng.choice(leaves)
            dst = rng.choice([w for w in warehouses if w != wh])
            if world.levels.get((pid, wh), 0) > 0:
                await world.transfer(pid, wh, dst, rng.randint(1, world.levels[(pid, wh)]))
        elif kind < 0.85:
            pid = rng.choice(leaves)
            stock = world.levels.get((pid, wh), 0)
            delta = rng.choice([-1, 1]) * rng.randint(1, 10)
            if stock + delta >= 0:
                await world.move("adjustment", [(pid, wh, delta)], at)
        elif kind < 0.9:
            await world.move("return", [(rng.choice(leaves), wh, rng.randint(1, 3))], at)
        else:
            await world.receive(rng.choice(leaves), wh, rng.randint(1, 30), at)
    await add_purchase_orders(world, rng, leaves, warehouses, suppliers)
    for pid in rng.sample(leaves, rng.randint(0, 2)):
        await world.deactivate(pid)
    return window


async def add_purchase_orders(
    world: World, rng: random.Random, leaves: list[int], warehouses: list[int], suppliers: list[int]
) -> None:
    """Orders in every state: drafts (not on order), placed, partly and fully received,
    cancelled before and after a partial receipt; products need not be linked."""
    for _ in range(rng.randint(2, 6)):
        products = rng.sample(leaves, rng.randint(1, min(3, len(leaves))))
        lines = {p: rng.randint(1, 40) for p in products}
        wh = rng.choice(warehouses)
        state = rng.choice(["draft", "ordered", "partial", "received", "cancelled", "cut"])
        oid = await world.purchase_order(rng.choice(suppliers), wh, lines, place=state != "draft")
        if state in ("partial", "cut"):
            pid = rng.choice(products)
            await world.receive_order(oid, {pid: rng.randint(1, lines[pid])})
        if state == "received":
            await world.receive_order(oid, lines)
        if state in ("cancelled", "cut"):
            await world.cancel_order(oid)


def _can_sell(world: World, bundle_id: int, wh: int, qty: int) -> bool:
    """Whether `qty` bundles can be sold (every leaf has enough stock)."""
    need: dict[int, int] = {}

    def walk(pid: int, qty: int) -> None:
        product = world.products[pid]
        if not product.is_bundle:
            need[pid] = need.get(pid, 0) + qty
        for child, q in product.components.items():
            walk(child, qty * q)

    walk(bundle_id, qty)
    return all(world.levels.get((p, wh), 0) >= q for p, q in need.items())


@pytest.mark.parametrize("seed", range(12))
async def test_report_matches_independent_computation(
    client: AsyncClient, world: World, seed: int
) -> None:
    rng = random.Random(seed)
    window = await build(world, rng)
    base = f"/api/companies/{world.company_id}/alerts/low-stock"
    queries: list[dict[str, int | bool]] = [{"window_days": window}, {}]
    queries.append({"window_days": window, "warehouse_id": rng.choice(list(world.warehouses))})
    queries.append({"window_days": rng.choice(WINDOWS), "product_type_id": min(world.types)})
    queries.append({"window_days": window, "needs_order": True})
    total_alerts = 0
    for params in queries:
        now = utcnow()
        r = await client.get(base, params=params)
        assert r.status_code == 200, r.text
        expected = world.expected_report(
            now,
            params.get("window_days", 30),
            warehouse_id=params.get("warehouse_id"),
            product_type_id=params.get("product_type_id"),
            needs_order=bool(params.get("needs_order")),
        )
        assert r.json() == expected, (seed, params)
        total_alerts += expected["total_alerts"]
    # the scenarios must actually exercise the rules
    assert any(world.sales)
    assert total_alerts > 0, seed
    assert any(o.status != "draft" for o in world.orders.values()), seed
