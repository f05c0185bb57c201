"""`make soak`: bounded mixed load on two tenants with database faults injected, then the
invariants. Runs the app in-process (ASGI) on a throwaway PostgreSQL 15 cluster.

Load: sales, receipts and transfers, each under an Idempotency-Key (its `reference`), a
share of them retried with the same key. Faults, in turn: stop/start, terminate every
backend, freeze (SIGSTOP) for a second. Checks: no 500, every request answered within the
timeouts, levels = ledger sums and none negative, no key applied twice, a retry of a
stored answer replays it, no cross-tenant row. Exit status 1 on any violation.
"""

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from stockflow.main import create_app
from tests.reliability.cluster import Cluster

ADMIN = "soak-admin-token"
BOUND = 4.0


async def _setup(client: AsyncClient) -> list[dict[str, Any]]:
    tenants = []
    for name in ("Alpha", "Beta"):
        company = (await client.post("/api/companies", json={"name": name})).json()["id"]
        warehouses = [
            (await client.post(f"/api/companies/{company}/warehouses", json={"name": w})).json()[
                "id"
            ]
            for w in ("A", "B")
        ]
        products = []
        for i in range(3):
            r = await client.post(
                f"/api/companies/{company}/products",
                json={"name": f"P{i}", "sku": f"{name}-{i}", "price": "1.00"},
            )
            products.append(r.json()["id"])
        lines = [
            {"product_id": p, "warehouse_id": w, "delta": 20} for p in products for w in warehouses
        ]
        r = await client.post(
            f"/api/companies/{company}/stock-movements", json={"reason": "receipt", "lines": lines}
        )
        assert r.status_code == 201, r.text
        tenants.append({"id": company, "warehouses": warehouses, "products": products})
    return tenants


class Stats:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.violations: list[str] = []
        self.first: dict[str, tuple[int, Any]] = {}
        self.replays = 0


def _request(tenant: dict[str, Any], rng: random.Random, key: str) -> tuple[str, dict[str, Any]]:
    company = tenant["id"]
    p = rng.choice(tenant["products"])
    w1, w2 = rng.sample(tenant["warehouses"], 2)
    kind = rng.choice(["sale", "sale", "receipt", "transfer"])
    if kind == "transfer":
        body = {
            "product_id": p,
            "from_warehouse_id": w1,
            "to_warehouse_id": w2,
            "quantity": rng.randint(1, 4),
            "reference": key,
        }
        return f"/api/companies/{company}/stock-transfers", body
    delta = rng.randint(1, 5) * (-1 if kind == "sale" else 1)
    body = {
        "reason": kind,
        "reference": key,
        "lines": [{"product_id": p, "warehouse_id": w1, "delta": delta}],
    }
    return f"/api/companies/{company}/stock-movements", body


async def _worker(
    n: int, client: AsyncClient, tenants: list[dict[str, Any]], stats: Stats, until: float
) -> None:
    rng = random.Random(n)
    i = 0
    while time.monotonic() < until:
        i += 1
        tenant = rng.choice(tenants)
        key = f"w{n}-{i}"
        url, body = _request(tenant, rng, key)
        for attempt in range(1 + (rng.random() < 0.3)):
            started = time.monotonic()
            r = await client.post(url, json=body, headers={"Idempotency-Key": key})
            took = time.monotonic() - started
            stats.statuses[r.status_code] += 1
            if took > BOUND:
                stats.violations.append(f"{url} took {took:.1f}s")
            if r.status_code >= 500 and r.status_code != 503:
                stats.violations.append(f"{r.status_code}: {r.text[:200]}")
            stored = r.status_code == 201 or (
                r.status_code == 409 and r.json()["type"].endswith("insufficient-stock")
            )
            if key in stats.first and stored:
                stats.replays += 1
                if (r.status_code, r.json()) != stats.first[key] or (
                    r.headers.get("Idempotent-Replayed") != "true"
                ):
                    stats.violations.append(f"key {key}: answer changed on retry")
            elif stored:
                stats.first[key] = (r.status_code, r.json())
            if attempt == 0 and r.status_code == 503:
                await asyncio.sleep(0.05)


