"""The write path: single-line sales from 32 clients over HTTP vs the same statements in
the same transaction on a 32-connection asyncpg pool, in alternating rounds."""

from typing import Any

from bench import measure
from bench.registry import Context, Target, measurement
from bench.stats import alternate, ratio, render, spread


@measurement(
    "writes",
    title="The write path: single-line sales, 32 concurrent clients",
    targets=[Target("ratio_http_over_sql", size, ">=", 0.5) for size in ("S", "M", "L")],
    markdown=lambda by: _markdown(by),
    method="Writes: 32 clients posting single-line sales (`POST /stock-movements`, one "
    "keep-alive connection each) vs the app's own statements in one transaction on a "
    "32-connection asyncpg pool connected as the app role (row-level security on): tenant "
    "setting, references, level lock, level + entry write, the `stock.changed` event, the "
    "low-stock transitions; alternating blocks of a few seconds (after a 1 s warm-up of "
    "each); ratio of the two rates per round.",
)
async def writes(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    rates: dict[str, list[float]] = {"http": [], "sql": []}
    failed = {"http": 0, "sql": 0}
    per_round: list[float] = []
    async with (
        measure.http_sales(ctx.server, ctx.company_id, ctx.pairs, plan.clients) as http,
        ctx.pool() as pool,
    ):
        loads = {
            "http": http,
            "sql": measure.sql_sales(pool, ctx.company_id, ctx.pairs, plan.clients),
        }
        for load in loads.values():
            await load.run_for(1.0)
        label = f"{ctx.size.name}: writes, {plan.write_rounds} rounds"
        with ctx.ui.step(label, plan.write_rounds) as adv:
            for i in range(plan.write_rounds):
                for name in alternate(i, ["http", "sql"]):
                    rate, fails = await loads[name].run_for(plan.write_seconds)
                    rates[name].append(rate)
                    failed[name] += fails
                per_round.append(ratio(rates["http"][-1], rates["sql"][-1]))
                adv()
    return {
        "clients": plan.clients,
        "seconds_per_block": plan.write_seconds,
        "http_per_s": spread(rates["http"], 1),
        "sql_per_s": spread(rates["sql"], 1),
        "ratio_http_over_sql": spread(per_round),
        "http_failed": failed["http"],
        "connections_per_worker": http.per_worker,
        "sql_failed": failed["sql"],
    }


def _markdown(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | HTTP sales/s | asyncpg sales/s (same transaction) | HTTP / SQL | failed |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, w in by.items():
        lines.append(
            f"| {name} | {render(w['http_per_s'])} | {render(w['sql_per_s'])} | "
            f"{render(w['ratio_http_over_sql'])} | {w['http_failed']} / {w['sql_failed']} |"
        )
    return lines
