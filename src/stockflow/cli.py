"""`stockflow` command line: serve, migrate, create-company, demo, alerts, bench.

Every command reads the same settings as `serve` (environment, then `.env`), so `stockflow
demo` after `make run` fills the database the server uses. A bad setting ends in one line
naming the variable (see core/startup.py) and exit status 2, never a traceback.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from types import FrameType
from typing import Any

import click
from rich.console import Console

from stockflow.core import embedded
from stockflow.core.database import resolve_database_url
from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from stockflow.core.startup import (
    EXIT_BAD_SETTING,
    SettingsProblem,
    check_database_reachable,
    checked_settings,
)

console = Console()
errors = Console(stderr=True)


def _version() -> str:
    try:
        return version("stockflow")
    except PackageNotFoundError:  # pragma: no cover - running from an unpacked tree
        return "unknown"


class _Group(click.Group):
    """Turns `SettingsProblem` from any command into its one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsProblem as problem:
            errors.print(f"[bold red]error:[/] {problem}", highlight=False, soft_wrap=True)
            sys.exit(EXIT_BAD_SETTING)


@click.group(cls=_Group)
@click.version_option(_version(), "--version", "-V", prog_name="stockflow")
def main() -> None:
    """StockFlow inventory service."""


def database_url(settings: Settings) -> str:
    """The checked database URL (the embedded server is started if none is set)."""
    if settings.database_url:
        check_database_reachable("STOCKFLOW_DATABASE_URL", settings.database_url)
        if settings.read_database_url:
            check_database_reachable("STOCKFLOW_READ_DATABASE_URL", settings.read_database_url)
    return resolve_database_url(settings)


def _with_database(run: Callable[[Settings, str], None]) -> None:
    settings = checked_settings()
    try:
        run(settings, database_url(settings))
    finally:
        embedded.stop()


@main.command()
def migrate() -> None:
    """Migrate the database to the newest revision (under an advisory lock)."""
    _with_database(lambda _, url: upgrade_to_head(url))
    console.print("[green]Database is at the newest revision.[/]")


def _exit_on_sigterm(signum: int, _: FrameType | None) -> None:
    sys.exit(128 + signum)


@main.command()
@click.option("--host", default=None, help="Overrides STOCKFLOW_HOST.")
@click.option(
    "--port", default=None, type=click.IntRange(1, 65535), help="Overrides STOCKFLOW_PORT."
)
@click.option(
    "--workers", default=None, type=click.IntRange(1, 64), help="Overrides STOCKFLOW_WORKERS."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate to the newest revision, then serve the API until Ctrl-C or SIGTERM."""
    settings = checked_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    try:
        _serve(settings, database_url(settings), host, port)
    finally:
        embedded.stop()


def _serve(settings: Settings, url: str, host: str | None, port: int | None) -> None:
    import uvicorn

    from stockflow.core.logging import uvicorn_log_config
    from stockflow.main import _admin_token, create_app

    metrics_dir: str | None = None
    upgrade_to_head(url)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with
    # the handlers it found at start. Turning SIGTERM into SystemExit (SIGINT already
    # is KeyboardInterrupt) lets the caller's `finally` stop the embedded database.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "access_log": False,
        "log_level": settings.log_level.lower(),
        "log_config": uvicorn_log_config(settings.log_level, settings.log_json),
        # Slow or idle clients must not hold connections forever (docs: Reliability).
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "limit_concurrency": settings.http_limit_concurrency,
    }
    try:
        if settings.workers == 1:
            uvicorn.run(create_app(settings), **options)
            return
        # Worker processes build their own app from the environment: hand them this
        # process's database (so none starts another embedded PostgreSQL), one admin
        # token for all, and a shared folder for the metrics of all workers.
        os.environ["STOCKFLOW_DATABASE_URL"] = url
        if settings.admin_token is None:
            os.environ["STOCKFLOW_ADMIN_TOKEN"] = _admin_token(settings)
        metrics_dir = tempfile.mkdtemp(prefix="stockflow-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        uvicorn.run("stockflow.main:create_app", factory=True, workers=settings.workers, **options)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@main.command("create-company")
@click.argument("name")
def create_company(name: str) -> None:
    """Create a company and print its API key (shown once: store it)."""
    from stockflow.cli_data import create_company as create

    def run(settings: Settings, url: str) -> None:
        upgrade_to_head(url)
        company = asyncio.run(create(settings, url, name))
        console.print(f"Company [bold]{company.name}[/] created with id [bold]{company.id}[/].")
        console.print("API key (shown once, store it now):")
        # Plain print: the key must be copyable, without rich's wrapping or markup.
        print(company.api_key, flush=True)

    _with_database(run)


@main.command()
@click.option("--days", default=90, show_default=True, type=click.IntRange(7, 365))
@click.option("--seed", default=None, type=int, help="Same seed, same data.")
def demo(days: int, seed: int | None) -> None:
    """Create a demo company with a season of sales, so the report has alerts."""
    from stockflow.cli_data import run_demo

    def run(settings: Settings, url: str) -> None:
        upgrade_to_head(url)
        result = asyncio.run(run_demo(settings, url, days=days, seed=seed, console=console))
        base = f"http://{settings.host}:{settings.port}"
        console.print(
            f"\n[green]Demo company {result.company_id} ready[/]: "
            f"{result.products} products, {result.sales} sale lines over {days} days, "
            f"{result.alerts} low-stock alerts."
        )
        console.print("API key (shown once, store it now):")
        print(result.api_key)
        console.print("Try it (with `stockflow serve` / `make run` running):")
        print(
            f"curl -s -H 'Authorization: Bearer {result.api_key}' "
            f"{base}/api/companies/{result.company_id}/alerts/low-stock",
            flush=True,
        )
        console.print(f"or: stockflow alerts {result.company_id}")

    _with_database(run)


@main.command()
@click.argument("company_id", type=click.IntRange(1))
@click.option("--window-days", default=30, show_default=True, type=click.IntRange(1, 365))
def alerts(company_id: int, window_days: int) -> None:
    """Print a company's low-stock report as a table."""
    from stockflow.cli_data import alert_table, low_stock

    def run(settings: Settings, url: str) -> None:
        report = asyncio.run(low_stock(settings, url, company_id, window_days))
        if report is None:
            errors.print(f"[bold red]error:[/] company {company_id} not found")
            sys.exit(1)
        console.print(alert_table(company_id, report))

    _with_database(run)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Run the benchmarks (`bench` module of a checkout; arguments are passed on)."""
    if not os.path.isfile(os.path.join("bench", "__main__.py")):
        errors.print(
            "[bold red]error:[/] the bench module is part of the source checkout; run "
            "`stockflow bench` (or `make bench`) from the repository's folder."
        )
        sys.exit(1)
    sys.exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args]))  # noqa: S603
