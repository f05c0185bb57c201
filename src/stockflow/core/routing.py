"""The route class that makes each request one unit of work."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stockflow.core import idempotency
from stockflow.core.errors import InvalidInput, StockflowError, problem, problem_responses


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, in its own signature or its dependencies."""
    names: set[str] = set()
    for param in dependant.query_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            # `Annotated[Filters, Query()]`: the model's fields are the parameters.
            names |= {f.alias or n for n, f in model.model_fields.items()}
        else:
            names.add(param.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _unknown_query(request: Request, known: frozenset[str]) -> None:
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        raise InvalidInput(
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            errors=[
                {"loc": ["query", name], "msg": "unknown query parameter", "type": "unknown"}
                for name in unknown
            ],
        )


class StrictQueryRoute(APIRoute):
    """Reject query parameters the route does not declare (422 naming them): a typo such
    as `?skus=X` must not silently return the unfiltered list. The known names come from
    the route's own declared parameters, so every route gets this without listing them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = frozenset(_query_names(self.dependant))

        async def handle(request: Request) -> Response:
            _unknown_query(request, known)
            return await handler(request)

        return handle


class AutoCommitRoute(StrictQueryRoute):
    """The request's unit of work: open its session (`SessionDep`), run the endpoint,
    commit after the endpoint has produced its response and before that response is
    sent, so a failed commit can never follow a 2xx. Errors skip the commit and closing
    the session rolls everything back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
            async with sessionmaker() as session:
                request.state.session = session
                business = False
                try:
                    response = await handler(request)
                except StockflowError as exc:
                    # A business answer under an Idempotency-Key fixes the key's answer:
                    # its effects are undone and the answer itself is stored and committed.
                    if not (exc.business and idempotency.has_claim(request)):
                        raise
                    await idempotency.undo_effects(request)
                    response = problem(exc.status, exc.slug, exc.title, exc.detail, exc.errors)
                    business = True
                await idempotency.record_response(
                    request, response.status_code, bytes(response.body), business=business
                )
                await session.commit()
                return response

        return handle


def resource_router(*, prefix: str = "", tags: list[str] | None = None) -> APIRouter:
    """The router every resource package uses: unit-of-work routes that reject unknown
    query parameters, and the problems any authenticated operation can answer."""
    return APIRouter(
        prefix=prefix,
        tags=list(tags or []),
        route_class=AutoCommitRoute,
        responses=problem_responses(401, 422, 429, 503),
    )
