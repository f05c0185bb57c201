"""Mixed load: the report while 32 clients post sales, against the report alone; and
the sales rate while the report runs in a loop, against sales alone.

Each round has three blocks in alternating order: the report alone (sequential
requests), sales alone (32 clients), and both at once (the 32 sale clients running while
one client requests the report back to back). The load generator is the bench's own
event loop, which costs the report about a millisecond at worst; the report under load
waits mostly for the two uvicorn workers, which are busy with sales.
"""

import asyncio
import time
from statistics import median
from typing import Any

from bench import measure
from bench.registry import Context, Target, measurement
from bench.report import _block
from bench.stats import alternate, percentile, ratio, render, spread, summary

RAMP_S = 0.5  # let the sale clients reach full speed before timing the report


@measurement(
    "mixed",
    title="Mixed load: the report while 32 clients post sales",
    targets=[Target("ratio_p99_loaded_over_idle", "L", "<", 3)],
    markdown=lambda by: _markdown(by),
    method="Mixed load: in alternating rounds, the report alone, 32 sale clients alone, and "
    "the report back to back while the 32 clients post sales; per round the ratio of the "
    "report's p99 under load to its idle p99, and the sales rate with the report running "
    "to the sales rate alone.",
)
async def mixed(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    report = measure.ReportHttp(ctx.server, ctx.company_id)
    idle: list[float] = []
    loaded: list[float] = []
    sales_alone: list[float] = []
    sales_with_report: list[float] = []
    p99_ratio: list[float] = []
    p50_ratio: list[float] = []
    failed = 0
    both_s = 3.0
    try:
        async with measure.http_sales(ctx.server, ctx.company_id, ctx.pairs, plan.clients) as sales:
            await _block(report.once, plan.warmup)
            await sales.run_for(1.0)
            label = f"{ctx.size.name}: mixed load, {plan.mixed_rounds} rounds"
            with ctx.ui.step(label, plan.mixed_rounds) as adv:
                for i in range(plan.mixed_rounds):
                    block: dict[str, list[float]] = {}
                    for side in alternate(i, ["idle", "sales", "both"]):
                        if side == "idle":
                            block["idle"] = await _block(report.once, plan.mixed_requests)
                        elif side == "sales":
                            # as long as a "both" block (the last one, or a guess)
                            rate, fails = await sales.run_for(both_s)
                            sales_alone.append(rate)
                            failed += fails
                        else:
                            async with sales.running() as window:
                                await asyncio.sleep(RAMP_S)
                                block["both"] = await _block(report.once, plan.mixed_requests)
                            both_s = time.monotonic() - window.start
                            sales_with_report.append(window.rate)
                            failed += window.failed
                    idle += block["idle"]
                    loaded += block["both"]
                    p99_ratio.append(
                        ratio(percentile(block["both"], 0.99), percentile(block["idle"], 0.99))
                    )
                    p50_ratio.append(ratio(median(block["both"]), median(block["idle"])))
                    adv()
    finally:
        await report.close()
    return {
        "report_idle": summary(idle),
        "report_loaded": summary(loaded),
        "ratio_p99_loaded_over_idle": spread(p99_ratio),
        "ratio_p50_loaded_over_idle": spread(p50_ratio),
        "sales_per_s_alone": spread(sales_alone, 1),
        "sales_per_s_with_report": spread(sales_with_report, 1),
        "ratio_sales_with_report_over_alone": spread(
            [ratio(b, a) for a, b in zip(sales_alone, sales_with_report, strict=True)]
        ),
        "sales_failed": failed,
        "connections_per_worker": sales.per_worker,
    }


def _markdown(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | report idle p50 / p99 ms | under 32 writers p50 / p99 ms "
        "| p99 loaded / idle | p50 loaded / idle | sales/s alone | sales/s with the report "
        "looping | ratio | failed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        i, lo = r["report_idle"], r["report_loaded"]
        lines.append(
            f"| {name} | {i['p50_ms']} / {i['p99_ms']} | {lo['p50_ms']} / {lo['p99_ms']} | "
            f"{render(r['ratio_p99_loaded_over_idle'])} | "
            f"{render(r['ratio_p50_loaded_over_idle'])} | {render(r['sales_per_s_alone'])} | "
            f"{render(r['sales_per_s_with_report'])} | "
            f"{render(r['ratio_sales_with_report_over_alone'])} | {r['sales_failed']} |"
        )
    return lines
