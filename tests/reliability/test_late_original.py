"""SPEC: the first business answer fixes a key's answer, also for a late original.

A real server and a raw socket: the original sends its headers and half its body and
stalls; its retry runs first and gets 409 insufficient-stock; stock then arrives; the
original finally completes and must replay that 409, not sell."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import ADMIN_TOKEN
from tests.factories import create_company
from tests.ledger.helpers import levels, move, product, warehouse
from tests.reliability.ports import free_port


@pytest.fixture
async def server(committed_app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(committed_app, host="127.0.0.1", port=port, log_level="warning")
    config.lifespan = "off"  # the suite's app already has its engine
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


async def test_late_original_replays_the_retrys_409(server: str, committed_app: FastAPI) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with AsyncClient(base_url=server, headers=headers, timeout=10) as client:
        company = (await create_company(client))["id"]
        wid = await warehouse(client, company)
        pid = await product(client, company)
        path = f"/api/companies/{company}/stock-movements"
        body = json.dumps(
            {"reason": "sale", "lines": [{"product_id": pid, "warehouse_id": wid, "delta": -3}]}
        ).encode()

        # The original: headers and half the body, then it stalls.
        reader, writer = await asyncio.open_connection(*server.removeprefix("http://").split(":"))
        head = (
            f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: late-1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        half = len(body) // 2
        writer.write(head + body[:half])
        await writer.drain()
        await asyncio.sleep(0.2)

        retry = await client.post(
            path, content=body, headers={"Idempotency-Key": "late-1", **_json}
        )
        assert retry.status_code == 409
        assert retry.json()["type"] == "urn:stockflow:problem:insufficient-stock"

        await move(client, company, "receipt", [(pid, wid, 5)])

        writer.write(body[half:])
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(65536), 10)
        writer.close()
        status_line, _, rest = raw.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 409"), raw
        head_part, _, payload = rest.partition(b"\r\n\r\n")
        assert b"idempotent-replayed: true" in head_part.lower()
        assert json.loads(payload) == retry.json()

    # The sale was never applied: the receipt's 5 are all there, one ledger line each.
    assert await levels(committed_app, company) == {(pid, wid): 5}


_json = {"content-type": "application/json"}
