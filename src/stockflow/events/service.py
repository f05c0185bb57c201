from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.events.repository import EventRepository
from stockflow.events.schemas import EventPage, EventRead


class EventService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = EventRepository(session)

    async def feed(
        self, company_id: int, after: int, limit: int, types: Sequence[str]
    ) -> EventPage:
        rows = await self.repo.feed(company_id, after, limit, types)
        items = [EventRead.model_validate(r) for r in rows]
        return EventPage(items=items, next_after=items[-1].id if items else after)
