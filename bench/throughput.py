"""HTTP against the same statements on asyncpg, as throughput: the comparison that the
write-side measurements (writes, receipts, reservations) share."""

from collections.abc import Callable
from typing import Any

from bench.measure import SaleLoad
from bench.registry import Context
from bench.stats import alternate, ratio, render, spread


async def http_over_sql(ctx: Context, name: str, http: SaleLoad, sql: SaleLoad) -> dict[str, Any]:
    """Warm both loads for 1 s, then `plan.write_rounds` rounds of one `write_seconds` block
    each, alternating which goes first; the rates, the failures and the per-round ratio."""
    plan = ctx.plan
    loads = {"http": http, "sql": sql}
    rates: dict[str, list[float]] = {"http": [], "sql": []}
    failed = {"http": 0, "sql": 0}
    per_round: list[float] = []
    for load in loads.values():
        await load.run_for(1.0)
    with ctx.ui.step(
        f"{ctx.size.name}: {name}, {plan.write_rounds} rounds", plan.write_rounds
    ) as adv:
        for i in range(plan.write_rounds):
            for side in alternate(i, list(loads)):
                rate, fails = await loads[side].run_for(plan.write_seconds)
                rates[side].append(rate)
                failed[side] += fails
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


def markdown(unit: str, sql_label: str) -> Callable[[dict[str, dict[str, Any]]], list[str]]:
    """The table of an `http_over_sql` result per dataset: `unit` per second over HTTP and
    on asyncpg (`sql_label` says what the SQL side runs), their ratio, the failures."""

    def table(by: dict[str, dict[str, Any]]) -> list[str]:
        lines = [
            f"| dataset | HTTP {unit}/s | asyncpg {unit}/s ({sql_label}) | HTTP / SQL | failed |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, r in by.items():
            lines.append(
                f"| {name} | {render(r['http_per_s'])} | {render(r['sql_per_s'])} | "
                f"{render(r['ratio_http_over_sql'])} | {r['http_failed']} / {r['sql_failed']} |"
            )
        return lines

    return table
