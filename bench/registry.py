"""The bench's measurements, and how to add one.

A measurement is an async function that takes a `Context` (the loaded dataset, its
database, a running `stockflow serve`, a stocked set of product/warehouse pairs, the
run's plan and progress bars) and returns a JSON-able dict. Register it with the
`measurement` decorator in a module of its own and add that module to `MODULES` below:

    # bench/receipts.py
    from bench.registry import Context, Target, measurement

    @measurement(
        "receipts",
        title="Purchase receipts, 32 clients",
        targets=[Target("ratio_http_over_sql", "L", ">=", 0.5)],
    )
    async def receipts(ctx: Context) -> dict[str, Any]:
        ...  # time things; ctx.rounds() and bench.stats.spread() for ratios
        return {"http_per_s": ..., "ratio_http_over_sql": spread(per_round)}

    # bench/registry.py
    MODULES = [..., "bench.receipts"]   # <- the one line

Each measurement runs once per dataset (or only on `datasets=`), after the database has
settled (VACUUM ANALYZE, CHECKPOINT, no autovacuum due: `bench.database.settle`). Its
result lands under `datasets.<S|M|L>.measurements.<name>` in the results JSON, its
targets in the targets table, and a table of its top-level values (or the lines its
`markdown=` function returns) in docs/benchmarks.md. A value that is a `spread(...)`
(median of per-round values with min-max) is shown as `median (min-max)` and judged on
the median. `python -m bench --only receipts` runs just that one (plus the dataset).

Rules for a measurement: leave the dataset as you found it apart from appended ledger
rows (the next measurement settles the database again but does not reload it); use
`ctx.plan.quick` to shorten itself; compare things in alternating rounds
(`bench.stats.alternate`), never one long block after another.
"""

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench import dataset
from bench.database import dsn
from bench.measure import APP_SERVER_SETTINGS, Server
from bench.ui import UI

# The modules whose measurements a run performs, in this order. Add yours at the end.
MODULES = [
    "bench.report",
    "bench.writes",
    "bench.mixed",
    "bench.rls",
    "bench.purchasing",
    "bench.events",
    "bench.reservations",
    "bench.write_floor",
    "bench.pgbouncer_sales",
    "bench.noisy",  # appends receipts: keep it last
]


@dataclass(frozen=True)
class Plan:
    """How long a run spends on each measurement of one dataset."""

    quick: bool
    rounds: int  # alternating rounds of each comparison
    requests: int  # sequential report requests per side per round
    warmup: int
    n_plus_1_rounds: int
    write_rounds: int
    write_seconds: float  # per side per round
    mixed_rounds: int
    mixed_requests: int  # report requests per block (idle / under the write load)
    clients: int = 32


def plans(quick: bool) -> dict[str, Plan]:
    if quick:
        short = Plan(True, 3, 8, 3, 1, 2, 2.0, 2, 30)
        return {"S": short, "M": short}
    return {
        "S": Plan(False, 7, 15, 5, 5, 5, 4.0, 3, 100),
        "M": Plan(False, 7, 15, 5, 3, 5, 4.0, 3, 100),
        "L": Plan(False, 7, 15, 5, 1, 5, 4.0, 3, 100),
    }


@dataclass(frozen=True)
class Target:
    """`key` of a measurement's result (a number or a spread), judged on `dataset`."""

    key: str
    dataset: str
    op: str  # "<", "<=", ">=", ">"
    value: float

    def met(self, figure: float) -> bool:
        return {
            "<": figure < self.value,
            "<=": figure <= self.value,
            ">": figure > self.value,
            ">=": figure >= self.value,
        }[self.op]


@dataclass
class Context:
    size: dataset.Size
    plan: Plan
    data: dataset.Dataset
    db_url: str
    conn: asyncpg.Connection  # the URL's user, not the app role; the report's plan mode
    server: Server
    pairs: list[tuple[int, int]]  # stocked (product, warehouse) pairs of company_id
    ui: UI
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # earlier ones

    @property
    def company_id(self) -> int:
        return self.data.company_id

    @property
    def twin_company_id(self) -> int:
        return self.data.twin_company_id

    @asynccontextmanager
    async def pool(
        self, size: int | None = None, *, as_app: bool = True
    ) -> AsyncIterator[asyncpg.Pool]:
        """An asyncpg pool on the bench database (default: one connection per client),
        connected as the app connects (`measure.APP_SERVER_SETTINGS`: its role, so
        row-level security applies; every transaction starts with `measure.scope`).
        `as_app=False`: as the URL's user, with no startup parameters."""
        n = size or self.plan.clients
        settings = APP_SERVER_SETTINGS if as_app else {}
        pool = await asyncpg.create_pool(
            dsn(self.db_url), min_size=n, max_size=n, server_settings=settings
        )
        try:
            role = settings.get("role")
            if role and await pool.fetchval("SELECT current_user") != role:
                raise RuntimeError(f"the bench's pool is not the app role {role}")
            yield pool
        finally:
            await pool.close()


Run = Callable[[Context], Awaitable[dict[str, Any]]]
Markdown = Callable[[dict[str, dict[str, Any]]], list[str]]


@dataclass(frozen=True)
class Measurement:
    name: str
    run: Run
    title: str
    datasets: tuple[str, ...] | None = None
    targets: tuple[Target, ...] = ()
    markdown: Markdown | None = None
    method: str = ""  # one line for "How it is measured"


REGISTRY: dict[str, Measurement] = {}


def measurement(
    name: str,
    *,
    title: str,
    datasets: tuple[str, ...] | list[str] | None = None,
    targets: tuple[Target, ...] | list[Target] = (),
    markdown: Markdown | None = None,
    method: str = "",
) -> Callable[[Run], Run]:
    """Register `run` as the measurement `name` (see the module docstring)."""

    def register(run: Run) -> Run:
        if name in REGISTRY and REGISTRY[name].run is not run:
            raise ValueError(f"two measurements are called {name!r}")
        REGISTRY[name] = Measurement(
            name,
            run,
            title,
            tuple(datasets) if datasets else None,
            tuple(targets),
            markdown,
            method,
        )
        return run

    return register


def load() -> dict[str, Measurement]:
    """Import MODULES (which registers their measurements) and return the registry."""
    for module in MODULES:
        importlib.import_module(module)
    return REGISTRY
