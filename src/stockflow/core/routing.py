"""The route class that makes each request one unit of work."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core import idempotency
from stockflow.core.errors import StockflowError, problem


class AutoCommitRoute(APIRoute):
    """Commit the request's session after the endpoint has produced its response and
    before that response is sent, so a failed commit can never follow a 2xx. Errors skip
    the commit and the session's close rolls everything back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            business = False
            try:
                response = await handler(request)
            except StockflowError as exc:
                # A business answer under an Idempotency-Key fixes the key's answer: its
                # effects are undone and the answer itself is stored and committed.
                if not (exc.business and idempotency.has_claim(request)):
                    raise
                await idempotency.undo_effects(request)
                response = problem(exc.status, exc.slug, exc.title, exc.detail, exc.errors)
                business = True
            session: AsyncSession | None = getattr(request.state, "session", None)
            if session is not None:
                await idempotency.record_response(
                    request, response.status_code, bytes(response.body), business=business
                )
                await session.commit()
            return response

        return handle


def resource_router(*, prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    """The router every resource package uses: unit-of-work routes, common problems."""
    from stockflow.core.errors import problem_responses

    return APIRouter(
        prefix=prefix,
        tags=list(tags or []),
        route_class=AutoCommitRoute,
        responses=problem_responses(401, 422),
    )
