"""The low-stock report, rule by rule (SPEC 'The low-stock report')."""

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from stockflow.alerts.schemas import LowStockReport
from stockflow.alerts.service import AlertService
from stockflow.core.tenancy import scope_to_company
from tests.alerts.conftest import utcnow
from tests.alerts.world import World
from tests.factories import create_company

DAY = timedelta(days=1)


def url(world: World, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/companies/{world.company_id}/alerts/low-stock" + (f"?{query}" if query else "")


async def report(client: AsyncClient, world: World, **params: Any) -> dict[str, Any]:
    r = await client.get(url(world, **params))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_spec_example_shape_and_values(client: AsyncClient, world: World) -> None:
    now = utcnow()
    wh = await world.warehouse("Main Warehouse")
    pid = await world.product("Widget A", threshold=20)
    sup = await world.supplier("Supplier Corp", "orders@suppliercorp.com")
    await world.link(pid, sup, is_primary=True, lead_time_days=7)
    await world.receive(pid, wh, 17, now - 40 * DAY)
    await world.sell(pid, wh, 12, now - 3 * DAY)

    body = await report(client, world)
    assert body == {
        "alerts": [
            {
                "product_id": pid,
                "product_name": "Widget A",
                "sku": world.products[pid].sku,
                "warehouse_id": wh,
                "warehouse_name": "Main Warehouse",
                "current_stock": 5,
                "threshold": 20,
                "days_until_stockout": 12,
                "units_sold": 12,
                "avg_daily_sales": 0.4,
                # 20 - 5 + ceil(12 * 7 / 30) = 15 + 3
                "recommended_order_quantity": 18,
                "on_order": 0,
                # today + (12 days of stock - 7 days of lead time)
                "order_by": (now + 5 * DAY).date().isoformat(),
                "supplier": {
                    "id": sup,
                    "name": "Supplier Corp",
                    "contact_email": "orders@suppliercorp.com",
                    "lead_time_days": 7,
                },
            }
        ],
        "total_alerts": 1,
    }


async def test_threshold_resolution_order(
    client: AsyncClient, world: World, isolated_app: FastAPI
) -> None:
    now = utcnow()
    wh = await world.warehouse()
    typed = await world.product_type(threshold=50)
    # current stock 30 everywhere; which threshold applies decides whether it alerts
    by_level = await world.product("level", threshold=5, type_id=typed)  # level 40 wins
    by_product = await world.product("product", threshold=31, type_id=typed)
    by_type = await world.product("type", type_id=typed)  # 50
    by_default = await world.product("default")  # settings: 10 -> no alert
    level_zero = await world.product("zero", threshold=100)  # level 0 is set: never alerts
    for pid in (by_level, by_product, by_type, by_default, level_zero):
        await world.receive(pid, wh, 31, now - 10 * DAY)
        await world.sell(pid, wh, 1, now - DAY)
    await world.level_threshold(by_level, wh, 40)
    await world.level_threshold(level_zero, wh, 0)

    got = {a["product_id"]: a["threshold"] for a in (await report(client, world))["alerts"]}
    assert got == {by_level: 40, by_product: 31, by_type: 50}

    settings = isolated_app.state.settings
    isolated_app.state.settings = settings.model_copy(update={"default_low_stock_threshold": 31})
    try:
        got = {a["product_id"]: a["threshold"] for a in (await report(client, world))["alerts"]}
    finally:
        isolated_app.state.settings = settings
    assert got == {by_level: 40, by_product: 31, by_type: 50, by_default: 31}


async def test_window_counts_only_sales_inside_it(client: AsyncClient, world: World) -> None:
    now = utcnow()
    wh = await world.warehouse()
    pid = await world.product(threshold=1000)
    await world.receive(pid, wh, 500, now - 400 * DAY)
    await world.sell(pid, wh, 100, now - 30 * DAY - timedelta(minutes=1))  # just outside
    await world.sell(pid, wh, 7, now - 30 * DAY + timedelta(minutes=1))  # just inside
    await world.sell(pid, wh, 3, now - timedelta(hours=1))
    await world.sell(pid, wh, 50, now + timedelta(minutes=4))  # future-dated: not yet sold
    # not sales: none of these count as demand
    await world.move("adjustment", [(pid, wh, -20)], now - DAY)
    wh2 = await world.warehouse("Second")
    await world.transfer(pid, wh, wh2, 10)
    await world.move("return", [(pid, wh, 2)], now - DAY)

    alerts = (await report(client, world))["alerts"]
    assert [(a["warehouse_id"], a["units_sold"], a["current_stock"]) for a in alerts] == [
        (wh, 10, 500 - 160 - 20 - 10 + 2)
    ]
    one_day = (await report(client, world, window_days=1))["alerts"]
    assert [a["units_sold"] for a in one_day] == [3]
    full_year = (await report(client, world, window_days=365))["alerts"]
    assert [a["units_sold"] for a in full_year] == [110]


async def test_window_bounds_are_exclusive_then_inclusive(
    world: World, isolated_app: FastAPI
) -> None:
    """now - window_days < occurred_at <= now, checked at the exact instants."""
    now = utcnow().replace(microsecond=0)
    wh = await world.warehouse()
    pid = await world.product(threshold=1000)
    await world.receive(pid, wh, 100, now - 100 * DAY)
    await world.sell(pid, wh, 1, now - 7 * DAY)  # on the lower bound: out
    await world.sell(pid, wh, 2, now - 7 * DAY + timedelta(microseconds=1))  # in
    await world.sell(pid, wh, 4, now)  # on the upper bound: in
    await world.sell(pid, wh, 8, now + timedelta(microseconds=1))  # after now: out
    async with isolated_app.state.sessionmaker() as session:
        await scope_to_company(session, world.company_id)
        body = await AlertService(session, 10).low_stock(world.company_id, window_days=7, now=now)
    got = LowStockReport.model_validate_json(body)
    assert [a.units_sold for a in got.alerts] == [6]


async def test_bundle_sales_drive_component_velocity(client: AsyncClient, world: World) -> None:
    now = utcnow()
    wh = await world.warehouse()
    bolt = await world.product("bolt", threshold=100)
    nut = await world.product("nut", threshold=100)
    kit = await world.product("kit", is_bundle=True, threshold=100)
    box = await world.product("box of kits", is_bundle=True)
    await world.components(kit, {bolt: 2, nut: 1})
    await world.components(box, {kit: 3, nut: 1})
    await world.receive(bolt, wh, 90, now - 20 * DAY)
    await world.receive(nut, wh, 90, now - 20 * DAY)
    await world.sell(kit, wh, 5, now - 2 * DAY)  # 10 bolts, 5 nuts
    await world.sell(box, wh, 2, now - DAY)  # 12 bolts, 6 + 2 nuts
    await world.sell(nut, wh, 1, now - DAY)

    alerts = (await report(client, world))["alerts"]
    assert {a["product_id"]: a["units_sold"] for a in alerts} == {bolt: 22, nut: 14}
    assert {a["product_id"]: a["current_stock"] for a in alerts} == {bolt: 68, nut: 76}


async def test_inactive_products_and_unsold_products_never_alert(
    client: AsyncClient, world: World
) -> None:
    now = utcnow()
    wh = await world.warehouse()
    gone = await world.product("gone", threshold=100)
    idle = await world.product("idle", threshold=100)  # low, but nothing sold
    empty = await world.product("never stocked", threshold=100)  # no level row at all
    await world.receive(gone, wh, 10, now - 5 * DAY)
    await world.sell(gone, wh, 5, now - DAY)
    await world.receive(idle, wh, 3, now - 5 * DAY)
    await world.deactivate(gone)
    assert empty  # listed nowhere
    assert await report(client, world) == {"alerts": [], "total_alerts": 0}


async def test_stockout_days_and_rounding(client: AsyncClient, world: World) -> None:
    now = utcnow()
    wh = await world.warehouse()
    empty = await world.product("sold out", threshold=10)
    slow = await world.product("slow", threshold=10)
    await world.receive(empty, wh, 3, now - 9 * DAY)
    await world.sell(empty, wh, 3, now - DAY)  # stock 0 -> 0 days
    await world.receive(slow, wh, 8, now - 9 * DAY)
    await world.sell(slow, wh, 1, now - DAY)  # 7 left, 1 sold in 8 days: 0.125/day

    alerts = (await report(client, world, window_days=8))["alerts"]
    assert [(a["product_id"], a["days_until_stockout"], a["avg_daily_sales"]) for a in alerts] == [
        (empty, 0, 0.38),  # 3 / 8 = 0.375 -> 0.38 (half up)
        (slow, 56, 0.13),  # floor(7 * 8 / 1); 0.125 -> 0.13
    ]


async def test_supplier_choice(client: AsyncClient, world: World) -> None:
    now = utcnow()
    wh = await world.warehouse()
    s1 = await world.supplier("one")
    s2 = await world.supplier("two", "two@example.com")
    s3 = await world.supplier("three")
    primary = await world.product("primary wins", threshold=10)
    shortest = await world.product("shortest lead", threshold=10)
    tie = await world.product("tie -> lowest id", threshold=10)
    unset = await world.product("no lead counts as longest", threshold=10)
    all_unset = await world.product("all unset -> lowest id", threshold=10)
    nobody = await world.product("no supplier", threshold=10)
    await world.link(primary, s1, lead_time_days=1)
    await world.link(primary, s3, is_primary=True, lead_time_days=30)
    await world.link(shortest, s1, lead_time_days=9)
    await world.link(shortest, s2, lead_time_days=3)
    await world.link(tie, s3, lead_time_days=4)
    await world.link(tie, s2, lead_time_days=4)
    await world.link(unset, s1)
    await world.link(unset, s3, lead_time_days=60)
    await world.link(all_unset, s3)
    await world.link(all_unset, s2)
    for pid in (primary, shortest, tie, unset, all_unset, nobody):
        await world.receive(pid, wh, 5, now - 9 * DAY)
        await world.sell(pid, wh, 1, now - DAY)

    alerts = {a["product_id"]: a for a in (await report(client, world))["alerts"]}
    chosen = {pid: (a["supplier"] or {}).get("id") for pid, a in alerts.items()}
    assert chosen == {
        primary: s3,
        shortest: s2,
        tie: s2,
        unset: s3,
        all_unset: s2,
        nobody: None,
    }
    assert alerts[shortest]["supplier"] == {
        "id": s2,
        "name": "two",
        "contact_email": "two@example.com",
        "lead_time_days": 3,
    }
    assert alerts[all_unset]["supplier"]["lead_time_days"] is None
    # threshold 10 - stock 4 + ceil(1 * lead / 30)
    reorder = {pid: a["recommended_order_quantity"] for pid, a in alerts.items()}
    assert reorder == {primary: 7, shortest: 7, tie: 7, unset: 8, all_unset: 6, nobody: 6}


async def test_recommended_quantity_rounds_up_to_min_order_qty(
    client: AsyncClient, world: World
) -> None:
    now = utcnow()
    wh = await world.warehouse()
    s = await world.supplier()
    moqs = [None, 1, 5, 12, 17, 100]
    products = []
    for moq in moqs:
        pid = await world.product(f"moq {moq}", threshold=20)
        await world.link(pid, s, lead_time_days=10, min_order_qty=moq)
        await world.receive(pid, wh, 13, now - 9 * DAY)
        await world.sell(pid, wh, 10, now - DAY)  # stock 3; 20 - 3 + ceil(10 * 10 / 30) = 21
        products.append(pid)
    alerts = (await report(client, world))["alerts"]
    got = {a["product_id"]: a["recommended_order_quantity"] for a in alerts}
    assert got == dict(zip(products, [21, 21, 25, 24, 34, 100], strict=True))


async def test_order_and_filters(client: AsyncClient, world: World) -> None:
    now = utcnow()
    east = await world.warehouse("East")
    west = await world.warehouse("West")
    tools = await world.product_type(threshold=100)
    a = await world.product("a", type_id=tools)
    b = await world.product("b", threshold=100)
    for pid in (a, b):
        for wh in (east, west):
            await world.receive(pid, wh, 10, now - 9 * DAY)
    await world.sell(a, east, 5, now - DAY)  # 5 left, 5 sold: 30 days
    await world.sell(a, west, 5, now - DAY)  # same days: product, then warehouse
    await world.sell(b, east, 2, now - DAY)  # 8 left, 2 sold: 120 days
    await world.sell(b, west, 9, now - DAY)  # 1 left, 9 sold: 3 days

    alerts = (await report(client, world))["alerts"]
    assert [(x["product_id"], x["warehouse_id"]) for x in alerts] == [
        (b, west),
        (a, east),
        (a, west),
        (b, east),
    ]
    only_west = await report(client, world, warehouse_id=west)
    assert [(x["product_id"], x["warehouse_id"]) for x in only_west["alerts"]] == [
        (b, west),
        (a, west),
    ]
    assert only_west["total_alerts"] == 2
    only_tools = await report(client, world, product_type_id=tools)
    assert {x["product_id"] for x in only_tools["alerts"]} == {a}


async def test_query_validation(client: AsyncClient, world: World) -> None:
    await world.warehouse()
    for params in [
        {"window_days": 0},
        {"window_days": 366},
        {"window_days": "abc"},
        {"window_days": 1.5},
        {"warehouse_id": 0},
        {"warehouse_id": "x"},
        {"warehouse_id": 2**63},
        {"product_type_id": -1},
    ]:
        r = await client.get(url(world, **params))
        assert r.status_code == 422, params
        assert r.headers["content-type"] == "application/problem+json"
    for days in (1, 365):
        assert (await client.get(url(world, window_days=days))).status_code == 200


async def test_tenancy(client: AsyncClient, client_for, world: World) -> None:  # type: ignore[no-untyped-def]
    other = await create_company(client, "Other")
    other_world = World(world.client, other["id"])
    their_wh = await other_world.warehouse()
    their_type = await other_world.product_type(5)
    mine = client_for(
        (await client.post("/api/companies", json={"name": "Mine"})).json()["api_key"]
    )
    assert (await client.get(url(world, warehouse_id=their_wh))).status_code == 404
    assert (await client.get(url(world, warehouse_id=10**12))).status_code == 404
    assert (await client.get(url(world, product_type_id=their_type))).status_code == 404
    assert (await mine.get(url(world))).status_code == 404
    assert (await client_for(None).get(url(world))).status_code == 401


async def test_other_companies_sales_never_leak(client: AsyncClient, world: World) -> None:
    now = utcnow()
    other = World(world.client, (await create_company(client, "Other"))["id"])
    their_wh = await other.warehouse()
    theirs = await other.product(threshold=100)
    await other.receive(theirs, their_wh, 10, now - 2 * DAY)
    await other.sell(theirs, their_wh, 5, now - DAY)
    assert (await report(client, world))["total_alerts"] == 0
    assert (await report(client, other))["total_alerts"] == 1
