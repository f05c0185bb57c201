"""Liveness, readiness and metrics for the people who run StockFlow."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stockflow.core.errors import problem, problem_responses
from stockflow.core.metrics import metrics_endpoint
from stockflow.core.reliability import RETRY_AFTER_SECONDS, readiness_probe
from stockflow.core.routing import StrictQueryRoute
from stockflow.core.settings import Settings, get_settings

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
    # Bounded: a frozen or stopped database makes this a 503 within the readiness
    # timeout, never a probe that hangs.
    settings: Settings = getattr(request.app.state, "settings", None) or get_settings()
    reason = await readiness_probe(request.app, settings.readiness_timeout_seconds)
    if reason is not None:
        response = problem(503, "not-ready", "Not ready", reason)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JSONResponse({"status": "ready"})


router.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
