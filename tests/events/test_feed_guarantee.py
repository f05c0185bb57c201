"""The feed's guarantee under out-of-order commits: a poller that follows `next_after`
sees every event exactly once, in id order, even when a transaction that wrote its event
first commits last (real connections, real commits)."""

import asyncio
import random
import time

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.database import create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.core.tenancy import scope_to_company
from stockflow.events.outbox import emit
from stockflow.main import create_app
from tests.conftest import ADMIN_TOKEN
from tests.events.helpers import feed, sequence
from tests.factories import create_company
from tests.ledger.helpers import move, product, warehouse


async def _poll(
    app: FastAPI, client: AsyncClient, company_id: int, after: int
) -> tuple[list[int], int]:
    await sequence(app)
    page = await feed(client, company_id, after, limit=500)
    return [e["id"] for e in page["items"]], page["next_after"]


async def test_late_commit_is_not_skipped(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    client = committed_client
    c = (await create_company(client))["id"]
    w = await warehouse(client, c)
    p = await product(client, c)
    seen, after = await _poll(committed_app, client, c, 0)

    # A writer draws its event's row first and holds its transaction open...
    held = committed_app.state.sessionmaker()
    await scope_to_company(held, c)
    await emit(held, c, "product.updated", {"id": p, "note": "held"})
    try:
        # ...while others commit after it.
        for _ in range(3):
            await move(client, c, "receipt", [(p, w, 1)])
        ids, after = await _poll(committed_app, client, c, after)
        seen += ids
        assert len(ids) == 3
        await held.commit()
    finally:
        await held.close()
    ids, after = await _poll(committed_app, client, c, after)
    seen += ids
    assert len(ids) == 1  # the late one appears, after next_after, not behind it
    page = await feed(client, c, 0, limit=500)
    assert [e["id"] for e in page["items"]] == seen
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert page["items"][-1]["data"] == {"id": p, "note": "held"}


async def test_concurrent_writers_and_a_poller(
    committed_app: FastAPI, committed_client: AsyncClient
) -> None:
    """Writers commit in random order with random delays while a poller (and the
    sequencer) run; the poller ends with every committed event once, in id order, and
    none of a rolled-back transaction."""
    client = committed_client
    c = (await create_company(client))["id"]
    _, start = await _poll(committed_app, client, c, 0)
    rng = random.Random(9)
    done = asyncio.Event()

    async def writer(n: int) -> None:
        async with committed_app.state.sessionmaker() as session:
            await scope_to_company(session, c)
            await emit(session, c, "product.updated", {"n": n})
            await asyncio.sleep(rng.random() * 0.05)
            if n % 7 == 0:
                await session.rollback()
            else:
                await session.commit()

    seen: list[int] = []
    payloads: list[int] = []

    async def poller() -> None:
        after = start
        while True:
            finished = done.is_set()
            await sequence(committed_app)
            page = await feed(client, c, after, limit=500)
            seen.extend(e["id"] for e in page["items"])
            payloads.extend(e["data"]["n"] for e in page["items"])
            after = page["next_after"]
            if finished and not page["items"]:
                return
            await asyncio.sleep(0.005)

    poll_task = asyncio.create_task(poller())
    for batch in range(6):
        await asyncio.gather(*(writer(batch * 20 + i) for i in range(20)))
    done.set()
    await poll_task
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert sorted(payloads) == [n for n in range(120) if n % 7 != 0]


async def test_running_server_shows_events_within_seconds(
    committed_app: FastAPI,
    committed_client: AsyncClient,
    settings: Settings,
    app_engine: AsyncEngine,
) -> None:
    """With the background jobs of a running app (as `make run`), a committed event is
    on the feed within 5 s, without anyone calling the sequencer."""
    app = create_app(settings.model_copy(update={"background_jobs": True}))
    app.state.engine = app_engine  # the app's role: the jobs run under row-level security
    app.state.sessionmaker = create_sessionmaker(app_engine)
    app.state.admin_token = ADMIN_TOKEN
    c = (await create_company(committed_client))["id"]
    async with app.router.lifespan_context(app):
        await product(committed_client, c)
        committed = time.monotonic()
        while not (await feed(committed_client, c))["items"]:
            assert time.monotonic() - committed < 5
            await asyncio.sleep(0.05)
