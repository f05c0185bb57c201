"""Events older than the retention are deleted in batches; newer ones stay."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from stockflow.events.retention import delete_old_events
from tests.events.helpers import all_events
from tests.factories import create_company
from tests.ledger.helpers import product


async def test_old_events_are_deleted_in_batches(
    isolated_app: FastAPI, client: AsyncClient
) -> None:
    c = (await create_company(client))["id"]
    for _ in range(5):
        await product(client, c)
    events = await all_events(isolated_app, client, c)
    old = [e["id"] for e in events[:3]]
    async with isolated_app.state.sessionmaker() as session:
        await session.execute(
            text("UPDATE events SET occurred_at = now() - interval '31 days' WHERE id = ANY(:ids)"),
            {"ids": old},
        )
        assert await delete_old_events(session, days=30, limit=2) == 2
        assert await delete_old_events(session, days=30, limit=2) == 1
        assert await delete_old_events(session, days=30, limit=2) == 0
        await session.commit()
    assert await all_events(isolated_app, client, c) == events[3:]
