from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import Event


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def feed(
        self, company_id: int, after: int, limit: int, types: Sequence[str]
    ) -> list[Event]:
        """The company's sequenced events with id > `after`, in id order (unsequenced
        rows have a null id and never match)."""
        stmt = select(Event).where(Event.company_id == company_id, Event.id > after)
        if types:
            stmt = stmt.where(Event.type.in_(list(types)))
        return list(await self.session.scalars(stmt.order_by(Event.id).limit(limit)))
