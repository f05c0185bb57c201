"""Reservations: create + commit (two requests, one unit of a random stocked pair) from
32 clients over HTTP vs the same two transactions' statements on a 32-connection asyncpg
pool, in alternating rounds (target: HTTP >= 0.4 x SQL on L).

The SQL side sends the app's own statement texts (taken from its repositories, so they
cannot drift) in the app's order, the tenant scope and events included: create = scope,
references, level lock, the reservation with its lines and hold, its
`reservation.updated`; commit = scope, reservation lock, its lines, level lock, end of the
hold, level + sale entry, `stock.changed`, the low-stock transition, the reservation's
close, its `reservation.updated`.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from bench import measure, throughput
from bench.client import HttpConnection
from bench.registry import Context, Target, measurement
from bench.throughput import http_over_sql
from stockflow.core.database import to_positional
from stockflow.core.settings import get_settings
from stockflow.events import low_stock as events_low_stock
from stockflow.events import outbox as events_outbox
from stockflow.ledger import repository as ledger_repository
from stockflow.reservations import repository as reservation_repository

Pair = tuple[int, int]
Statement = tuple[str, list[str]]


def _sql(statement: Any) -> Statement:
    return to_positional(statement.text)


_REFERENCES = _sql(ledger_repository._REFERENCES)
_LOCK_LEVELS = _sql(ledger_repository._LOCK_LEVELS)
_END_HOLDS = _sql(ledger_repository._END_HOLDS)
_WRITE = _sql(ledger_repository._WRITE)
_CREATE = _sql(reservation_repository._CREATE)
_LOCK = _sql(reservation_repository._LOCK)
_LINES = _sql(reservation_repository._LINES)
_CLOSE = _sql(reservation_repository._CLOSE)
_EVENT = _sql(events_outbox._INSERT)
_ALERTS = _sql(events_low_stock._TRANSITIONS)


async def _run(conn: asyncpg.Connection, statement: Statement, **values: Any) -> Any:
    sql, names = statement
    return await conn.fetch(sql, *[values[name] for name in names])


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def _reservation(row: Any, status: str, lines: list[dict[str, int]]) -> str:
    return _json({**dict(row), "status": status, "lines": lines})


async def reserve_and_commit_sql(conn: asyncpg.Connection, company_id: int, pair: Pair) -> None:
    """The two transactions the app runs for POST …/reservations + POST …/commit."""
    p_id, w_id = pair
    one = {"company_id": company_id, "products": [p_id], "warehouses": [w_id]}
    lines = [{"product_id": p_id, "warehouse_id": w_id, "quantity": 1}]
    async with conn.transaction():
        await measure.scope(conn, company_id)
        await _run(conn, _REFERENCES, **one)
        rows = await _run(conn, _LOCK_LEVELS, **one)
        if not rows or rows[0]["quantity"] - rows[0]["reserved"] < 1:
            raise RuntimeError("insufficient stock")
        [created] = await _run(conn, _CREATE, **one, reference=None, ttl=900, quantities=[1])
        event = _reservation(created, "active", lines)
        await _run(
            conn, _EVENT, company_id=company_id, types=["reservation.updated"], datas=[event]
        )
    rid = created["id"]
    async with conn.transaction():
        await measure.scope(conn, company_id)
        [held] = await _run(conn, _LOCK, company_id=company_id, id=rid)
        await _run(conn, _LINES, company_id=company_id, ids=[rid])
        rows = await _run(conn, _LOCK_LEVELS, **one)
        quantity = rows[0]["quantity"] - 1
        await _run(conn, _END_HOLDS, products=[p_id], warehouses=[w_id], quantities=[1])
        entries = await _run(
            conn,
            _WRITE,
            **one,
            level_products=[p_id],
            level_warehouses=[w_id],
            level_quantities=[quantity],
            level_sold=[True],
            reference=f"RES-{rid}",
            occurred_at=None,
            deltas=[-1],
            reasons=["sale"],
            after=[quantity],
            bundles=[None],
        )
        stock = {"reason": "sale", "reference": f"RES-{rid}", "entries": [dict(e) for e in entries]}
        await _run(
            conn, _EVENT, company_id=company_id, types=["stock.changed"], datas=[_json(stock)]
        )
        await _run(
            conn, _ALERTS, **one, default_threshold=get_settings().default_low_stock_threshold
        )
        await _run(conn, _CLOSE, company_id=company_id, id=rid, status="committed")
        event = _reservation(held, "committed", lines)
        await _run(
            conn, _EVENT, company_id=company_id, types=["reservation.updated"], datas=[event]
        )


@asynccontextmanager
async def http_reservations(
    server: measure.Server, company_id: int, pairs: list[Pair], clients: int
) -> AsyncIterator[measure.SaleLoad]:
    """Create + commit over HTTP, one keep-alive connection per client (spread over the
    workers like the sales load's)."""
    base = f"/api/companies/{company_id}/reservations"
    connections: list[HttpConnection] = []

    async def reserve_and_commit(client: int, pair: Pair) -> bool:
        conn = connections[client]
        body = {"lines": [{"product_id": pair[0], "warehouse_id": pair[1], "quantity": 1}]}
        status, raw = await conn.request("POST", base, body)
        if status != 201:
            return False
        status, _ = await conn.request("POST", f"{base}/{json.loads(raw)['id']}/commit")
        return status == 201

    async def connect() -> None:
        opened, per_worker = await server.connections(clients)
        connections[:] = opened
        load.per_worker = sorted(per_worker.values())

    async def disconnect() -> None:
        for conn in connections:
            await conn.close()

    load = measure.SaleLoad(reserve_and_commit, pairs, clients, 5, connect, disconnect)
    yield load


def sql_reservations(
    pool: asyncpg.Pool, company_id: int, pairs: list[Pair], clients: int
) -> measure.SaleLoad:
    async def reserve_and_commit(_: int, pair: Pair) -> bool:
        async with pool.acquire() as conn:
            try:
                await reserve_and_commit_sql(conn, company_id, pair)
            except (RuntimeError, asyncpg.PostgresError):
                return False
        return True

    return measure.SaleLoad(reserve_and_commit, pairs, clients, seed=6)


async def _forget_reservations(conn: asyncpg.Connection, company_id: int) -> None:
    """Leave the dataset as found (it has no reservations): drop the bench's own, and
    any hold a failed commit left behind."""
    async with conn.transaction():
        await conn.execute("DELETE FROM reservations WHERE company_id = $1", company_id)
        await conn.execute(
            "UPDATE inventory_levels SET reserved = 0 WHERE company_id = $1 AND reserved <> 0",
            company_id,
        )


@measurement(
    "reservations",
    title="Reservations: create + commit, 32 concurrent clients",
    targets=[Target("ratio_http_over_sql", "L", ">=", 0.4)],
    markdown=throughput.markdown("create+commit", "same statements"),
    method="Reservations: 32 clients each reserving one unit of a random stocked pair and "
    "committing it (two requests, one keep-alive connection each) vs the app's own "
    "statements for the same two transactions, events included, on a 32-connection "
    "asyncpg pool, alternating blocks (after a 1 s warm-up of each); ratio of the two rates "
    "(create + commit pairs per second) per round.",
)
async def reservations(ctx: Context) -> dict[str, Any]:
    clients = ctx.plan.clients
    try:
        async with (
            http_reservations(ctx.server, ctx.company_id, ctx.pairs, clients) as http,
            ctx.pool() as pool,
        ):
            sql = sql_reservations(pool, ctx.company_id, ctx.pairs, clients)
            return await http_over_sql(ctx, "reservations", http, sql)
    finally:
        await _forget_reservations(ctx.conn, ctx.company_id)
