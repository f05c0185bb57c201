"""Webhooks against a real receiver on 127.0.0.1: signatures, headers, retries with
backoff, the delivery log, refusal of private addresses, two workers, a restart."""

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.main import create_app
from stockflow.webhooks import delivery
from stockflow.webhooks.delivery import deliver_due
from tests.conftest import ADMIN_TOKEN
from tests.events.helpers import sequence
from tests.events.receiver import Receiver, running_receiver
from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse

BASE = 0.2


@pytest.fixture
def hook_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        webhook_allow_private=True,
        webhook_retry_base_seconds=BASE,
        webhook_max_attempts=5,
        background_jobs=False,
    )


def _delivered_metric() -> float:
    value = REGISTRY.get_sample_value("stockflow_event_deliveries_total", {"outcome": "delivered"})
    return value or 0.0


@pytest.fixture
async def hook_app(
    committed_app: FastAPI, app_engine: AsyncEngine, hook_settings: Settings
) -> FastAPI:
    """An app that allows loopback receivers, on the real pool (committed_app cleans up),
    as the app's role: row-level security applies to the requests and the jobs."""
    app = create_app(hook_settings)
    app.state.engine = app_engine
    app.state.sessionmaker = create_sessionmaker(app_engine)
    app.state.admin_token = ADMIN_TOKEN
    return app


@pytest.fixture
async def hook_client(hook_app: FastAPI) -> AsyncIterator[AsyncClient]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with AsyncClient(
        transport=ASGITransport(app=hook_app), base_url="http://test", headers=headers
    ) as c:
        yield c


