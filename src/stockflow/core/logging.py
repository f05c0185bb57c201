"""structlog configuration and the middleware that gives each request an id."""

import logging
import re
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


_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def _route_label(path: str, status: int) -> str:
    """A low-cardinality metrics label: ids folded to `{id}`; unrouted paths lumped."""
    if status in (404, 405) and not path.startswith("/api/companies/"):
        return "unmatched"
    return _ID_SEGMENT.sub("/{id}", path)


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

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope["path"], status)
            metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 2),
            )