async def _faults(pg: Cluster, stats: Stats, until: float, url: str) -> None:
    kinds = ["stop", "terminate", "freeze"]
    i = 0
    while time.monotonic() < until - 3:
        await asyncio.sleep(3)
        kind = kinds[i % len(kinds)]
        i += 1
        stats.faults[kind] += 1
        if kind == "stop":
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(1)
            await asyncio.to_thread(pg.start)
        elif kind == "freeze":
            pg.freeze()
            await asyncio.sleep(1)
            pg.thaw()
        else:
            killer = create_async_engine(url)
            try:
                async with killer.connect() as conn:
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'stockflow'"
                        )
                    )
            except Exception as exc:  # the server may be mid-restart; count it and go on
                stats.faults["terminate-failed"] += 1
                print(f"terminate failed: {exc!r}", file=sys.stderr)
            finally:
                await killer.dispose()


async def _invariants(url: str, stats: Stats) -> None:
    engine = create_async_engine(url)
    checks = {
        "level differs from its ledger sum or is negative": """
            SELECT count(*) FROM inventory_levels l LEFT JOIN (
              SELECT company_id, product_id, warehouse_id, sum(delta) AS s FROM ledger_entries
              GROUP BY company_id, product_id, warehouse_id) e
              USING (company_id, product_id, warehouse_id)
            WHERE l.quantity <> coalesce(e.s, 0) OR l.quantity < 0""",
        "idempotency key applied twice": """
            SELECT count(*) FROM (
              SELECT reference FROM ledger_entries WHERE reference LIKE 'w%%'
              GROUP BY company_id, reference
              HAVING count(*) > CASE WHEN bool_or(reason LIKE 'transfer%%') THEN 2 ELSE 1 END
            ) twice""",
        "cross-tenant ledger row": """
            SELECT count(*) FROM ledger_entries e
            JOIN products p ON p.id = e.product_id JOIN warehouses w ON w.id = e.warehouse_id
            WHERE p.company_id <> e.company_id OR w.company_id <> e.company_id""",
    }
    try:
        async with engine.connect() as conn:
            for what, sql in checks.items():
                bad = await conn.scalar(text(sql))
                if bad:
                    stats.violations.append(f"{what}: {bad}")
            entries = await conn.scalar(text("SELECT count(*) FROM ledger_entries"))
            print(f"ledger entries: {entries}")
    finally:
        await engine.dispose()


async def main(seconds: float, workers: int) -> int:
    pg = Cluster()
    await asyncio.to_thread(pg.init)
    await asyncio.to_thread(pg.start)
    try:
        await asyncio.to_thread(upgrade_to_head, pg.url)
        settings = Settings(
            database_url=pg.url,
            admin_token=ADMIN,
            background_jobs=False,
            db_statement_timeout_ms=1000,
            db_command_timeout_seconds=1.0,
            db_connect_timeout_seconds=1.0,
            db_pool_timeout_seconds=1.0,
            db_pool_size=8,
            db_max_overflow=0,
        )
        engine = create_engine(pg.url, settings)
        app = create_app(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.admin_token = ADMIN
        stats = Stats()
        async with AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://soak",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=30,
        ) as client:
            tenants = await _setup(client)
            until = time.monotonic() + seconds
            started = time.monotonic()
            await asyncio.gather(
                _faults(pg, stats, until, pg.url),
                *[_worker(n, client, tenants, stats, until) for n in range(workers)],
            )
            elapsed = time.monotonic() - started
        await engine.dispose()
        await _invariants(pg.url, stats)
    finally:
        await asyncio.to_thread(pg.destroy)
    total = sum(stats.statuses.values())
    print(f"requests: {total} in {elapsed:.0f}s ({total / elapsed:.0f}/s), workers {workers}")
    print("per status: " + ", ".join(f"{s}: {n}" for s, n in sorted(stats.statuses.items())))
    print("faults: " + ", ".join(f"{k}: {n}" for k, n in sorted(stats.faults.items())))
    print(f"retries that replayed a stored answer: {stats.replays}")
    if stats.violations:
        print(f"VIOLATIONS ({len(stats.violations)}):")
        for v in stats.violations[:20]:
            print("  " + v)
        return 1
    print("invariants: OK")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.seconds, args.workers)))
