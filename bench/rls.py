"""What row-level security costs the report: its statement on asyncpg as the app's role
(the policies apply) against the same statement as the database's owner (a superuser, to
whom no policy applies), both in the same company-scoped transaction as the app's request
(BEGIN, the tenant set_config, the statement, COMMIT), so the only difference is the
policies. Alternating rounds."""

import time
from statistics import median
from typing import Any

import asyncpg

from bench.database import dsn
from bench.measure import APP_SERVER_SETTINGS, REPORT_SQL, SERVER_SETTINGS, report_args
from bench.registry import Context, Target, measurement
from bench.stats import alternate, ratio, spread
from stockflow.core.tenancy import TENANT_SETTING


class _Report:
    """The report on one connection, in a transaction bound to the company as the app's
    request transaction is."""

    def __init__(self, conn: asyncpg.Connection, company_id: int) -> None:
        self.conn, self.company_id = conn, company_id
        self.statement: Any = None

    async def once(self) -> None:
        if self.statement is None:
            self.statement = await self.conn.prepare(REPORT_SQL)
        async with self.conn.transaction():
            await self.conn.execute(
                f"SELECT set_config('{TENANT_SETTING}', $1, true)", str(self.company_id)
            )
            await self.statement.fetch(*report_args(self.company_id))


async def _block(side: _Report, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        await side.once()
        samples.append((time.perf_counter() - t) * 1000)
    return median(samples)


@measurement(
    "rls",
    title="Row-level security: the report as the app's role vs as the owner",
    datasets=("M", "L"),
    targets=[Target("ratio_rls_over_owner", "L", "<=", 1.1)],
    method="RLS: the report's statement on asyncpg as the app's role vs as the owner (a "
    "superuser: no policy applies), both in the same company-scoped transaction, "
    "alternating blocks; ratio of the blocks' p50s.",
)
async def rls(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    owner = await asyncpg.connect(dsn(ctx.db_url), server_settings=SERVER_SETTINGS)
    # The app sets the report's plan mode around the statement; here, on the connection.
    app = await asyncpg.connect(
        dsn(ctx.db_url), server_settings={**APP_SERVER_SETTINGS, **SERVER_SETTINGS}
    )
    try:
        if await owner.fetchval("SELECT NOT rolsuper FROM pg_roles WHERE rolname = current_user"):
            return {"skipped": "the bench's database user is not a superuser"}
        sides = {
            "app": _Report(app, ctx.company_id),
            "owner": _Report(owner, ctx.company_id),
        }
        for side in sides.values():
            await _block(side, plan.warmup)
        p50s: dict[str, list[float]] = {name: [] for name in sides}
        per_round: list[float] = []
        with ctx.ui.step(f"{ctx.size.name}: rls, {plan.rounds} rounds", plan.rounds) as adv:
            for i in range(plan.rounds):
                for name in alternate(i, list(sides)):
                    p50s[name].append(await _block(sides[name], plan.requests))
                per_round.append(ratio(p50s["app"][-1], p50s["owner"][-1]))
                adv()
    finally:
        await owner.close()
        await app.close()
    return {
        "app_role_p50_ms": spread(p50s["app"], 2),
        "owner_p50_ms": spread(p50s["owner"], 2),
        "ratio_rls_over_owner": spread(per_round),
    }
