"""`python -m bench [--quick] [--sizes S,M,L]`: generate, load, measure, write results.

Full run: S, M and L. Quick run (`make bench QUICK=1`): S and a short M (fewer requests,
fewer N+1 repetitions, shorter write runs), in well under 3 minutes.
"""

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console

from bench import dataset, measure, purchasing
from bench.database import (
    DATA_DIR,
    REPO_ROOT,
    DeferredIndexes,
    drop_database,
    dsn,
    fresh_database,
    server_url,
)
from bench.output import write_outputs
from stockflow.core import embedded

console = Console()
DB_NAME = "stockflow_bench"
RESULTS = REPO_ROOT / "bench" / "results"
LOADED_TABLES = ["ledger_entries", "inventory_levels", "product_suppliers", "bundle_components"]


@dataclass(frozen=True)
class Plan:
    report_runs: int
    warmup: int
    n_plus_1_runs: int
    write_seconds: float
    write_clients: int = 32


def plans(quick: bool) -> dict[str, Plan]:
    if quick:
        return {"S": Plan(30, 3, 3, 5), "M": Plan(30, 3, 1, 5)}
    return {"S": Plan(50, 5, 5, 15), "M": Plan(50, 5, 3, 15), "L": Plan(50, 5, 1, 15)}


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


async def prepare(size: dataset.Size, url: str) -> tuple[str, dataset.Dataset, dict[str, Any]]:
    t = time.perf_counter()
    data = dataset.generate(size)
    generated = time.perf_counter() - t
    db_url = await fresh_database(url, DB_NAME)
    conn = await asyncpg.connect(dsn(db_url))
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET synchronous_commit = off")
        t = time.perf_counter()
        deferred = DeferredIndexes(conn, LOADED_TABLES)
        await deferred.drop()
        await dataset.load(conn, data)
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        await deferred.restore()
        indexed = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        vacuumed = time.perf_counter() - t
        mismatched = await conn.fetchval(
            """
            SELECT count(*) FROM inventory_levels AS l
            FULL JOIN (SELECT product_id, warehouse_id, sum(delta) AS total
                       FROM ledger_entries GROUP BY product_id, warehouse_id) AS s
              ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id
            WHERE coalesce(l.quantity, 0) <> coalesce(s.total, 0)
            """
        )
        if mismatched:
            raise RuntimeError(f"{mismatched} levels differ from their ledger sums")
        stale = await conn.fetchval(
            """
            SELECT count(*) FROM inventory_levels AS l
            LEFT JOIN (SELECT product_id, warehouse_id, max(occurred_at) AS latest
                       FROM ledger_entries WHERE reason = 'sale'
                       GROUP BY product_id, warehouse_id) AS s
              ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id
            WHERE l.last_sold_at IS DISTINCT FROM s.latest
            """
        )
        if stale:
            raise RuntimeError(f"{stale} levels' last_sold_at differ from their ledgers")
        counts = {
            "ledger_rows": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 1"
            ),
            "sales_in_window": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 1 AND reason = 'sale' "
                "AND occurred_at > now() - interval '30 days'"
            ),
            "inventory_levels": await conn.fetchval(
                "SELECT count(*) FROM inventory_levels WHERE company_id = 1"
            ),
            "twin_ledger_rows": await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE company_id = 2"
            ),
            "server_version": await conn.fetchval("SHOW server_version"),
        }
    finally:
        await conn.close()
    info = {
        "warehouses": size.warehouses,
        "products": size.products,
        "history_days": size.days,
        **counts,
        "generate_s": round(generated, 1),
        "copy_s": round(loaded, 1),
        "index_s": round(indexed, 1),
        "vacuum_analyze_s": round(vacuumed, 1),
    }
    return db_url, data, info


