"""`python -m bench.pgbouncer_sales [--quick]`: single-line sales, direct with 2 workers vs
through PgBouncer (transaction pooling) with 4 workers: sales/s and p99 (issue 10).

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
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.database import REPO_ROOT, drop_database, dsn, fresh_database, server_url
from bench.measure import Server

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


async def _run_one(
    label: str, url: str, workers: int, env: dict[str, str], clients: int, seconds: float
) -> dict[str, Any]:
    saved = dict(os.environ)
    os.environ.update(env, STOCKFLOW_WORKERS=str(workers))
    try:
        with tempfile.NamedTemporaryFile(prefix=f"bench-{label}-", suffix=".log") as log:
            async with Server(url, Path(log.name)) as server:
                company, pairs = await _setup(server)
                await _sales(server, company, pairs, clients, min(2.0, seconds))  # warm-up
                result = await _sales(server, company, pairs, clients, seconds)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {"setup": label, "workers": workers, "clients": clients, **result}


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pgbouncer_sales", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 3 s smoke run")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else 20.0
    server = server_url()
    folder = Path(tempfile.mkdtemp(prefix="stockflow-pgbouncer-"))
    names = ("stockflow_bench_direct", "stockflow_bench_pgbouncer")
    results = []
    try:
        direct_url = await fresh_database(server, names[0])
        console.print("[bold]direct, 2 workers[/]")
        results.append(await _run_one("direct", direct_url, 2, {}, args.clients, seconds))
        bounced_db = await fresh_database(server, names[1])
        bounced_url = _start_pgbouncer(bounced_db, folder)
        console.print(f"[bold]PgBouncer ({bounced_url}), 4 workers[/]")
        cache_off = {"STOCKFLOW_DB_STATEMENT_CACHE_SIZE": "0"}
        results.append(
            await _run_one("pgbouncer", bounced_url, 4, cache_off, args.clients, seconds)
        )
    finally:
        pid_file = folder / "pgbouncer.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        for name in names:
            await drop_database(server, name)
    table = Table(title=f"Single-line sales, {args.clients} clients, {seconds:.0f} s")
    for column in ("setup", "workers", "sales", "errors", "sales_per_s", "p99_ms"):
        table.add_column(column)
    for row in results:
        table.add_row(
            *(str(row[c]) for c in ("setup", "workers", "sales", "errors", "sales_per_s", "p99_ms"))
        )
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "pgbouncer_sales.json"
    out.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2) + "\n")
    console.print(f"Results written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
