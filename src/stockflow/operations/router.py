"""Liveness, readiness and metrics for the people who run StockFlow."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.errors import problem, problem_responses
from stockflow.core.metrics import metrics_endpoint
from stockflow.core.routing import StrictQueryRoute

router = APIRouter(
    tags=["operations"], route_class=StrictQueryRoute, responses=problem_responses(422)
)


@router.get(
    "/healthz",
    summary="The process is up",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers",
    description="200 when a `SELECT 1` succeeds; a 503 problem otherwise.",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ready"}}}},
        **problem_responses(503),
    },
)
async def readyz(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return problem(503, "not-ready", "Not ready", f"Database unreachable: {type(exc).__name__}")
    return JSONResponse({"status": "ready"})


router.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
