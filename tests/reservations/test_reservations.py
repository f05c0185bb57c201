"""Reservations through the API: holds, availability, commit, release, expiry."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.core.background import JobContext
from stockflow.core.tenancy import scope_to_admin
from stockflow.reservations.jobs import expire_reservations
from tests.factories import create_company
from tests.ledger.helpers import assert_ledger_explains_levels, bundle, move, product, warehouse
from tests.reservations.helpers import level, reserve, sell

INSUFFICIENT = "urn:stockflow:problem:insufficient-stock"


async def _setup(client: AsyncClient, units: int = 10) -> tuple[int, int, int]:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, units)])
    return company, pid, wid


async def _lapse(app: FastAPI, reservation_id: int) -> None:
    """Let time pass for one reservation: its expiry moves into the past."""
    async with app.state.sessionmaker() as session:
        await scope_to_admin(session)
        lapsed = await session.scalar(
            text(
                "UPDATE reservations SET expires_at = now() - interval '1 second' "
                "WHERE id = :i RETURNING id"
            ),
            {"i": reservation_id},
        )
        assert lapsed == reservation_id
        await session.commit()


async def test_reserve_holds_units_and_sales_take_only_available(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    r = await reserve(client, company, (pid, wid, 7), reference="ORDER-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "active"
    assert body["reference"] == "ORDER-1"
    assert body["lines"] == [{"product_id": pid, "warehouse_id": wid, "quantity": 7}]
    assert body["expires_at"] > body["created_at"]
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (10, 7, 3)

    held = await sell(client, company, pid, wid, 4)
    assert held.status_code == 409
    assert held.json()["type"] == INSUFFICIENT
    transfer = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json={
            "product_id": pid,
            "from_warehouse_id": wid,
            "to_warehouse_id": await warehouse(client, company, "Annex"),
            "quantity": 4,
        },
    )
    assert transfer.status_code == 409
    assert transfer.json()["type"] == INSUFFICIENT
    assert (await sell(client, company, pid, wid, 3)).status_code == 201
    second = await reserve(client, company, (pid, wid, 1))
    assert second.status_code == 409
    assert second.json()["type"] == INSUFFICIENT
    # An adjustment takes any units: physical counts win.
    await move(client, company, "adjustment", [(pid, wid, -5)])
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (2, 7, 0)


async def test_reservation_is_all_or_nothing(client: AsyncClient) -> None:
    company, a, wid = await _setup(client)
    b = await product(client, company)
    await move(client, company, "receipt", [(b, wid, 2)])
    r = await reserve(client, company, (a, wid, 5), (b, wid, 3))
    assert r.status_code == 409
    assert (await level(client, company, a, wid))["reserved"] == 0
    listed = await client.get(f"/api/companies/{company}/reservations")
    assert listed.json()["items"] == []


async def test_commit_sells_the_held_units(client: AsyncClient, isolated_app: FastAPI) -> None:
    company, pid, wid = await _setup(client)
    rid = (await reserve(client, company, (pid, wid, 4))).json()["id"]
    other = (await reserve(client, company, (pid, wid, 6))).json()["id"]
    r = await client.post(f"/api/companies/{company}/reservations/{rid}/commit")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reservation"]["status"] == "committed"
    [entry] = body["entries"]
    assert (entry["delta"], entry["reason"], entry["reference"]) == (-4, "sale", f"RES-{rid}")
    assert entry["quantity_after"] == 6
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (6, 6, 0)
    again = await client.post(f"/api/companies/{company}/reservations/{rid}/commit")
    assert again.status_code == 409
    assert (
        await client.post(f"/api/companies/{company}/reservations/{rid}/release")
    ).status_code == 409
    got = await client.get(f"/api/companies/{company}/reservations/{rid}")
    assert got.json()["status"] == "committed"
    # The other reservation's hold is untouched and still commits.
    assert (
        await client.post(f"/api/companies/{company}/reservations/{other}/commit")
    ).status_code == 201
    await assert_ledger_explains_levels(isolated_app)


async def test_commit_needs_only_on_hand_stock(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    first = (await reserve(client, company, (pid, wid, 6))).json()["id"]
    second = (await reserve(client, company, (pid, wid, 4))).json()["id"]
    await move(client, company, "adjustment", [(pid, wid, -5)])  # 5 on hand, 10 held
    ok = await client.post(f"/api/companies/{company}/reservations/{second}/commit")
    assert ok.status_code == 201, ok.text
    short = await client.post(f"/api/companies/{company}/reservations/{first}/commit")
    assert short.status_code == 409
    assert short.json()["type"] == INSUFFICIENT
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (1, 6, 0)
    got = await client.get(f"/api/companies/{company}/reservations/{first}")
    assert got.json()["status"] == "active"


async def test_release_returns_the_units(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    rid = (await reserve(client, company, (pid, wid, 10))).json()["id"]
    r = await client.post(f"/api/companies/{company}/reservations/{rid}/release")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released"
    lv = await level(client, company, pid, wid)
    assert (lv["reserved"], lv["available"]) == (0, 10)
    assert (
        await client.post(f"/api/companies/{company}/reservations/{rid}/commit")
    ).status_code == 409


async def test_expiry_is_exact_before_the_job_runs(
    client: AsyncClient, isolated_app: FastAPI
) -> None:
    company, pid, wid = await _setup(client)
    rid = (await reserve(client, company, (pid, wid, 10))).json()["id"]
    assert (await sell(client, company, pid, wid, 1)).status_code == 409
    await _lapse(isolated_app, rid)
    got = await client.get(f"/api/companies/{company}/reservations/{rid}")
    assert got.json()["status"] == "expired"
    lv = await level(client, company, pid, wid)
    assert (lv["reserved"], lv["available"]) == (0, 10)
    assert (
        await client.post(f"/api/companies/{company}/reservations/{rid}/commit")
    ).status_code == 409
    assert (await reserve(client, company, (pid, wid, 6))).status_code == 201
    assert (await sell(client, company, pid, wid, 4)).status_code == 201
    assert (await sell(client, company, pid, wid, 1)).status_code == 409

    # The job folds it: the stored counter drops, nothing a client sees changes.
    ctx = JobContext(
        isolated_app.state.engine, isolated_app.state.sessionmaker, isolated_app.state.settings
    )
    assert await expire_reservations(ctx) == 1
    assert await expire_reservations(ctx) == 0
    lv = await level(client, company, pid, wid)
    assert (lv["quantity"], lv["reserved"], lv["available"]) == (6, 6, 0)
    expired = await client.get(
        f"/api/companies/{company}/reservations", params={"status": "expired"}
    )
    assert [r["id"] for r in expired.json()["items"]] == [rid]
    active = await client.get(f"/api/companies/{company}/reservations", params={"status": "active"})
    assert len(active.json()["items"]) == 1


async def test_bundle_lines_hold_leaf_components(client: AsyncClient) -> None:
    company, a, wid = await _setup(client)
    b = await product(client, company)
    await move(client, company, "receipt", [(b, wid, 10)])
    kit = await bundle(client, company, {a: 1, b: 2})
    r = await reserve(client, company, (kit, wid, 3), (b, wid, 1))
    assert r.status_code == 201, r.text
    assert r.json()["lines"] == [
        {"product_id": a, "warehouse_id": wid, "quantity": 3},
        {"product_id": b, "warehouse_id": wid, "quantity": 7},
    ]
    detail = (await client.get(f"/api/companies/{company}/products/{kit}")).json()
    assert detail["stock"][0]["quantity"] == 5
    assert detail["stock"][0]["available"] == 1  # b: 3 free of 10 -> one kit
    single = (await client.get(f"/api/companies/{company}/products/{a}")).json()
    assert single["stock"][0]["available"] == 7
    assert (await reserve(client, company, (kit, wid, 2))).status_code == 409


async def test_checks_in_order(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    url = f"/api/companies/{company}/reservations"
    line = {"product_id": pid, "warehouse_id": wid, "quantity": 1}
    for bad in [
        {"lines": []},
        {"lines": [line, line]},
        {"lines": [{**line, "quantity": 0}]},
        {"lines": [line], "ttl_seconds": 0},
        {"lines": [line], "ttl_seconds": 604_801},
        {"lines": [{**line, "product_id": 999_999, "quantity": 0}]},
    ]:
        r = await client.post(url, json=bad)
        assert r.status_code == 422, (bad, r.text)
    r = await client.post(url, json={"lines": [{**line, "product_id": 999_999, "quantity": 99}]})
    assert r.status_code == 404
    other = (await create_company(client, "Other"))["id"]
    foreign = await warehouse(client, other)
    r = await client.post(url, json={"lines": [{**line, "warehouse_id": foreign}]})
    assert r.status_code == 404
    empty_kit = await bundle(client, company, {})
    r = await client.post(url, json={"lines": [{**line, "product_id": empty_kit}]})
    assert r.status_code == 422
    r = await client.post(url, json={"lines": [line], "ttl_seconds": None, "reference": "  "})
    assert r.status_code == 201
    assert r.json()["reference"] is None
    assert (await client.get(url, params={"status": "bogus"})).status_code == 422
    assert (await client.get(f"{url}/999999")).status_code == 404
    assert (await client.post(f"{url}/999999/commit")).status_code == 404


async def test_inactive_product_is_422_and_keeps_its_holds(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    rid = (await reserve(client, company, (pid, wid, 3))).json()["id"]
    assert (await client.delete(f"/api/companies/{company}/products/{pid}")).status_code == 204
    assert (await reserve(client, company, (pid, wid, 1))).status_code == 422
    assert (await level(client, company, pid, wid))["reserved"] == 3
    r = await client.post(f"/api/companies/{company}/reservations/{rid}/release")
    assert r.status_code == 200


async def test_posts_are_idempotent(client: AsyncClient) -> None:
    company, pid, wid = await _setup(client)
    url = f"/api/companies/{company}/reservations"
    body: dict[str, Any] = {"lines": [{"product_id": pid, "warehouse_id": wid, "quantity": 2}]}
    first = await client.post(url, json=body, headers={"Idempotency-Key": "k1"})
    again = await client.post(url, json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await level(client, company, pid, wid))["reserved"] == 2
    rid = first.json()["id"]
    c1 = await client.post(f"{url}/{rid}/commit", headers={"Idempotency-Key": "k2"})
    c2 = await client.post(f"{url}/{rid}/commit", headers={"Idempotency-Key": "k2"})
    assert c1.status_code == c2.status_code == 201
    assert c2.json() == c1.json()
    assert (await level(client, company, pid, wid))["quantity"] == 8


async def test_other_company_cannot_see_or_touch(client: AsyncClient, client_for: Any) -> None:
    company, pid, wid = await _setup(client)
    rid = (await reserve(client, company, (pid, wid, 1))).json()["id"]
    other = await create_company(client, "Other")
    theirs = client_for(other["api_key"])
    assert (await theirs.get(f"/api/companies/{company}/reservations/{rid}")).status_code in {
        403,
        404,
    }
    url = f"/api/companies/{other['id']}/reservations/{rid}"
    assert (await theirs.get(url)).status_code == 404
    assert (await theirs.post(f"{url}/release")).status_code == 404
