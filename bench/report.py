"""The low-stock report: over HTTP vs its bare SQL, the 365-day vs the 30-day company,
and the N+1 baseline vs the endpoint, each in alternating rounds."""

import time
from collections.abc import Awaitable, Callable
from statistics import median
from typing import Any

from bench import measure
from bench.registry import Context, Target, measurement
from bench.stats import alternate, ratio, render, spread, summary


async def _block(once: Callable[[], Awaitable[None]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        await once()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


@measurement(
    "report",
    title="The report (window 30 days, whole company)",
    targets=[
        Target("http_p50_ms", "L", "<", 150),
        Target("ratio_http_over_sql", "L", "<=", 1.5),
        Target("ratio_history_365_over_30", "L", "<=", 1.3),
    ],
    markdown=lambda by: _markdown(by),
    method="Report: HTTP (365-day company), SQL (same), HTTP (30-day twin), SQL (twin) in "
    "alternating rounds (A B C D, then D C B A); each block is sequential requests on one "
    "keep-alive connection after a warm-up; ratios of the blocks' p50s per round.",
)
async def report(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    http = measure.ReportHttp(ctx.server, ctx.company_id)
    http_30d = measure.ReportHttp(ctx.server, ctx.twin_company_id)
    sides: dict[str, measure.ReportHttp | measure.ReportSql] = {
        "http": http,
        "sql": measure.ReportSql(ctx.conn, ctx.company_id),
        "http_30d": http_30d,
        "sql_30d": measure.ReportSql(ctx.conn, ctx.twin_company_id),
    }
    samples: dict[str, list[float]] = {name: [] for name in sides}
    per_round: dict[str, list[float]] = {
        "http_p50_ms": [],
        "ratio_http_over_sql": [],
        "ratio_history_365_over_30": [],
        "ratio_history_365_over_30_sql": [],
    }
    try:
        for side in sides.values():
            await _block(side.once, plan.warmup)
        with ctx.ui.step(f"{ctx.size.name}: report, {plan.rounds} rounds", plan.rounds) as adv:
            for i in range(plan.rounds):
                p50: dict[str, float] = {}
                for name in alternate(i, list(sides)):
                    block = await _block(sides[name].once, plan.requests)
                    samples[name] += block
                    p50[name] = median(block)
                per_round["http_p50_ms"].append(p50["http"])
                per_round["ratio_http_over_sql"].append(ratio(p50["http"], p50["sql"]))
                per_round["ratio_history_365_over_30"].append(ratio(p50["http"], p50["http_30d"]))
                per_round["ratio_history_365_over_30_sql"].append(ratio(p50["sql"], p50["sql_30d"]))
                adv()
        body, twin = http.last(), http_30d.last()
    finally:
        await http.close()
        await http_30d.close()
    shift_p, shift_w = ctx.size.products, ctx.size.warehouses
    same_twin = [(a["product_id"] - shift_p, a["warehouse_id"] - shift_w) for a in twin["alerts"]]
    ctx.results["report_body"] = body  # the N+1 baseline checks its alerts against these
    return {
        "alerts": body["total_alerts"],
        "twin_same_alerts": same_twin
        == [(a["product_id"], a["warehouse_id"]) for a in body["alerts"]],
        **{key: spread(values) for key, values in per_round.items()},
        "http": summary(samples["http"]),
        "sql": summary(samples["sql"]),
        "http_30d": summary(samples["http_30d"]),
        "sql_30d": summary(samples["sql_30d"]),
        "explain": await measure.explain(ctx.conn, ctx.company_id),
    }


@measurement(
    "n_plus_1",
    title="The N+1 baseline vs the endpoint",
    targets=[Target("ratio_n_plus_1_over_http", "M", ">=", 50)],
    markdown=lambda by: _markdown_n1(by),
    method="N+1: the usual case-study answer (list the company's inventory rows, one sales "
    "query per row, one supplier query per alert) on a prepared asyncpg connection (no HTTP, "
    "no ORM: this flatters it), alternating with a block of endpoint requests; its alerts "
    "are checked equal to the endpoint's.",
)
async def n_plus_1(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    http = measure.ReportHttp(ctx.server, ctx.company_id)
    n1_ms: list[float] = []
    per_round: list[float] = []
    queries = 0
    alerts: list[dict[str, Any]] = []
    try:
        await _block(http.once, plan.warmup)
        label = f"{ctx.size.name}: N+1, {plan.n_plus_1_rounds} rounds"
        with ctx.ui.step(label, plan.n_plus_1_rounds) as adv:
            for i in range(plan.n_plus_1_rounds):
                http_p50 = n1 = 0.0
                for side in alternate(i, ["http", "n1"]):
                    if side == "http":
                        http_p50 = median(await _block(http.once, plan.requests))
                    else:
                        t = time.perf_counter()
                        alerts, queries = await measure.n_plus_1_report(ctx.conn, ctx.company_id)
                        n1 = (time.perf_counter() - t) * 1000
                n1_ms.append(n1)
                per_round.append(ratio(n1, http_p50))
                adv()
        body = http.last()
    finally:
        await http.close()

    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        return (a["product_id"], a["warehouse_id"], a["recommended_order_quantity"])

    return {
        "queries": queries,
        "n_plus_1_ms": spread(n1_ms, 1),
        "ratio_n_plus_1_over_http": spread(per_round, 1),
        "same_alerts_as_http": [key(a) for a in alerts] == [key(a) for a in body["alerts"]],
    }


def _markdown(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | alerts | HTTP p50 / p95 / p99 ms | SQL p50 / p95 / p99 ms "
        "| HTTP / SQL | 365 d / 30 d HTTP | 365 d / 30 d SQL | HTTP p50 per round ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        h, s = r["http"], r["sql"]
        lines.append(
            f"| {name} | {r['alerts']:,} | {h['p50_ms']} / {h['p95_ms']} / {h['p99_ms']} | "
            f"{s['p50_ms']} / {s['p95_ms']} / {s['p99_ms']} | "
            f"{render(r['ratio_http_over_sql'])} | {render(r['ratio_history_365_over_30'])} | "
            f"{render(r['ratio_history_365_over_30_sql'])} | {render(r['http_p50_ms'])} |"
        )
    big = list(by)[-1]
    lines += [
        "",
        f"The report's plan on {big} (EXPLAIN (ANALYZE, BUFFERS)):",
        "",
        "```",
        by[big]["explain"],
        "```",
    ]
    return lines


def _markdown_n1(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | N+1 ms | queries | N+1 / HTTP | same alerts as the endpoint |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        lines.append(
            f"| {name} | {render(r['n_plus_1_ms'])} | {r['queries']:,} | "
            f"{render(r['ratio_n_plus_1_over_http'])} | "
            f"{'yes' if r['same_alerts_as_http'] else '**no**'} |"
        )
    return lines
