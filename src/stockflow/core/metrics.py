"""Prometheus metrics, served at `/metrics`."""

import os
import time
from collections import Counter as Counter_
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter(
    "stockflow_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "stockflow_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# Database pool of each worker (summed over live workers), refreshed after each request.
POOL_CONNECTIONS = Gauge(
    "stockflow_db_pool_connections",
    "Connections of the database pool, by state (checked_out: in use by a request)",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge("stockflow_db_pool_size", "Configured pool size", multiprocess_mode="livemax")
# Counted when a movement's entries are written (a transaction that later rolls back
# still counted: an upper bound; the ledger itself is the exact record).
LEDGER_ENTRIES = Counter(
    "stockflow_ledger_entries_total", "Ledger entries written, by reason", ["reason"]
)
REPORT_DURATION = Histogram(
    "stockflow_low_stock_report_seconds",
    "Time to compute the low-stock report (the query and its rows, not the HTTP around it)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# For the events helper: webhook deliveries. `record_delivery` is the whole API.
DELIVERIES = Counter(
    "stockflow_event_deliveries_total", "Webhook delivery attempts, by outcome", ["outcome"]
)
DELIVERY_LAG = Histogram(
    "stockflow_event_delivery_lag_seconds",
    "From the event's commit to its successful delivery",
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


def record_delivery(ok: bool, lag_seconds: float | None = None) -> None:
    """One delivery attempt: `ok` and, when it succeeded, the event's age at delivery."""
    DELIVERIES.labels("delivered" if ok else "failed").inc()
    if ok and lag_seconds is not None:
        DELIVERY_LAG.observe(lag_seconds)


def record_ledger_entries(reasons: Iterable[str]) -> None:
    for reason, count in Counter_(reasons).items():
        LEDGER_ENTRIES.labels(reason).inc(count)


# The pool's gauges are a sample: refreshed at most this often per worker, not after
# every request (in multiprocess mode each `set` writes a shared file).
POOL_REFRESH_SECONDS = 1.0
_pool_refreshed = -POOL_REFRESH_SECONDS


def observe_pool(pool: Any) -> None:
    """A SQLAlchemy QueuePool's numbers (other pool classes have none to give), at most
    once per `POOL_REFRESH_SECONDS`."""
    global _pool_refreshed
    now = time.monotonic()
    if now - _pool_refreshed < POOL_REFRESH_SECONDS:
        return
    _pool_refreshed = now
    try:
        size, checked_out = pool.size(), pool.checkedout()
        idle, overflow = pool.checkedin(), pool.overflow()
    except AttributeError:
        return
    POOL_SIZE.set(size)
    POOL_CONNECTIONS.labels("checked_out").set(checked_out)
    POOL_CONNECTIONS.labels("idle").set(idle)
    POOL_CONNECTIONS.labels("overflow").set(max(overflow, 0))


# The labelled children, by label values: `labels()` takes a lock and builds its key
# on every call. Routes are templates (few), so these stay small.
_requests: dict[tuple[str, str, int], Any] = {}
_latency: dict[tuple[str, str], Any] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    counter = _requests.get((method, route, status))
    if counter is None:
        counter = _requests[method, route, status] = REQUESTS.labels(method, route, str(status))
    counter.inc()
    histogram = _latency.get((method, route))
    if histogram is None:
        histogram = _latency[method, route] = LATENCY.labels(method, route)
    histogram.observe(seconds)


async def metrics_endpoint(_: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several uvicorn workers (`stockflow serve`): add up every worker's numbers, so a
        # scrape does not see only the one worker that happened to answer it.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
