"""Feed helpers: run the sequencer (what the background job does) and read the feed."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from stockflow.events.sequencer import sequence_events


async def sequence(app: FastAPI) -> int:
    """Number the committed events now, as the background job does every 0.5 s."""
    total = 0
    while True:
        async with app.state.sessionmaker() as session:
            n = await sequence_events(session)
            await session.commit()
        total += n
        if n == 0:
            return total


async def feed(
    client: AsyncClient, company_id: int, after: int = 0, **params: Any
) -> dict[str, Any]:
    r = await client.get(f"/api/companies/{company_id}/events", params={"after": after, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def all_events(app: FastAPI, client: AsyncClient, company_id: int) -> list[dict[str, Any]]:
    """Every event of the company, after sequencing what has committed."""
    await sequence(app)
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = await feed(client, company_id, after, limit=500)
        items += page["items"]
        if not page["items"]:
            return items
        after = page["next_after"]
