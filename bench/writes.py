"""The write path: single-line sales from 32 clients over HTTP vs the same statements in
the same transaction on a 32-connection asyncpg pool, in alternating rounds."""

from typing import Any

from bench import measure, throughput
from bench.registry import Context, Target, measurement
from bench.throughput import http_over_sql


@measurement(
    "writes",
    title="The write path: single-line sales, 32 concurrent clients",
    targets=[Target("ratio_http_over_sql", size, ">=", 0.5) for size in ("S", "M", "L")],
    markdown=throughput.markdown("sales", "same transaction"),
    method="Writes: 32 clients posting single-line sales (`POST /stock-movements`, one "
    "keep-alive connection each) vs the app's own statements in one transaction on a "
    "32-connection asyncpg pool connected as the app role (row-level security on): tenant "
    "setting, references, level lock, level + entry write, the `stock.changed` event, the "
    "low-stock transitions; alternating blocks of a few seconds (after a 1 s warm-up of "
    "each); ratio of the two rates per round.",
)
async def writes(ctx: Context) -> dict[str, Any]:
    clients = ctx.plan.clients
    async with (
        measure.http_sales(ctx.server, ctx.company_id, ctx.pairs, clients) as http,
        ctx.pool() as pool,
    ):
        sql = measure.sql_sales(pool, ctx.company_id, ctx.pairs, clients)
        return await http_over_sql(ctx, "writes", http, sql)
