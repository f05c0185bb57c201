"""What the tenant setting, row-level security and events cost the write path's SQL
floor: the writes baseline's sale without them, with RLS only, and in full, on asyncpg
pools, in alternating rounds."""

from typing import Any

from bench import measure
from bench.registry import Context, measurement
from bench.stats import alternate, ratio, render, spread


@measurement(
    "write_floor",
    title="What the tenant setting, row-level security and events cost the SQL floor",
    markdown=lambda by: _markdown_floor(by),
    method="Write floor: the writes baseline's sale in three forms on 32-connection asyncpg "
    "pools, alternating blocks: `bare` (the ledger's statements before events, as the URL's "
    "user, which bypasses RLS), `rls` (the same as the app role, with the tenant setting) and "
    "`full` (also the `stock.changed` event and the low-stock transitions: the writes "
    "baseline); rates and per-round ratios to `bare`.",
)
async def write_floor(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    sides = ["bare", "rls", "full"]
    rates: dict[str, list[float]] = {side: [] for side in sides}
    failed = 0
    rounds = max(2, plan.write_rounds - 2)
    # A superuser (the embedded server's) or BYPASSRLS user skips RLS; any other user
    # needs the tenant setting even here.
    bypasses = bool(
        await ctx.conn.fetchval(
            "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    )
    # One 32-connection pool open at a time (two, beside the server's, can pass the
    # server's max_connections): each block opens its pool and warms it up untimed.
    options = {
        "bare": {"tenant": not bypasses, "events": False},
        "rls": {"tenant": True, "events": False},
        "full": {"tenant": True, "events": True},
    }

    async def block(side: str, seconds: float) -> tuple[float, int]:
        async with ctx.pool(as_app=side != "bare") as pool:
            load = measure.sql_sales(pool, ctx.company_id, ctx.pairs, plan.clients, **options[side])
            await load.run_for(0.5)
            return await load.run_for(seconds)

    with ctx.ui.step(f"{ctx.size.name}: write floor, {rounds} rounds", rounds) as adv:
        for i in range(rounds):
            for side in alternate(i, sides):
                rate, fails = await block(side, plan.write_seconds)
                rates[side].append(rate)
                failed += fails
            adv()
    out: dict[str, Any] = {f"{side}_per_s": spread(rates[side], 1) for side in sides}
    for side in ("rls", "full"):
        out[f"ratio_{side}_over_bare"] = spread(
            [ratio(a, b) for a, b in zip(rates[side], rates["bare"], strict=True)]
        )
        # machine time per sale at saturation (32 clients), over the bare floor's
        out[f"{side}_extra_ms_per_sale"] = spread(
            [1000 / a - 1000 / b for a, b in zip(rates[side], rates["bare"], strict=True)], 3
        )
    out["failed"] = failed
    out["bare_bypasses_rls"] = bypasses
    return out


def _markdown_floor(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | bare sales/s | + RLS & tenant setting | + events (the writes baseline) "
        "| RLS / bare | full / bare | extra ms per sale: RLS / full |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        lines.append(
            f"| {name} | {render(r['bare_per_s'])} | {render(r['rls_per_s'])} | "
            f"{render(r['full_per_s'])} | {render(r['ratio_rls_over_bare'])} | "
            f"{render(r['ratio_full_over_bare'])} | "
            f"{render(r['rls_extra_ms_per_sale'])} / {render(r['full_extra_ms_per_sale'])} |"
        )
    return lines
