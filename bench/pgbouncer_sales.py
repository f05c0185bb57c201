"""Single-line sales, direct with 2 workers vs through PgBouncer (transaction pooling) with
4 workers: sales/s and p99 (issue 10). A measurement of `make bench` (on S), and on its own
`python -m bench.pgbouncer_sales [--quick]`.

Each setup gets a fresh database on the bench's server (STOCKFLOW_DATABASE_URL, else the
embedded one), `stockflow serve` in a subprocess, and the same closed-loop load: C
clients, each posting one-line sales (over many products, so rows are not one hot lock)
back to back for T seconds. PgBouncer comes from `scripts/pgbouncer.sh` (`make pgbouncer`
installs it). The databases are dropped afterwards; results go to
bench/results/pgbouncer_sales.json and are printed.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.database import LOGS, REPO_ROOT, drop_database, dsn, fresh_database, server_url
from bench.measure import Server
from bench.registry import Context, measurement
from bench.stats import alternate, ratio, render, spread

console = Console()
RESULTS = REPO_ROOT / "bench" / "results"
PRODUCTS = 200


async def _setup(server: Server) -> tuple[int, list[tuple[int, int]]]:
    conn = server.connection()
    status, body = await conn.request("POST", "/api/companies", {"name": "PgBouncer bench"})
    assert status == 201, body
    company = json.loads(body)["id"]
    base = f"/api/companies/{company}"
    status, body = await conn.request("POST", f"{base}/warehouses", {"name": "W"})
    warehouse = json.loads(body)["id"]
    pairs = []
    for i in range(PRODUCTS):
        product = {"name": f"P{i}", "sku": f"PGB-{i:05d}", "price": "1.00"}
        status, body = await conn.request("POST", f"{base}/products", product)
        assert status == 201, body
        pairs.append((json.loads(body)["id"], warehouse))
    lines = [{"product_id": p, "warehouse_id": w, "delta": 1_000_000} for p, w in pairs]
    for start in range(0, len(lines), 100):
        movement = {"reason": "receipt", "lines": lines[start : start + 100]}
        status, body = await conn.request("POST", f"{base}/stock-movements", movement)
        assert status == 201, body
    await conn.close()
    return company, pairs


async def _sales(
    server: Server, company: int, pairs: list[tuple[int, int]], clients: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal errors
        conn = server.connection()
        i = n
        while time.monotonic() < deadline:
            product, warehouse = pairs[i % len(pairs)]
            i += clients
            body = {
                "reason": "sale",
                "lines": [{"product_id": product, "warehouse_id": warehouse, "delta": -1}],
            }
            started = time.perf_counter()
            status, _ = await conn.request(
                "POST", f"/api/companies/{company}/stock-movements", body
            )
            latencies.append(time.perf_counter() - started)
            errors += status != 201
        await conn.close()

    began = time.monotonic()
    await asyncio.gather(*[client(n) for n in range(clients)])
    elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
    return {
        "sales": len(latencies),
        "errors": errors,
        "sales_per_s": round(len(latencies) / elapsed, 1),
        "p99_ms": round(p99 * 1000, 2),
    }


def _start_pgbouncer(db_url: str, folder: Path) -> str:
    script = REPO_ROOT / "scripts" / "pgbouncer.sh"
    started = subprocess.run(  # noqa: S603
        [str(script), dsn(db_url), "", str(folder)], capture_output=True, text=True, check=True
    )
    return started.stdout.strip()


@asynccontextmanager
async def _serving(
    label: str, url: str, workers: int, env: dict[str, str]
) -> AsyncIterator[tuple[Server, int, list[tuple[int, int]]]]:
    """`stockflow serve` with `workers` and `env` on `url`, with a stocked company."""
    log = LOGS / f"pgbouncer-bench-{label}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    async with Server(url, log, {**env, "STOCKFLOW_WORKERS": str(workers)}) as server:
        company, pairs = await _setup(server)
        yield server, company, pairs


@asynccontextmanager
async def _setups() -> AsyncIterator[dict[str, tuple[Server, int, list[tuple[int, int]]]]]:
    """Both setups running side by side, each on a fresh database of the bench's server;
    both databases are dropped and PgBouncer stopped afterwards."""
    server = server_url()
    folder = Path(tempfile.mkdtemp(prefix="stockflow-pgbouncer-"))
    names = ("stockflow_bench_direct", "stockflow_bench_pgbouncer")
    try:
        async with AsyncExitStack() as stack:
            direct_url = await fresh_database(server, names[0])
            # Pools sized to the 32 clients: the bench's main server still holds its own
            # connections, and PostgreSQL's max_connections (100) must fit both setups.
            pool = {"STOCKFLOW_DB_POOL_SIZE": "16", "STOCKFLOW_DB_MAX_OVERFLOW": "0"}
            direct = await stack.enter_async_context(_serving("direct", direct_url, 2, pool))
            bounced_url = _start_pgbouncer(await fresh_database(server, names[1]), folder)
            cache_off = {"STOCKFLOW_DB_STATEMENT_CACHE_SIZE": "0", **pool}
            bounced = await stack.enter_async_context(
                _serving("pgbouncer", bounced_url, 4, cache_off)
            )
            yield {"direct": direct, "pgbouncer": bounced}
    finally:
        pid_file = folder / "pgbouncer.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
        for name in names:
            await drop_database(server, name)


async def compare(
    clients: int, seconds: float, rounds: int, advance: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """Both setups under the same closed-loop sales load, in alternating blocks."""
    per: dict[str, list[dict[str, Any]]] = {"direct": [], "pgbouncer": []}
    ratios: list[float] = []
    async with _setups() as setups:
        for server, company, pairs in setups.values():
            await _sales(server, company, pairs, clients, min(2.0, seconds))  # warm-up
        for i in range(rounds):
            for label in alternate(i, list(setups)):
                server, company, pairs = setups[label]
                per[label].append(await _sales(server, company, pairs, clients, seconds))
            ratios.append(
                ratio(per["pgbouncer"][-1]["sales_per_s"], per["direct"][-1]["sales_per_s"])
            )
            advance()
    out: dict[str, Any] = {"clients": clients, "seconds_per_block": seconds}
    for label, blocks in per.items():
        out[f"{label}_sales_per_s"] = spread([b["sales_per_s"] for b in blocks], 1)
        out[f"{label}_p99_ms"] = spread([b["p99_ms"] for b in blocks], 1)
        out[f"{label}_errors"] = sum(b["errors"] for b in blocks)
    out["ratio_pgbouncer_over_direct"] = spread(ratios)
    return out


@measurement(
    "pgbouncer",
    title="Single-line sales: 4 workers through PgBouncer vs 2 workers direct",
    datasets=("S",),
    method="PgBouncer: two fresh databases on the bench's server, `stockflow serve` with 2 "
    "workers on one directly and with 4 workers through scripts/pgbouncer.sh (transaction "
    "pooling, statement caches off) on the other, the same 32-client closed-loop sales "
    "load in alternating blocks; sales/s and p99 per block.",
)
async def pgbouncer(ctx: Context) -> dict[str, Any]:
    if not (shutil.which("pgbouncer") or os.access("/usr/sbin/pgbouncer", os.X_OK)):
        return {"skipped": "pgbouncer is not installed (make pgbouncer)"}
    plan = ctx.plan
    with ctx.ui.step(
        f"{ctx.size.name}: pgbouncer, {plan.write_rounds} rounds", plan.write_rounds
    ) as adv:
        return await compare(plan.clients, plan.write_seconds, plan.write_rounds, adv)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pgbouncer_sales", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one 3 s block per setup")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args(argv)
    seconds, rounds = (3.0, 1) if args.quick else (10.0, 3)
    result = await compare(args.clients, seconds, rounds)
    table = Table(title=f"Single-line sales, {args.clients} clients, {rounds} x {seconds:.0f} s")
    for column in ("setup", "workers", "sales/s (median, min-max)", "p99 ms", "errors"):
        table.add_column(column)
    for label, workers in (("direct", 2), ("pgbouncer", 4)):
        table.add_row(
            label,
            str(workers),
            render(result[f"{label}_sales_per_s"]),
            render(result[f"{label}_p99_ms"]),
            str(result[f"{label}_errors"]),
        )
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "pgbouncer_sales.json"
    out.write_text(json.dumps({"quick": args.quick, **result}, indent=2) + "\n")
    console.print(f"Results written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
