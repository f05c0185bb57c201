"""`stockflow` command line: `serve` (migrate, then run the API) and `migrate`."""

import os
import shutil
import signal
import sys
import tempfile
from types import FrameType

import click
import uvicorn

from stockflow.core import embedded
from stockflow.core.database import resolve_database_url
from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import get_settings


@click.group()
def main() -> None:
    """StockFlow inventory service."""


@main.command()
def migrate() -> None:
    """Migrate the database to the newest revision."""
    try:
        upgrade_to_head(resolve_database_url(get_settings()))
    finally:
        embedded.stop()


def _exit_on_sigterm(signum: int, _: FrameType | None) -> None:
    sys.exit(128 + signum)


@main.command()
@click.option("--host", default=None, help="Overrides STOCKFLOW_HOST.")
@click.option("--port", default=None, type=int, help="Overrides STOCKFLOW_PORT.")
def serve(host: str | None, port: int | None) -> None:
    """Migrate to the newest revision, then serve the API until Ctrl-C or SIGTERM."""
    from stockflow.main import _admin_token, create_app

    settings = get_settings()
    metrics_dir: str | None = None
    try:
        url = resolve_database_url(settings)
        upgrade_to_head(url)
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with
        # the handlers it found at start. Turning SIGTERM into SystemExit (SIGINT already
        # is KeyboardInterrupt) lets the `finally` below stop the embedded database.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        options = {
            "host": host or settings.host,
            "port": port or settings.port,
            "access_log": False,
            "log_level": "info",
            # Slow or idle clients must not hold connections forever (docs: Reliability).
            "timeout_keep_alive": settings.http_keep_alive_seconds,
            "limit_concurrency": settings.http_limit_concurrency,
        }
        if settings.workers == 1:
            uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
            return
        # Worker processes build their own app from the environment: hand them this
        # process's database (so none starts another embedded PostgreSQL), one admin
        # token for all, and a shared folder for the metrics of all workers.
        os.environ["STOCKFLOW_DATABASE_URL"] = url
        if settings.admin_token is None:
            os.environ["STOCKFLOW_ADMIN_TOKEN"] = _admin_token(settings)
        metrics_dir = tempfile.mkdtemp(prefix="stockflow-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        uvicorn.run(
            "stockflow.main:create_app",
            factory=True,
            workers=settings.workers,
            **options,  # type: ignore[arg-type]
        )
    finally:
        embedded.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
