"""`python -m bench [--quick] [--sizes S,M,L] [--only NAME,...] [--keep]`: generate and
load each dataset, run the registered measurements (bench/registry.py) on it, write the
results, drop the bench database.

Full run: S, M and L, every measurement; it replaces bench/results/latest.json (the run
before moves to previous.json) and the generated part of docs/benchmarks.md. Quick run
(`make bench QUICK=1`): S and M with fewer rounds; it and any partial run (`--sizes`,
`--only`) write bench/results/partial.json only.
"""

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console

from bench import dataset, measure, registry
from bench.database import (
    DATA_DIR,
    LOGS,
    REPO_ROOT,
    drop_database,
    dsn,
    remove_embedded_cluster,
    server_url,
    settle,
    uses_embedded,
)
from bench.loading import prepare, write_pairs
from bench.output import targets, write_outputs
from bench.registry import Context, Measurement, Plan
from bench.ui import UI
from stockflow.core import embedded

console = Console()
# One name per run: two benches on one server (say, two helpers) never drop each other's.
DB_NAME = f"stockflow_bench_{os.getpid()}"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


async def measure_dataset(
    size: dataset.Size, plan: Plan, url: str, measurements: list[Measurement], ui: UI
) -> dict[str, Any]:
    ui.log(f"[bold]{size.name}[/]: {size.warehouses} warehouses, {size.products} products")
    with ui.step(f"{size.name}: generate, load, check"):
        db_url, data, info = await prepare(size, url, DB_NAME)
    ui.log(info)
    out: dict[str, Any] = {"info": info, "measurements": {}}
    conn = await asyncpg.connect(dsn(db_url), server_settings=measure.SERVER_SETTINGS)
    try:
        log = LOGS / f"server-{size.name}.log"
        async with measure.Server(db_url, log) as server:
            pairs = await write_pairs(conn, server, data.company_id)
            ctx = Context(size, plan, data, db_url, conn, server, pairs, ui)
            for m in measurements:
                if m.datasets and size.name not in m.datasets:
                    continue
                settled = await settle(conn)
                if settled["timed_out"]:
                    ui.log(f"[yellow]the database did not settle: {settled}[/]")
                result = await m.run(ctx)
                out["measurements"][m.name] = {**result, "settle": settled}
                ui.log(m.name, {k: v for k, v in result.items() if k != "explain"})
    finally:
        await conn.close()
    return out


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


async def cleanup(url: str | None, keep: bool) -> None:
    """Drop the bench database and, for the embedded server, its files (unless --keep)."""
    if url is not None and not keep:
        try:
            await drop_database(url, DB_NAME)
        except (OSError, asyncpg.PostgresError) as exc:
            console.print(f"[yellow]could not drop {DB_NAME}: {exc}[/]")
    embedded.stop()
    if uses_embedded() and not keep:
        remove_embedded_cluster()


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="S and M, fewer rounds")
    parser.add_argument("--sizes", help="comma-separated subset of S,M,L")
    parser.add_argument("--only", help="comma-separated measurements (see bench/registry.py)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the last bench database and its server files"
    )
    args = parser.parse_args(argv)
    known = registry.load()
    measurements = list(known.values())
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            parser.error(f"unknown measurements {unknown}; known: {sorted(known)}")
        measurements = [m for m in measurements if m.name in wanted]
    run_plans = registry.plans(args.quick)
    if args.sizes:
        full = registry.plans(False)
        run_plans = {s: run_plans.get(s, full[s]) for s in args.sizes.upper().split(",")}
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    datasets: dict[str, dict[str, Any]] = {}
    steps = sum(
        1 + sum(1 for m in measurements if not m.datasets or name in m.datasets)
        for name in run_plans
    )
    url: str | None = None
    try:
        with UI(console) as ui:
            ui.overall(steps)
            url = server_url()
            for name, plan in run_plans.items():
                datasets[name] = await measure_dataset(
                    dataset.SIZES[name], plan, url, measurements, ui
                )
    finally:
        await cleanup(url, args.keep)
    full = not args.quick and not args.sizes and not args.only
    command = "make bench" + (" QUICK=1" if args.quick else "")
    if args.sizes or args.only:
        command = f"python -m bench {' '.join(argv)}"
    info = machine()
    info["postgresql"] = list(datasets.values())[-1]["info"]["server_version"]
    info["database"] = "embedded" if uses_embedded() else "STOCKFLOW_DATABASE_URL"
    summary: dict[str, Any] = {
        "format": 2,
        "command": command,
        "git_commit": git_commit(),
        "machine": info,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    summary["targets"] = targets(measurements, datasets)
    summary["datasets"] = datasets
    written = write_outputs(summary, measurements, full=full)
    console.print_json(json.dumps(summary["targets"], default=str))
    for path in written:
        console.print(f"wrote [bold]{path.relative_to(REPO_ROOT)}[/]")
    if not full:
        console.print("(a quick or partial run: latest.json and docs/benchmarks.md unchanged)")
    console.print(f"server logs: {LOGS}")
    if args.keep:
        console.print(f"kept the database {DB_NAME} (--keep)")
    else:
        removed = f" and {DATA_DIR / 'pgdata'}" if uses_embedded() else ""
        console.print(f"dropped the database {DB_NAME}{removed}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
