"""Domain errors and their RFC 9457 problem+json rendering.

Services raise `StockflowError` subclasses and never import FastAPI; one set of handlers
turns them, FastAPI's validation errors, Starlette's HTTP errors and database constraint
violations into `application/problem+json`. Nothing a client sends can produce a 500.
"""

from http import HTTPStatus
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class StockflowError(Exception):
    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"
    # A "business" answer is the rules' verdict on the stored state (insufficient stock,
    # duplicate SKU, a status that forbids the action): under an Idempotency-Key it is
    # stored and replayed like a 2xx (see core/idempotency.py). Everything else is not.
    business: bool = False

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class Unauthorized(StockflowError):
    status, slug, title = 401, "unauthorized", "Missing or invalid credentials"


class Forbidden(StockflowError):
    status, slug, title = 403, "forbidden", "Not allowed for this credential"


class NotFound(StockflowError):
    status, slug, title = 404, "not-found", "Resource not found"


class Conflict(StockflowError):
    status, slug, title = 409, "conflict", "Conflict with the current state"
    # Every 409 the services raise is a business rule's answer; the few that are about
    # the request itself (key reuse, key in progress) opt out below.
    business = True


class DuplicateSku(Conflict):
    slug, title = "duplicate-sku", "SKU already exists"


class InsufficientStock(Conflict):
    slug, title = "insufficient-stock", "Insufficient stock"


class IdempotencyConflict(Conflict):
    slug, title = "idempotency-key-reused", "Idempotency key reused with a different request"
    business = False


class IdempotencyInProgress(Conflict):
    business = False


class DatabaseUnavailable(StockflowError):
    status, slug, title = 503, "database-unavailable", "Database unavailable"


class InvalidInput(StockflowError):
    status, slug, title = 422, "invalid-input", "Invalid input"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None


def problem_body(
    status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:stockflow:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem(
    status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, slug, title, detail, errors),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


# One example per status for the OpenAPI document (what a client will see).
_PROBLEM_EXAMPLES: dict[int, tuple[str, str, str]] = {
    401: ("unauthorized", "Missing or invalid credentials", "The token is not valid."),
    403: ("forbidden", "Not allowed for this credential", "Only the platform admin may do this."),
    404: ("not-found", "Resource not found", "Product 42 not found."),
    409: ("conflict", "Conflict with the current state", "SKU 'BEAN-1KG' already exists."),
    413: ("payload-too-large", "Payload Too Large", "The request body is too large."),
    422: ("invalid-input", "Invalid input", "The request does not match the expected schema."),
    429: ("too-many-requests", "Too Many Requests", "Rate limit exceeded; retry later."),
    503: ("database-unavailable", "Database error", "The database could not complete it."),
}


def problem_response(status: int) -> dict[str, Any]:
    """One OpenAPI response object: problem+json with the `Problem` schema and an example."""
    phrase = HTTPStatus(status).phrase
    slug, title, detail = _PROBLEM_EXAMPLES.get(
        status, (phrase.lower().replace(" ", "-"), phrase, phrase)
    )
    errors = [{"loc": ["body", "sku"], "msg": "String should have at least 1 character"}]
    example = problem_body(status, slug, title, detail, errors if status == 422 else None)
    return {
        "description": phrase,
        "content": {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}
        },
    }


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries so clients see which problems a route can answer:
    `responses=problem_responses(404, 409)` on a route (401, 422, 429 and 503 come with
    `resource_router`)."""
    return {status: problem_response(status) for status in statuses}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", "invalid"), "type": err.get("type")}
        for err in exc.errors()
    ]


async def _stockflow_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StockflowError)
    response = problem(exc.status, exc.slug, exc.title, exc.detail, exc.errors)
    if exc.status == 503:
        response.headers["Retry-After"] = "1"
    if isinstance(exc, Unauthorized):
        # RFC 9110: a 401 names the scheme the client should use.
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        detail = "The request body is not valid JSON."
    else:
        detail = "The request does not match the expected schema."
    return problem(422, "invalid-input", "Invalid input", detail, errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # Only the framework raises a bare 400, for a body it could not decode (JSON nested
        # too deeply, an integer too long for Python, bytes that are not UTF-8): that is
        # malformed JSON, which the contract answers 422 like any other bad input.
        detail = "The request body is not valid JSON."
        errors = [{"loc": ["body"], "msg": "could not parse the body as JSON"}]
        return problem(422, "invalid-input", "Invalid input", detail, errors)
    phrase = HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        # Only the router raises a bare 404 (no route matched; domain code raises NotFound):
        # its own type, so a typo in a path is not mistaken for a missing record.
        return problem(
            404,
            "route-not-found",
            "No such route",
            f"No operation at {request.method} {request.url.path}; see /docs.",
        )
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    response = problem(exc.status_code, phrase.lower().replace(" ", "-"), phrase, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _database_problem(request: Request, sqlstate: str, error: Exception) -> JSONResponse:
    if sqlstate.startswith("23"):
        # Constraints are the last line of defence: a race the service did not foresee is
        # a conflict with the stored state, never a server error.
        log.warning("integrity_error", error=str(error))
        return problem(
            409,
            "conflict",
            "Conflict with the current state",
            "The request conflicts with data stored concurrently.",
        )
    if sqlstate.startswith("22"):  # data exception: a value out of the column's range
        # Validation problems always carry `errors`; which field it was is not known here.
        where = "body" if request.method in ("POST", "PUT", "PATCH") else "query"
        errors = [{"loc": [where], "msg": "a value is out of range or not storable"}]
        return problem(422, "invalid-input", "Invalid input", "A value is out of range.", errors)
    if sqlstate in ("40001", "40P01"):  # serialization failure / deadlock: safe to retry
        return problem(
            409,
            "conflict",
            "Conflict with the current state",
            "The request raced another one; retry it.",
        )
    # Connection lost, timeouts, shutdown, too many connections…: the database is not
    # able to answer now. One log line, no traceback: an outage fails every request.
    from stockflow.core.reliability import database_unavailable

    return database_unavailable(error, sqlstate=sqlstate)


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    sqlstate = getattr(exc.orig, "sqlstate", None) or (
        "23000" if isinstance(exc, IntegrityError) else ""
    )
    return _database_problem(request, sqlstate, exc.orig or exc)


async def _driver_error(request: Request, exc: Exception) -> JSONResponse:
    # Statements sent on the raw asyncpg connection (the ledger's hot path, the report)
    # raise the driver's errors, not SQLAlchemy's; they mean the same.
    assert isinstance(exc, asyncpg.PostgresError)
    return _database_problem(request, exc.sqlstate or "", exc)


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error=repr(exc))
    return problem(500, "internal-error", "Internal error", "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StockflowError, _stockflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    app.add_exception_handler(asyncpg.PostgresError, _driver_error)
    app.add_exception_handler(Exception, _unhandled)
