"""structlog configuration and the middleware that gives each request an id."""

import json
import logging
import sys
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockflow.core import metrics

REQUEST_ID_HEADER = b"x-request-id"


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    """JSON lines when asked, or when stderr is not a terminal (a file, a pipe, a log
    collector): the dev console renderer is for people and costs far more per line."""
    if not json and not sys.stderr.isatty():
        json = True
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


log = structlog.get_logger("stockflow.http")


def _route_label(scope: Scope) -> str:
    """A low-cardinality metrics label: the matched route's template
    (`/api/companies/{company_id}/products`), rebuilt from the path by putting each path
    parameter's name back in its segment; every path that matched no route shares
    `unmatched`, so junk paths cannot grow /metrics (issue 7, point 3)."""
    if "endpoint" not in scope:
        return "unmatched"
    params = list(scope.get("path_params", {}).items())
    segments = []
    for segment in scope["path"].split("/"):
        if params and segment == str(params[0][1]):
            segments.append("{" + params.pop(0)[0] + "}")
        else:
            segments.append(segment)
    return "/".join(segments)


def _problem_type(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else None


class RequestContextMiddleware:
    """Binds a request id (the caller's `X-Request-ID` or a new one) to every log line,
    echoes it in the response, logs one access line and records the metrics. Pure ASGI,
    so it adds no per-request task or body buffering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        if not request_id or len(request_id) > 128:
            request_id = uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        is_problem = False
        problem_type: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, is_problem, problem_type
            if message["type"] == "http.response.start":
                status = message["status"]
                is_problem = status >= 400 and any(
                    k == b"content-type" and v.startswith(b"application/problem+json")
                    for k, v in message.get("headers", [])
                )
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode("latin-1")),
                ]
            elif is_problem and problem_type is None and message["type"] == "http.response.body":
                # Problems are small single-chunk bodies; the type names the failure.
                problem_type = _problem_type(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            metrics.observe(scope["method"], route, status, elapsed)
            engine = getattr(getattr(scope.get("app"), "state", None), "engine", None)
            if engine is not None:
                metrics.observe_pool(engine.pool)
            fields: dict[str, object] = {}
            company_id = scope.get("path_params", {}).get("company_id")
            if company_id is not None:
                fields["company_id"] = company_id
            if problem_type is not None:
                fields["problem_type"] = problem_type
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 2),
                **fields,
            )


class _StructlogHandler(logging.Handler):
    """Hands a stdlib record (uvicorn's own lines: start-up, shutdown, errors) to
    structlog, so the whole stream is one format (JSON lines in production)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = structlog.get_logger(record.name)
        level = record.levelname.lower()
        extra: dict[str, object] = {}
        if record.exc_info:
            extra["exc_info"] = record.exc_info
        getattr(logger, level if level != "critical" else "critical", logger.info)(
            record.getMessage(), **extra
        )


def uvicorn_log_config(level: str = "INFO", json: bool = False) -> dict[str, object]:
    """uvicorn's `log_config`: its loggers go through structlog (configured here too, as
    each worker process configures its own in `create_app`)."""
    configure_logging(level, json)
    handler = f"{__name__}._StructlogHandler"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"structlog": {"()": handler}},
        "loggers": {
            name: {"handlers": ["structlog"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
