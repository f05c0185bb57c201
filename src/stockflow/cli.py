"""`stockflow` command line: `serve` (migrate, then run the API) and `migrate`."""

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


@main.command()
@click.option("--host", default=None, help="Overrides STOCKFLOW_HOST.")
@click.option("--port", default=None, type=int, help="Overrides STOCKFLOW_PORT.")
def serve(host: str | None, port: int | None) -> None:
    """Migrate to the newest revision, then serve the API until Ctrl-C or SIGTERM."""
    from stockflow.main import create_app

    settings = get_settings()
    try:
        upgrade_to_head(resolve_database_url(settings))
        # uvicorn turns SIGINT/SIGTERM into a graceful shutdown and returns here, so the
        # embedded database is stopped below instead of being left running.
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            access_log=False,
            log_level="info",
        )
    finally:
        embedded.stop()
