"""`stockflow` command line: `serve` (migrate, then run the API) and `migrate`."""

import signal
import sys
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
    from stockflow.main import create_app

    settings = get_settings()
    try:
        upgrade_to_head(resolve_database_url(settings))
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with
        # the handlers it found at start. Turning SIGTERM into SystemExit (SIGINT already
        # is KeyboardInterrupt) lets the `finally` below stop the embedded database.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            access_log=False,
            log_level="info",
        )
    finally:
        embedded.stop()