async def _subscribe(
    client: AsyncClient, company_id: int, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    r = await client.post(
        f"/api/companies/{company_id}/webhooks",
        json={"url": url, "event_types": types or ["stock.changed"]},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _deliveries(client: AsyncClient, company_id: int, hook_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/companies/{company_id}/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _until(
    app: FastAPI, settings: Settings, done: Callable[[], bool], seconds: float = 15
) -> None:
    """Run the sequencer and the delivery worker until `done()`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await sequence(app)
        await deliver_due(app.state.sessionmaker, settings)
        await asyncio.sleep(0.02)


def _verify(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 60


async def _company_with_stock(client: AsyncClient) -> tuple[int, int, int]:
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c, low_stock_threshold=5)
    return c, w, p


async def test_manage_subscriptions(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    company = await create_company(client)
    c = company["id"]
    base = f"/api/companies/{c}/webhooks"
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "https://no-such-host.invalid/hook",
        "ftp://93.184.216.34/hook",
        "not a url",
        "https://93.184.216.34/" + "x" * 2048,
    ]:
        r = await client.post(base, json={"url": url, "event_types": ["*"]})
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    for types in [[], ["bogus"], None]:
        r = await client.post(base, json={"url": "https://93.184.216.34/h", "event_types": types})
        assert r.status_code == 422, types

    r = await client.post(
        base,
        json={"url": "https://93.184.216.34/h", "event_types": ["*"], "description": "orders"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["is_active"] is True and created["event_types"] == ["*"]
    hook = created["id"]

    listed = (await client.get(base)).json()
    assert [h["id"] for h in listed["items"]] == [hook]
    assert "secret" not in listed["items"][0]
    one = (await client.get(f"{base}/{hook}")).json()
    assert "secret" not in one and one["description"] == "orders"

    r = await client.patch(
        f"{base}/{hook}", json={"is_active": False, "event_types": ["low_stock.opened"]}
    )
    assert r.status_code == 200
    assert r.json()["is_active"] is False and r.json()["event_types"] == ["low_stock.opened"]
    assert (
        await client.patch(f"{base}/{hook}", json={"url": "http://127.0.0.1/"})
    ).status_code == 422
    assert (await client.patch(f"{base}/{hook}", json={"url": None})).status_code == 422
    assert (await client.get(f"{base}/{hook}/deliveries")).json() == {
        "items": [],
        "next_cursor": None,
    }

    other = client_for((await create_company(client, "Other"))["api_key"])
    assert (await other.get(f"{base}/{hook}")).status_code == 404
    assert (await other.delete(f"{base}/{hook}")).status_code == 404

    assert (await client.delete(f"{base}/{hook}")).status_code == 204
    assert (await client.get(f"{base}/{hook}")).status_code == 404


async def test_signed_delivery_retried_then_delivered(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    with running_receiver("500") as receiver:
        hook = await _subscribe(client, c, receiver.url, ["stock.changed", "low_stock.opened"])
        moved = await move(client, c, "receipt", [(p, w, 3)], reference="R-1")
        await _until(hook_app, hook_settings, lambda: len(receiver.received) >= 2)

    first, second = receiver.received
    assert first.body == second.body
    event = json.loads(second.body)
    assert event["type"] == "stock.changed"
    assert event["data"]["entries"] == moved["entries"]
    assert event["data"]["reference"] == "R-1"
    assert second.headers["StockFlow-Event-Id"] == str(event["id"])
    assert second.headers["StockFlow-Event-Type"] == "stock.changed"
    assert second.headers["Content-Type"] == "application/json"
    assert _verify(hook["secret"], second.headers["StockFlow-Signature"], second.body)
    assert not _verify("whsec_wrong", second.headers["StockFlow-Signature"], second.body)
    # Backoff: attempt 2 starts at least B x 2^0 after attempt 1.
    assert second.at - first.at >= BASE

    log = await _deliveries(client, c, hook["id"])
    assert len(log) == 1
    assert log[0]["event_id"] == event["id"]
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 2
    assert log[0]["last_status_code"] == 200 and log[0]["last_error"] is None
    assert log[0]["delivered_at"] is not None and log[0]["next_attempt_at"] is None
    # The feed shows the same event.
    feed = (await client.get(f"/api/companies/{c}/events", params={"type": "stock.changed"})).json()
    assert feed["items"] == [event]


async def test_slow_closed_and_redirect_are_retried(
    hook_app: FastAPI,
    hook_client: AsyncClient,
    hook_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "REQUEST_TIMEOUT_SECONDS", 0.5)
    client = hook_client
    c, w, p = await _company_with_stock(client)
    with running_receiver("slow", "close", "302") as receiver:
        receiver.slow_seconds = 1.5
        hook = await _subscribe(client, c, receiver.url)
        await move(client, c, "receipt", [(p, w, 3)])
        seen: list[tuple[int | None, str | None]] = []

        async def outcome_after(n: int) -> None:
            await _until(hook_app, hook_settings, lambda: len(receiver.received) >= n)
            # Let the worker record the attempt it just made.
            await deliver_due(hook_app.state.sessionmaker, hook_settings)
            log = await _deliveries(client, c, hook["id"])
            seen.append((log[0]["last_status_code"], log[0]["last_error"]))

        for n in (1, 2, 3):
            await outcome_after(n)
        await _until(hook_app, hook_settings, lambda: len(receiver.received) >= 4)
        await asyncio.sleep(0.2)
    assert seen[0][0] is None and "no answer within" in (seen[0][1] or "")
    assert seen[1][0] is None and seen[1][1]
    assert seen[2] == (302, "HTTP 302")  # not followed
    log = await _deliveries(client, c, hook["id"])
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 4
    intervals = [
        b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)
    ]
    assert intervals[1] >= BASE * 2 and intervals[2] >= BASE * 4


async def test_gives_up_after_max_attempts(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    with running_receiver(default="500") as receiver:
        hook = await _subscribe(client, c, receiver.url)
        await move(client, c, "receipt", [(p, w, 3)])
        await _until(hook_app, hook_settings, lambda: len(receiver.received) >= 5)
        await deliver_due(hook_app.state.sessionmaker, hook_settings)
        await asyncio.sleep(BASE * 2**5)
        await deliver_due(hook_app.state.sessionmaker, hook_settings)
    assert len(receiver.received) == 5
    log = await _deliveries(client, c, hook["id"])
    assert log[0]["status"] == "failed" and log[0]["attempts"] == 5
    assert log[0]["last_status_code"] == 500 and log[0]["next_attempt_at"] is None


async def test_private_address_refused_at_delivery(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    strict = hook_settings.model_copy(update={"webhook_allow_private": False})
    with running_receiver() as receiver:
        hook = await _subscribe(client, c, receiver.url)  # allowed when it was created
        await move(client, c, "receipt", [(p, w, 3)])
        await sequence(hook_app)
        assert await deliver_due(hook_app.state.sessionmaker, strict) == 1
    assert receiver.received == []
    log = await _deliveries(client, c, hook["id"])
    assert log[0]["status"] == "pending" and log[0]["attempts"] == 1
    assert log[0]["last_status_code"] is None and "not global" in log[0]["last_error"]


async def test_only_matching_types_are_delivered(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    delivered_before = _delivered_metric()
    with running_receiver() as receiver:
        hook = await _subscribe(client, c, receiver.url, ["low_stock.opened", "low_stock.resolved"])
        await move(client, c, "receipt", [(p, w, 6)])
        await move(client, c, "sale", [(p, w, -2)])  # 4 < 5: opened
        await move(client, c, "receipt", [(p, w, 10)])  # resolved
        await _until(hook_app, hook_settings, lambda: len(receiver.received) >= 2)
        await asyncio.sleep(0.1)
    # Deliveries of one batch go out concurrently (SPEC: at least once, no order
    # promised): a receiver orders them by event id.
    bodies = sorted((json.loads(r.body) for r in receiver.received), key=lambda b: b["id"])
    assert [b["type"] for b in bodies] == ["low_stock.opened", "low_stock.resolved"]
    assert bodies[0]["data"] == {
        "product_id": p,
        "warehouse_id": w,
        "current_stock": 4,
        "threshold": 5,
    }
    assert len(await _deliveries(client, c, hook["id"])) == 2
    assert _delivered_metric() == delivered_before + 2


async def test_two_instances_never_attempt_one_delivery_at_once(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings, database_url: str
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    engines = [create_engine(database_url, hook_settings) for _ in range(2)]
    makers = [create_sessionmaker(e) for e in engines]
    try:
        with running_receiver(*(["500"] * 15)) as receiver:
            receiver.default = "slow"
            receiver.slow_seconds = 0.05
            hook = await _subscribe(client, c, receiver.url)
            for i in range(20):
                await move(client, c, "receipt", [(p, w, 1)], reference=f"r{i}")
            await sequence(hook_app)

            async def worker(maker: Any) -> None:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    await deliver_due(maker, hook_settings, limit=5)
                    log = await _deliveries(client, c, hook["id"])
                    if len(log) == 20 and all(d["status"] == "delivered" for d in log):
                        return
                    await asyncio.sleep(0.01)

            await asyncio.gather(*(worker(m) for m in makers))
        log = await _deliveries(client, c, hook["id"])
        assert len(log) == 20 and all(d["status"] == "delivered" for d in log)
        per_event: dict[str, int] = {}
        for r in receiver.received:
            key = r.headers["StockFlow-Event-Id"]
            per_event[key] = per_event.get(key, 0) + 1
        # Every attempt reached the receiver once, none at the same time as another.
        assert per_event == {str(d["event_id"]): d["attempts"] for d in log}
        assert sum(per_event.values()) == 35
        assert max(receiver.max_in_flight.values()) == 1
    finally:
        for e in engines:
            await e.dispose()


async def test_pending_deliveries_survive_a_restart(
    hook_app: FastAPI, hook_client: AsyncClient, hook_settings: Settings, app_engine: AsyncEngine
) -> None:
    client = hook_client
    c, w, p = await _company_with_stock(client)
    running = hook_settings.model_copy(update={"background_jobs": True})

    def started_app() -> FastAPI:
        app = create_app(running)
        app.state.engine = app_engine
        app.state.sessionmaker = create_sessionmaker(app_engine)
        app.state.admin_token = ADMIN_TOKEN
        return app

    async def wait_for(receiver: Receiver, n: int) -> None:
        deadline = time.monotonic() + 15
        while len(receiver.received) < n:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

    with running_receiver("500") as receiver:
        hook = await _subscribe(client, c, receiver.url)
        await move(client, c, "receipt", [(p, w, 3)])
        first = started_app()
        async with first.router.lifespan_context(first):
            await wait_for(receiver, 1)  # the background jobs sequenced and attempted it
            await asyncio.sleep(0.1)
        log = await _deliveries(client, c, hook["id"])
        assert log[0]["status"] == "pending" and log[0]["attempts"] == 1
        second = started_app()
        async with second.router.lifespan_context(second):
            await wait_for(receiver, 2)
            await asyncio.sleep(0.2)
    log = await _deliveries(client, c, hook["id"])
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 2


def test_addresses_carried_in_ipv6_are_checked() -> None:
    from stockflow.webhooks.addresses import is_public

    for private in [
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "::127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "fe80::1%eth0",
        "100.64.0.1",
    ]:
        assert not is_public(private), private
    for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"]:
        assert is_public(public), public
