"""Reservations in the outbox: `reservation.updated` for create, commit, release and
expiry (the expiry job under row-level security, on the app's own role)."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.background import JobContext
from stockflow.core.settings import Settings
from stockflow.reservations.jobs import expire_reservations
from tests.events.helpers import all_events
from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse
from tests.reservations.helpers import reserve


async def _setup(client: AsyncClient, units: int = 10) -> tuple[int, int, int]:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, units)])
    return company, pid, wid


def _updates(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == "reservation.updated"]


async def test_create_commit_release_each_send_reservation_updated(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, pid, wid = await _setup(client, 50)  # stays above its threshold: no alert
    base = f"/api/companies/{company}/reservations"
    created = await reserve(client, company, (pid, wid, 4), reference="ORDER-7")
    assert created.status_code == 201, created.text
    sold = created.json()["id"]
    second = await reserve(client, company, (pid, wid, 2))
    released = second.json()["id"]
    before = await all_events(isolated_app, client, company)

    committed = await client.post(f"{base}/{sold}/commit")
    assert committed.status_code == 201, committed.text
    let_go = await client.post(f"{base}/{released}/release")
    assert let_go.status_code == 200, let_go.text
    # Rejected changes send nothing: a short reservation, a second commit.
    assert (await reserve(client, company, (pid, wid, 99))).status_code == 409
    assert (await client.post(f"{base}/{sold}/commit")).status_code == 409

    events = await all_events(isolated_app, client, company)
    assert _updates(before) == [created.json(), second.json()]
    assert created.json()["status"] == "active"
    after = events[len(before) :]
    assert [e["type"] for e in after] == [
        "stock.changed",
        "reservation.updated",
        "reservation.updated",
    ]
    stock, commit_event, release_event = (e["data"] for e in after)
    assert stock["reason"] == "sale"
    assert stock["reference"] == "ORDER-7"
    assert stock["entries"] == committed.json()["entries"]
    assert commit_event == committed.json()["reservation"]
    assert commit_event["status"] == "committed"
    assert release_event == let_go.json()
    assert release_event["status"] == "released"


async def test_expiry_job_under_rls_sends_reservation_updated_per_company(
    committed_app: FastAPI, committed_client: AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    """The job runs on the app's role (row-level security on), as in `make run`: it must
    see and fold every company's lapsed reservations and write each one's event to its
    own company."""
    client = committed_client
    shops = [await _setup(client) for _ in range(2)]
    ids = []
    for company, pid, wid in shops:
        ids.append((await reserve(client, company, (pid, wid, 3))).json()["id"])
        await reserve(client, company, (pid, wid, 1))  # stays active
    async with engine.begin() as conn:  # the owner: time passes for the first of each
        await conn.execute(
            text(
                "UPDATE reservations SET expires_at = now() - interval '1 second' "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )

    ctx = JobContext(committed_app.state.engine, committed_app.state.sessionmaker, settings)
    assert await expire_reservations(ctx) == 2
    assert await expire_reservations(ctx) == 0

    for (company, pid, wid), rid in zip(shops, ids, strict=True):
        events = _updates(await all_events(committed_app, client, company))
        assert [(e["id"], e["status"]) for e in events][-1] == (rid, "expired")
        assert {e["company_id"] for e in events} == {company}
        expired = events[-1]
        assert expired["lines"] == [{"product_id": pid, "warehouse_id": wid, "quantity": 3}]
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT id, status FROM reservations ORDER BY id"))).all()
        reserved = (
            await conn.execute(text("SELECT reserved FROM inventory_levels ORDER BY product_id"))
        ).all()
    assert {rid: status for rid, status in stored if rid in ids} == dict.fromkeys(ids, "expired")
    assert [r for (r,) in reserved] == [1, 1]