async def measure_dataset(size: dataset.Size, plan: Plan, url: str) -> dict[str, Any]:
    console.rule(f"[bold]{size.name}[/]: {size.warehouses} warehouses, {size.products} products")
    db_url, data, info = await prepare(size, url)
    console.print(info)
    main_co, twin_co = data.company_id, data.twin_company_id
    result: dict[str, Any] = {"dataset": size.name, **info}

    conn = await asyncpg.connect(dsn(db_url), server_settings=measure.SERVER_SETTINGS)
    try:
        sql = await measure.report_sql(conn, main_co, plan.report_runs, plan.warmup)
        sql_30 = await measure.report_sql(conn, twin_co, plan.report_runs, plan.warmup)
        result["report_sql"] = measure.summary(sql)
        result["report_sql_history_30d"] = measure.summary(sql_30)
        result["explain"] = await measure.explain(conn, main_co)
        console.print(
            "report SQL", result["report_sql"], "30d history", result["report_sql_history_30d"]
        )

        log = DATA_DIR / f"server-{size.name}.log"
        async with measure.Server(db_url, log) as server:
            http, body = await measure.report_http(server, main_co, plan.report_runs, plan.warmup)
            http_30, body_30 = await measure.report_http(
                server, twin_co, plan.report_runs, plan.warmup
            )
            result["report_http"] = measure.summary(http)
            result["report_http_history_30d"] = measure.summary(http_30)
            result["alerts"] = body["total_alerts"]
            console.print("report HTTP", result["report_http"], "alerts", body["total_alerts"])
            if [
                (a["product_id"] - size.products, a["warehouse_id"] - size.warehouses)
                for a in body_30["alerts"]
            ] != [(a["product_id"], a["warehouse_id"]) for a in body["alerts"]]:
                console.print("[yellow]the 30-day twin's report differs from the main one[/]")

            n1_samples = []
            n1_queries = 0
            for _ in range(plan.n_plus_1_runs):
                t = time.perf_counter()
                n1_alerts, n1_queries = await measure.n_plus_1_report(conn, main_co)
                n1_samples.append((time.perf_counter() - t) * 1000)
            same = [
                (a["product_id"], a["warehouse_id"], a["recommended_order_quantity"])
                for a in n1_alerts
            ] == [
                (a["product_id"], a["warehouse_id"], a["recommended_order_quantity"])
                for a in body["alerts"]
            ]
            result["report_n_plus_1"] = {
                **measure.summary(n1_samples),
                "queries": n1_queries,
                "same_alerts_as_http": same,
            }
            console.print("N+1", result["report_n_plus_1"])

            pairs = await _write_pairs(conn, server, main_co)
            http_rate, http_failed = await measure.writes_http(
                server, main_co, pairs, plan.write_clients, plan.write_seconds
            )
            result["purchasing"] = await purchasing.measure_purchasing(
                server, conn, dsn(db_url), main_co, pairs, plan.write_clients, plan.write_seconds
            )
            console.print("purchasing", result["purchasing"])
        pool = await asyncpg.create_pool(
            dsn(db_url),
            min_size=plan.write_clients,
            max_size=plan.write_clients,
            server_settings=measure.SERVER_SETTINGS,
        )
        try:
            sql_rate, sql_failed = await measure.writes_sql(
                pool, main_co, pairs, plan.write_clients, plan.write_seconds
            )
        finally:
            await pool.close()
        result["writes"] = {
            "clients": plan.write_clients,
            "seconds": plan.write_seconds,
            "http_per_s": round(http_rate, 1),
            "sql_per_s": round(sql_rate, 1),
            "http_failed": http_failed,
            "sql_failed": sql_failed,
        }
        console.print("writes", result["writes"])
    finally:
        await conn.close()

    r = result
    r["ratio_http_over_sql"] = _ratio(r["report_http"]["p50_ms"], r["report_sql"]["p50_ms"])
    r["ratio_n_plus_1_over_http"] = _ratio(
        r["report_n_plus_1"]["p50_ms"], r["report_http"]["p50_ms"]
    )
    r["ratio_history_365_over_30"] = _ratio(
        r["report_http"]["p50_ms"], r["report_http_history_30d"]["p50_ms"]
    )
    r["ratio_history_365_over_30_sql"] = _ratio(
        r["report_sql"]["p50_ms"], r["report_sql_history_30d"]["p50_ms"]
    )
    r["ratio_writes_http_over_sql"] = _ratio(r["writes"]["http_per_s"], r["writes"]["sql_per_s"])
    purchases = r["purchasing"]
    r["ratio_from_alerts_over_report_http"] = _ratio(
        purchases["from_alerts_http"]["p50_ms"], r["report_http"]["p50_ms"]
    )
    r["ratio_receipts_http_over_sql"] = _ratio(
        purchases["receipts"]["http_per_s"], purchases["receipts"]["sql_per_s"]
    )
    return result


async def _write_pairs(
    conn: asyncpg.Connection, server: measure.Server, company_id: int
) -> list[tuple[int, int]]:
    """1,000 stocked pairs of active products, topped up through the API (one receipt
    movement) so that the write runs never run out of stock."""
    rows = await conn.fetch(
        """
        SELECT l.product_id, l.warehouse_id FROM inventory_levels AS l
        JOIN products AS p ON p.id = l.product_id
        WHERE l.company_id = $1 AND p.is_active AND NOT p.is_bundle
        ORDER BY l.product_id, l.warehouse_id LIMIT 1000
        """,
        company_id,
    )
    pairs = [(r["product_id"], r["warehouse_id"]) for r in rows]
    http = server.connection()
    status, body = await http.request(
        "POST",
        f"/api/companies/{company_id}/stock-movements",
        {
            "reason": "receipt",
            "reference": "bench top-up",
            "lines": [{"product_id": p, "warehouse_id": w, "delta": 100_000} for p, w in pairs],
        },
    )
    await http.close()
    if status != 201:
        raise RuntimeError(f"top-up failed: {status} {body[:300]!r}")
    return pairs


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="S and a short M")
    parser.add_argument("--sizes", help="comma-separated subset of S,M,L")
    parser.add_argument("--keep", action="store_true", help="keep the last bench database")
    args = parser.parse_args(argv)
    run_plans = plans(args.quick)
    if args.sizes:
        full = plans(False)
        run_plans = {s: run_plans.get(s, full[s]) for s in args.sizes.upper().split(",")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = server_url()
    started = time.perf_counter()
    results = []
    try:
        for name, plan in run_plans.items():
            results.append(await measure_dataset(dataset.SIZES[name], plan, url))
        if not args.keep:
            await drop_database(url, DB_NAME)
    finally:
        embedded.stop()
    command = "make bench" + (" QUICK=1" if args.quick else "")
    if args.sizes:
        command = f"python -m bench {' '.join(argv)}"
    info = machine()
    info["postgresql"] = results[-1]["server_version"]
    info["database"] = (
        "STOCKFLOW_DATABASE_URL" if os.environ.get("STOCKFLOW_DATABASE_URL") else "embedded"
    )
    summary = write_outputs(
        results,
        command=command,
        machine=info,
        elapsed_s=round(time.perf_counter() - started, 1),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        full=not args.quick and not args.sizes,
    )
    console.print_json(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
