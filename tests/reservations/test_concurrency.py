"""Reservations under real concurrency: every request on its own pooled connection."""

import asyncio
from collections import Counter

import asyncpg
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import make_url, text

from stockflow.core.background import JobContext
from stockflow.core.tenancy import scope_to_admin
from stockflow.reservations.jobs import expire_reservations
from tests.factories import create_company
from tests.ledger.helpers import assert_ledger_explains_levels, move, product, warehouse
from tests.reservations.helpers import level, reserve, sell


async def _setup(client: AsyncClient, units: int) -> tuple[int, int, int]:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, units)])
    return company, pid, wid


async def _assert_reserved_is_sum_of_live_holds(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the app's role sees nothing outside a scope
        checked = await session.scalar(text("SELECT count(*) FROM inventory_levels"))
        assert checked, "no level was checked"
        bad = (
            await session.execute(
                text(
                    """
                    SELECT l.product_id, l.warehouse_id, l.reserved, coalesce(h.q, 0)
                    FROM inventory_levels AS l
                    LEFT JOIN (
                        SELECT rl.product_id, rl.warehouse_id, sum(rl.quantity) AS q
                        FROM reservation_lines AS rl
                        JOIN reservations AS r ON r.id = rl.reservation_id
                        WHERE r.status = 'active'
                        GROUP BY 1, 2
                    ) AS h USING (product_id, warehouse_id)
                    WHERE l.reserved <> coalesce(h.q, 0)
                    """
                )
            )
        ).all()
    assert bad == []


async def test_racing_reservations_for_the_last_units(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company, pid, wid = await _setup(client, 12)
    responses = await asyncio.gather(*[reserve(client, company, (pid, wid, 1)) for _ in range(40)])
    assert Counter(r.status_code for r in responses) == {201: 12, 409: 28}
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (12, 12, 0)
    await _assert_reserved_is_sum_of_live_holds(committed_app)


async def test_sales_racing_reservations_never_take_held_units(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company, pid, wid = await _setup(client, 20)
    assert (await reserve(client, company, (pid, wid, 8))).status_code == 201
    # 12 available; sales and reservations of 1 race for them.
    calls = [
        sell(client, company, pid, wid, 1) if i % 2 else reserve(client, company, (pid, wid, 1))
        for i in range(40)
    ]
    responses = await asyncio.gather(*calls)
    assert Counter(r.status_code for r in responses) == {201: 12, 409: 28}
    sold = sum(1 for i, r in enumerate(responses) if i % 2 and r.status_code == 201)
    lv = await level(client, company, pid, wid)
    assert lv["quantity"] == 20 - sold
    assert lv["reserved"] == 8 + (12 - sold)
    assert lv["available"] == 0
    await _assert_reserved_is_sum_of_live_holds(committed_app)
    await assert_ledger_explains_levels(committed_app)


async def test_commit_and_release_race_exactly_one_wins(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    company, pid, wid = await _setup(client, 100)
    ids = []
    for _ in range(15):
        r = await reserve(client, company, (pid, wid, 2))
        ids.append(r.json()["id"])
    base = f"/api/companies/{company}/reservations"
    calls = []
    for rid in ids:
        calls += [client.post(f"{base}/{rid}/commit"), client.post(f"{base}/{rid}/release")]
    responses = await asyncio.gather(*calls)
    committed = 0
    for i in range(0, len(responses), 2):
        pair = sorted([responses[i].status_code, responses[i + 1].status_code])
        assert pair in ([200, 409], [201, 409]), pair
        committed += responses[i].status_code == 201
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"]) == (100 - 2 * committed, 0)
    await _assert_reserved_is_sum_of_live_holds(committed_app)
    await assert_ledger_explains_levels(committed_app)


async def _blocked_on_a_lock(conn: asyncpg.Connection) -> bool:
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'stockflow' AND wait_event_type = 'Lock'"
    )
    return bool(waiting)


async def _wait_until_blocked(conn: asyncpg.Connection) -> None:
    for _ in range(200):
        if await _blocked_on_a_lock(conn):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the request never waited on the lock")


async def test_expiry_while_a_commit_is_in_flight(
    committed_app: FastAPI, committed_client: AsyncClient, database_url: str
) -> None:
    """A commit that started before the expiry and holds the reservation wins over the
    expiry job; one that arrives after the job took the reservation gets 409."""
    client = committed_client
    company, pid, wid = await _setup(client, 10)
    first = (await reserve(client, company, (pid, wid, 3), ttl_seconds=1)).json()["id"]
    second = (await reserve(client, company, (pid, wid, 4), ttl_seconds=1)).json()["id"]
    base = f"/api/companies/{company}/reservations"
    ctx = JobContext(
        committed_app.state.engine, committed_app.state.sessionmaker, committed_app.state.settings
    )
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    blocker = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)
    try:
        # The level is locked elsewhere: the commit locks its reservation, then waits.
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute(
            "SELECT 1 FROM inventory_levels WHERE product_id = $1 FOR UPDATE", pid
        )
        commit = asyncio.create_task(client.post(f"{base}/{first}/commit"))
        await _wait_until_blocked(watcher)
        await asyncio.sleep(1.1)  # both reservations are past their expiry now
        # The job skips the reservation the commit holds, takes the other one and
        # waits for the level too.
        job = asyncio.create_task(expire_reservations(ctx))
        await asyncio.sleep(0.3)
        await tx.rollback()
        response = await commit
        assert response.status_code == 201, response.text
        assert await job == 1
        late = await client.post(f"{base}/{second}/commit")
        assert late.status_code == 409
        assert late.json()["detail"].endswith("only an active reservation can be committed.")
    finally:
        await blocker.close()
        await watcher.close()
    got = (await client.get(f"{base}/{first}")).json()
    assert got["status"] == "committed"
    assert (await client.get(f"{base}/{second}")).json()["status"] == "expired"
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (7, 0, 7)
    await _assert_reserved_is_sum_of_live_holds(committed_app)
    await assert_ledger_explains_levels(committed_app)
