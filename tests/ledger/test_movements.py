from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import create_company
from tests.ledger.helpers import (
    assert_ledger_explains_levels,
    bundle,
    entry_count,
    levels,
    move,
    product,
    warehouse,
)

ENTRY_FIELDS = {
    "id",
    "product_id",
    "warehouse_id",
    "delta",
    "reason",
    "reference",
    "occurred_at",
    "quantity_after",
    "bundle_id",
}


async def _setup(app: FastAPI, client: AsyncClient) -> tuple[int, int, int]:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    return company, wid, pid


def _movement(reason: str, *lines: tuple[int, int, Any], **extra: Any) -> dict[str, Any]:
    return {
        "reason": reason,
        "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in lines],
        **extra,
    }


async def test_receipt_then_sale_returns_entries_with_resulting_levels(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    other = await product(client, company)
    url = f"/api/companies/{company}/stock-movements"

    r = await client.post(
        url,
        json=_movement("receipt", (pid, wid, 10), (other, wid, 3), (pid, wid, 5), reference="PO-1"),
    )
    assert r.status_code == 201, r.text
    entries = r.json()["entries"]
    assert [set(e) >= ENTRY_FIELDS for e in entries] == [True] * 3
    assert [(e["product_id"], e["delta"], e["quantity_after"]) for e in entries] == [
        (pid, 10, 10),
        (other, 3, 3),
        (pid, 5, 15),
    ]
    assert {e["reason"] for e in entries} == {"receipt"}
    assert {e["reference"] for e in entries} == {"PO-1"}
    assert entries[0]["id"] < entries[1]["id"] < entries[2]["id"]
    assert entries[0]["bundle_id"] is None
    assert datetime.fromisoformat(entries[0]["occurred_at"]).utcoffset() == timedelta(0)

    sale = await move(client, company, "sale", [(pid, wid, -4)])
    assert sale["entries"][0]["quantity_after"] == 11
    assert await levels(isolated_app, company) == {(pid, wid): 11, (other, wid): 3}
    await assert_ledger_explains_levels(isolated_app)


async def test_sign_must_fit_reason(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    await move(client, company, "receipt", [(pid, wid, 50)])
    url = f"/api/companies/{company}/stock-movements"
    for reason, delta in [("receipt", -1), ("sale", 1), ("return", -1)]:
        r = await client.post(url, json=_movement(reason, (pid, wid, -delta), (pid, wid, delta)))
        assert r.status_code == 422, (reason, delta)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["body", "lines", 1, "delta"]
    for reason, delta in [("receipt", 1), ("return", 2), ("adjustment", -3), ("adjustment", 4)]:
        await move(client, company, reason, [(pid, wid, delta)])
    assert await levels(isolated_app, company) == {(pid, wid): 54}


async def test_malformed_movements_are_422(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-movements"
    line = {"product_id": pid, "warehouse_id": wid, "delta": 1}
    bad_bodies: list[Any] = [
        {"reason": "receipt", "lines": []},
        {"reason": "receipt", "lines": [line] * 1001},
        {"reason": "receipt"},
        {"reason": "theft", "lines": [line]},
        {"reason": "transfer_in", "lines": [line]},
        {"reason": "receipt", "lines": [line], "reference": "x" * 256},
        {"reason": "receipt", "lines": [line], "occurred_at": "yesterday"},
        {"reason": "receipt", "lines": [line], "occurred_at": "0001-01-01T00:00:00+05:00"},
        {"reason": "receipt", "lines": [line], "occurred_at": "1899-12-31T23:59:59Z"},
        {"reason": "receipt", "lines": [line], "occurred_at": "2020-01-01T00:00:00+25:00"},
        {"reason": "receipt", "lines": [{**line, "product_id": 0}]},
        {"reason": "receipt", "lines": [{**line, "warehouse_id": 2**63}]},
        {"reason": "receipt", "lines": [{"product_id": pid, "warehouse_id": wid}]},
        [line],
        "receipt",
    ]
    bad_bodies += [
        {"reason": "adjustment", "lines": [{**line, "delta": d}]}
        for d in [0, "5", 1.5, 2.0, True, None, 1_000_000_001, -1_000_000_001, 2**70]
    ]
    for body in bad_bodies:
        r = await client.post(url, json=body)
        assert r.status_code == 422, (body if len(str(body)) < 300 else "long", r.text)
    r = await client.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert await entry_count(isolated_app, company) == 0


async def test_largest_movement_is_accepted(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    body = await move(client, company, "receipt", [(pid, wid, 1_000_000_000)] * 1000)
    assert len(body["entries"]) == 1000
    assert body["entries"][-1]["quantity_after"] == 1000 * 1_000_000_000
    assert await levels(isolated_app, company) == {(pid, wid): 10**12}


async def test_occurred_at_may_be_past_not_future(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-movements"

    past = await move(
        client, company, "receipt", [(pid, wid, 1)], occurred_at="2020-02-03T04:05:06"
    )
    assert datetime.fromisoformat(past["entries"][0]["occurred_at"]) == datetime(
        2020, 2, 3, 4, 5, 6, tzinfo=UTC
    )
    offset = await move(
        client, company, "receipt", [(pid, wid, 1)], occurred_at="2020-02-03T06:05:06+02:00"
    )
    assert datetime.fromisoformat(offset["entries"][0]["occurred_at"]) == datetime(
        2020, 2, 3, 4, 5, 6, tzinfo=UTC
    )
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    await move(client, company, "receipt", [(pid, wid, 1)], occurred_at=soon)

    later = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    r = await client.post(url, json=_movement("receipt", (pid, wid, 1), occurred_at=later))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "occurred_at"]
    naive_later = (datetime.now(UTC) + timedelta(minutes=6)).replace(tzinfo=None).isoformat()
    r = await client.post(url, json=_movement("receipt", (pid, wid, 1), occurred_at=naive_later))
    assert r.status_code == 422

    before = datetime.now(UTC)
    now = await move(client, company, "receipt", [(pid, wid, 1)])
    stamped = datetime.fromisoformat(now["entries"][0]["occurred_at"])
    assert before - timedelta(seconds=5) <= stamped <= datetime.now(UTC) + timedelta(seconds=5)


async def test_blank_reference_is_stored_as_null(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    body = await move(client, company, "receipt", [(pid, wid, 1)], reference="   ")
    assert body["entries"][0]["reference"] is None
    body = await move(client, company, "receipt", [(pid, wid, 1)], reference="  INV 7 ")
    assert body["entries"][0]["reference"] == "INV 7"


async def test_failed_multi_line_movement_changes_nothing(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    other = await product(client, company)
    await move(client, company, "receipt", [(pid, wid, 5), (other, wid, 2)])
    before_levels, before_count = (
        await levels(isolated_app, company),
        await entry_count(isolated_app, company),
    )
    third = await product(client, company)

    r = await client.post(
        f"/api/companies/{company}/stock-movements",
        json=_movement("sale", (pid, wid, -5), (third, wid, -1), (other, wid, -3)),
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"].endswith("insufficient-stock")
    assert problem["status"] == 409
    assert await levels(isolated_app, company) == before_levels
    assert await entry_count(isolated_app, company) == before_count

    # Lines apply in order: a level may not dip below zero even if a later line refills it.
    r = await client.post(
        f"/api/companies/{company}/stock-movements",
        json=_movement("adjustment", (other, wid, -3), (other, wid, 5)),
    )
    assert r.status_code == 409
    assert await levels(isolated_app, company) == before_levels
    await assert_ledger_explains_levels(isolated_app)


async def test_unknown_or_foreign_product_and_warehouse_are_404(
    isolated_app: FastAPI, client: AsyncClient, client_for: Any
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    foreign = await create_company(client, "Other")
    foreign_wid = await warehouse(client, foreign["id"])
    foreign_pid = await product(client, foreign["id"])
    url = f"/api/companies/{company}/stock-movements"
    for lines in [
        [(foreign_pid, wid, 1)],
        [(pid, foreign_wid, 1)],
        [(pid, wid, 1), (999_999_999, wid, 1)],
        [(pid, 999_999_999, 1)],
    ]:
        r = await client.post(url, json=_movement("receipt", *lines))
        assert r.status_code == 404, lines
        assert r.json()["status"] == 404

    as_foreign = client_for(foreign["api_key"])
    r = await as_foreign.post(url, json=_movement("receipt", (pid, wid, 1)))
    assert r.status_code == 404
    r = await as_foreign.get(url)
    assert r.status_code == 404
    assert await entry_count(isolated_app, company) == 0
    assert await entry_count(isolated_app, foreign["id"]) == 0


async def test_company_key_can_move_its_own_stock(
    isolated_app: FastAPI, client: AsyncClient, client_for: Any
) -> None:
    company = await create_company(client)
    wid = await warehouse(client, company["id"])
    pid = await product(client, company["id"])
    own = client_for(company["api_key"])
    body = await move(own, company["id"], "receipt", [(pid, wid, 7)])
    assert body["entries"][0]["quantity_after"] == 7


async def test_bundle_sale_sells_leaf_components(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, screw = await _setup(isolated_app, client)
    bolt = await product(client, company)
    nut = await product(client, company)
    kit = await bundle(client, company, {screw: 2, bolt: 1})
    crate = await bundle(client, company, {kit: 3, nut: 4, screw: 1})
    await move(client, company, "receipt", [(screw, wid, 100), (bolt, wid, 100), (nut, wid, 100)])

    body = await move(client, company, "sale", [(crate, wid, -2), (nut, wid, -1)])
    got = [(e["product_id"], e["delta"], e["bundle_id"], e["reason"]) for e in body["entries"]]
    # One crate: 3 kits (6 screws, 3 bolts) + 4 nuts + 1 screw.
    components = [(screw, -14, crate, "sale"), (bolt, -6, crate, "sale"), (nut, -8, crate, "sale")]
    assert got == [*sorted(components), (nut, -1, None, "sale")]
    assert await levels(isolated_app, company) == {
        (screw, wid): 86,
        (bolt, wid): 94,
        (nut, wid): 91,
    }
    listed = await client.get(
        f"/api/companies/{company}/stock-movements", params={"bundle_id": crate}
    )
    assert len(listed.json()["items"]) == 3
    await assert_ledger_explains_levels(isolated_app)


async def test_bundle_sale_without_enough_components_is_409(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, screw = await _setup(isolated_app, client)
    bolt = await product(client, company)
    kit = await bundle(client, company, {screw: 2, bolt: 1})
    await move(client, company, "receipt", [(screw, wid, 5), (bolt, wid, 5)])
    r = await client.post(
        f"/api/companies/{company}/stock-movements", json=_movement("sale", (kit, wid, -3))
    )
    assert r.status_code == 409
    assert await levels(isolated_app, company) == {(screw, wid): 5, (bolt, wid): 5}


async def test_bundles_only_sell(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    other_wid = await warehouse(client, company, "Second")
    kit = await bundle(client, company, {pid: 1})
    empty = await bundle(client, company, {})
    await move(client, company, "receipt", [(pid, wid, 5)])
    url = f"/api/companies/{company}/stock-movements"
    for reason, delta in [("receipt", 1), ("return", 1), ("adjustment", -1), ("adjustment", 1)]:
        r = await client.post(url, json=_movement(reason, (pid, wid, delta), (kit, wid, delta)))
        assert r.status_code == 422, reason
        assert r.json()["errors"][0]["loc"] == ["body", "lines", 1, "product_id"]
    r = await client.post(url, json=_movement("sale", (empty, wid, -1)))
    assert r.status_code == 422
    r = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json={
            "product_id": kit,
            "from_warehouse_id": wid,
            "to_warehouse_id": other_wid,
            "quantity": 1,
        },
    )
    assert r.status_code == 422
    assert await levels(isolated_app, company) == {(pid, wid): 5}


async def test_inactive_products_take_only_adjustments(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    other_wid = await warehouse(client, company, "Second")
    part = await product(client, company)
    kit = await bundle(client, company, {part: 1})
    await move(client, company, "receipt", [(pid, wid, 10), (part, wid, 10)])
    for gone in (pid, part):
        r = await client.delete(f"/api/companies/{company}/products/{gone}")
        assert r.status_code == 204
    url = f"/api/companies/{company}/stock-movements"
    for reason, delta in [("receipt", 1), ("sale", -1), ("return", 1)]:
        r = await client.post(url, json=_movement(reason, (pid, wid, delta)))
        assert r.status_code == 409, reason
        assert "inactive" in r.json()["detail"]
    r = await client.post(url, json=_movement("sale", (kit, wid, -1)))
    assert r.status_code == 409
    r = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json={
            "product_id": pid,
            "from_warehouse_id": wid,
            "to_warehouse_id": other_wid,
            "quantity": 1,
        },
    )
    assert r.status_code == 409
    assert await levels(isolated_app, company) == {(pid, wid): 10, (part, wid): 10}

    written_off = await move(client, company, "adjustment", [(pid, wid, -10)])
    assert written_off["entries"][0]["quantity_after"] == 0


async def test_a_constraint_the_database_enforces_is_a_409_not_a_500(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    """A constraint that fires inside the ledger's write (simulated by a trigger) is a
    problem+json 409, and the movement changes nothing."""
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company, warehouse_id=wid, initial_quantity=5)
    async with isolated_app.state.sessionmaker() as session:
        # DDL is the owner's (the app's role may not create triggers).
        await session.execute(text("SET LOCAL ROLE NONE"))
        await session.execute(
            text(
                "CREATE FUNCTION test_refuse_entry() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '23514'; END $$"
            )
        )
        await session.execute(
            text(
                "CREATE TRIGGER test_refuse_entry BEFORE INSERT ON ledger_entries "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse_entry()"
            )
        )
        await session.execute(text("SET LOCAL ROLE stockflow_app"))
        await session.commit()
    r = await client.post(
        f"/api/companies/{company}/stock-movements",
        json={"reason": "sale", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": -1}]},
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await levels(isolated_app, company) == {(pid, wid): 5}
