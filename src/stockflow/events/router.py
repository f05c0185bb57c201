from typing import Annotated

from fastapi import Query

from stockflow.core.auth import MAX_ID, CompanyScopeDep
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.routing import resource_router
from stockflow.events.schemas import EventPage, EventType
from stockflow.events.service import EventService

router = resource_router(prefix="/companies/{company_id}", tags=["events"])


@router.get(
    "/events",
    summary="The company's event feed, in increasing id",
    description="Poll with `after` = the last `next_after`: every event arrives exactly "
    "once and in id order, also when transactions commit in another order than they "
    "started. An event appears within a few seconds of its commit.",
    responses=problem_responses(404),
)
async def list_events(
    scope: CompanyScopeDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="The last id seen.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    type: Annotated[
        list[EventType] | None, Query(description="Only these types (repeatable).")
    ] = None,
) -> EventPage:
    return await EventService(session).feed(scope.company_id, after, limit, type or [])
