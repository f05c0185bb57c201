import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from stockflow.core.auth import CompanyScopeDep
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.routing import resource_router
from stockflow.core.settings import Settings
from stockflow.core.tenancy import scope_to_admin
from stockflow.main import create_app
from tests.conftest import ADMIN_TOKEN
from tests.factories import create_company
from tests.ledger.helpers import entry_count, levels, move, product, warehouse


async def _setup(app: FastAPI, client: AsyncClient) -> tuple[int, int, int]:
    company = (await create_company(client))["id"]
    wid = await warehouse(client, company)
    pid = await product(client, company)
    return company, wid, pid


def _sale(pid: int, wid: int, delta: int = -1) -> dict[str, Any]:
    return {"reason": "sale", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": delta}]}


async def test_retry_with_same_key_replays_first_response(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    await move(client, company, "receipt", [(pid, wid, 10)])
    url = f"/api/companies/{company}/stock-movements"
    headers = {"Idempotency-Key": "order-42"}

    first = await client.post(url, json=_sale(pid, wid), headers=headers)
    assert first.status_code == 201
    # The same document with other key order and spacing is the same request.
    same = json.dumps(
        {"lines": [{"delta": -1, "warehouse_id": wid, "product_id": pid}], "reason": "sale"},
        indent=2,
    )
    again = await client.post(
        url, content=same, headers={**headers, "content-type": "application/json"}
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await levels(isolated_app, company) == {(pid, wid): 9}
    assert await entry_count(isolated_app, company) == 2

    other_body = await client.post(url, json=_sale(pid, wid, -2), headers=headers)
    assert other_body.status_code == 409
    assert other_body.json()["type"].endswith("idempotency-key-reused")
    other_path = await client.post(
        f"/api/companies/{company}/stock-transfers",
        json={"product_id": pid, "from_warehouse_id": wid, "to_warehouse_id": wid, "quantity": 1},
        headers=headers,
    )
    assert other_path.status_code == 409
    assert await levels(isolated_app, company) == {(pid, wid): 9}

    without_key = await client.post(url, json=_sale(pid, wid))
    assert without_key.status_code == 201
    assert await levels(isolated_app, company) == {(pid, wid): 8}


async def test_business_409_fixes_the_keys_answer(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    """SPEC: a business 409 (insufficient stock) is the key's answer for good: a retry
    after stock arrived replays it and applies nothing; a new key applies."""
    company, wid, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-movements"
    headers = {"Idempotency-Key": "retry-me"}
    failed = await client.post(url, json=_sale(pid, wid, -3), headers=headers)
    assert failed.status_code == 409
    assert failed.json()["type"].endswith("insufficient-stock")
    assert failed.headers["content-type"] == "application/problem+json"
    assert "Idempotent-Replayed" not in failed.headers

    await move(client, company, "receipt", [(pid, wid, 5)])
    retried = await client.post(url, json=_sale(pid, wid, -3), headers=headers)
    assert retried.status_code == 409
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.headers["content-type"] == "application/problem+json"
    assert retried.json() == failed.json()
    assert await levels(isolated_app, company) == {(pid, wid): 5}

    fresh = await client.post(url, json=_sale(pid, wid, -3), headers={"Idempotency-Key": "another"})
    assert fresh.status_code == 201
    assert fresh.json()["entries"][0]["quantity_after"] == 2


async def test_non_business_answers_are_not_stored(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    """A 404 (unknown warehouse) and a 422 leave the key free for a corrected retry."""
    company, wid, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-movements"
    headers = {"Idempotency-Key": "fix-me"}
    missing = await client.post(url, json=_sale(pid, wid + 999, -1), headers=headers)
    assert missing.status_code == 404
    invalid = await client.post(url, json=_sale(pid, wid, 0), headers=headers)
    assert invalid.status_code == 422
    # Had either been stored, another body under the key would be 409 key-reused.
    await move(client, company, "receipt", [(pid, wid, 5)])
    ok = await client.post(url, json=_sale(pid, wid, -4), headers=headers)
    assert ok.status_code == 201
    assert "Idempotent-Replayed" not in ok.headers


async def test_keys_are_scoped_per_company(isolated_app: FastAPI, client: AsyncClient) -> None:
    headers = {"Idempotency-Key": "shared"}
    for _ in range(2):
        company, wid, pid = await _setup(isolated_app, client)
        r = await client.post(
            f"/api/companies/{company}/stock-movements",
            json={
                "reason": "receipt",
                "lines": [{"product_id": pid, "warehouse_id": wid, "delta": 3}],
            },
            headers=headers,
        )
        assert r.status_code == 201
        assert r.headers.get("Idempotent-Replayed") is None
        assert await levels(isolated_app, company) == {(pid, wid): 3}


async def test_transfer_retry_is_replayed(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    annex = await warehouse(client, company, "Annex")
    await move(client, company, "receipt", [(pid, wid, 10)])
    body = {"product_id": pid, "from_warehouse_id": wid, "to_warehouse_id": annex, "quantity": 4}
    url = f"/api/companies/{company}/stock-transfers"
    first = await client.post(url, json=body, headers={"Idempotency-Key": "t"})
    second = await client.post(url, json=body, headers={"Idempotency-Key": "t"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert await levels(isolated_app, company) == {(pid, wid): 6, (pid, annex): 4}


async def test_expired_key_is_taken_over(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    await move(client, company, "receipt", [(pid, wid, 10)])
    url = f"/api/companies/{company}/stock-movements"
    headers = {"Idempotency-Key": "old"}
    assert (await client.post(url, json=_sale(pid, wid), headers=headers)).status_code == 201
    async with isolated_app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        await session.execute(
            text("UPDATE idempotency_records SET expires_at = now() - interval '1 second'")
        )
        await session.commit()
    reused = await client.post(url, json=_sale(pid, wid, -2), headers=headers)
    assert reused.status_code == 201
    assert reused.headers.get("Idempotent-Replayed") is None
    assert await levels(isolated_app, company) == {(pid, wid): 7}


async def test_bad_keys_are_422(isolated_app: FastAPI, client: AsyncClient) -> None:
    company, wid, pid = await _setup(isolated_app, client)
    url = f"/api/companies/{company}/stock-movements"
    for key in ["", "k" * 256]:
        r = await client.post(url, json=_sale(pid, wid), headers={"Idempotency-Key": key})
        assert r.status_code == 422, key
    assert await entry_count(isolated_app, company) == 0


@pytest.fixture
async def probe_client(isolated_app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An app with a short TTL and one endpoint that claims a key and then answers an
    error without raising (which AutoCommitRoute commits)."""
    app = create_app(Settings(admin_token=ADMIN_TOKEN, idempotency_ttl_seconds=90))
    app.state.engine = isolated_app.state.engine
    app.state.sessionmaker = isolated_app.state.sessionmaker
    app.state.admin_token = ADMIN_TOKEN
    router = resource_router(prefix="/api/companies/{company_id}")

    @router.post("/probe")
    async def probe(scope: CompanyScopeDep, idem: IdempotencyDep, fail: bool = False) -> Any:
        await idem.claim(scope.company_id)
        if fail:
            return JSONResponse({"detail": "no"}, status_code=400)
        return {"ok": True}

    app.include_router(router)
    async with AsyncClient(
        transport=ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as c:
        yield c


async def test_claim_of_an_error_answer_is_not_kept(
    isolated_app: FastAPI, client: AsyncClient, probe_client: AsyncClient
) -> None:
    company = (await create_company(client))["id"]
    url = f"/api/companies/{company}/probe"
    headers = {"Idempotency-Key": "probe"}
    assert (await probe_client.post(url, params={"fail": True}, headers=headers)).status_code == 400
    # The error was not stored and did not leave the key "in progress".
    ok = await probe_client.post(url, params={"fail": True}, headers=headers)
    assert ok.status_code == 400
    assert (await probe_client.post(url, headers=headers)).status_code == 200


async def test_records_expire_after_the_apps_ttl(
    isolated_app: FastAPI, client: AsyncClient, probe_client: AsyncClient
) -> None:
    company = (await create_company(client))["id"]
    r = await probe_client.post(
        f"/api/companies/{company}/probe", headers={"Idempotency-Key": "ttl"}
    )
    assert r.status_code == 200
    async with isolated_app.state.sessionmaker() as session:
        await scope_to_admin(session)  # the test inspects every company
        ttl = await session.scalar(
            text(
                "SELECT extract(epoch FROM expires_at - created_at) FROM idempotency_records "
                "WHERE company_id = :c AND key = 'ttl'"
            ),
            {"c": company},
        )
    assert ttl == 90


async def test_query_string_is_part_of_the_request(
    isolated_app: FastAPI, client: AsyncClient, probe_client: AsyncClient
) -> None:
    company = (await create_company(client))["id"]
    url = f"/api/companies/{company}/probe"
    headers = {"Idempotency-Key": "query"}
    assert (await probe_client.post(url, headers=headers)).status_code == 200
    r = await probe_client.post(url, params={"fail": True}, headers=headers)
    assert r.status_code == 409
