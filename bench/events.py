"""Events in the bench: an event history in every dataset (`add_event_history`, called by
`bench.dataset.load`), webhook delivery to a local receiver under the 32-client sales
load, and the rate at which a consumer pages through the feed.

The server runs with `STOCKFLOW_WEBHOOK_ALLOW_PRIVATE=true` (bench/measure.py `Server`):
the receiver is an asyncio HTTP/1.1 server on 127.0.0.1 in the bench's process that
answers 200 at once and notes when each event arrived.
"""

import asyncio
import json
import random
import time
from datetime import datetime
from typing import Any

import asyncpg

from bench import measure
from bench.registry import Context, Target, measurement
from bench.stats import percentile, render, spread, summary

# --- the history ---------------------------------------------------------------------------
# The events a company with events on has after a month: one `stock.changed` per ledger
# entry of the last 29 days (inside the default 30-day retention, so the retention job
# leaves them alone during the run), with the entry as its data and its time, already
# numbered as the sequencer numbers them (so nothing is fanned out to webhooks). S ~10k,
# L ~500k events for the main company.
HISTORY_DAYS = 29
_HISTORY = f"""
INSERT INTO events (id, company_id, type, data, occurred_at)
SELECT nextval('events_public_id_seq'), e.company_id, 'stock.changed',
       jsonb_build_object(
           'reason', e.reason, 'reference', e.reference,
           'entries', jsonb_build_array(jsonb_build_object(
               'id', e.id, 'product_id', e.product_id, 'warehouse_id', e.warehouse_id,
               'delta', e.delta, 'reason', e.reason, 'reference', e.reference,
               'occurred_at', e.occurred_at, 'quantity_after', e.quantity_after,
               'bundle_id', e.bundle_id))),
       e.occurred_at
FROM (SELECT * FROM ledger_entries
      WHERE company_id = $1 AND occurred_at > now() - interval '{HISTORY_DAYS} days'
      ORDER BY occurred_at, id) AS e
"""


async def add_event_history(conn: asyncpg.Connection, company_id: int) -> int:
    """Insert the company's event history (see `_HISTORY`); returns its number of events."""
    status = await conn.execute(_HISTORY, company_id)
    return int(status.split()[-1])


# --- webhooks ------------------------------------------------------------------------------
class Receiver:
    """A minimal HTTP/1.1 server: reads each POST, answers 200, notes the lag from the
    event's `occurred_at` (its transaction's time, a few ms before its commit) to its
    arrival."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.last_at = 0.0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                received = time.time()
                occurred = datetime.fromisoformat(json.loads(body)["occurred_at"]).timestamp()
                self.lags.append(received - occurred)
                self.last_at = time.monotonic()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def until(self, count: int, seconds: float) -> bool:
        """Wait until `count` events arrived (True) or `seconds` passed."""
        deadline = time.monotonic() + seconds
        while len(self.lags) < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


DRAIN_TIMEOUT_S = 30.0


async def _subscribe(ctx: Context, port: int) -> int:
    conn = ctx.server.connection()
    try:
        status, body = await conn.request(
            "POST",
            f"/api/companies/{ctx.company_id}/webhooks",
            {"url": f"http://127.0.0.1:{port}/hook", "event_types": ["stock.changed"]},
        )
        if status != 201:
            raise RuntimeError(f"subscribing answered {status}: {body[:300]!r}")
        webhook_id: int = json.loads(body)["id"]
        return webhook_id
    finally:
        await conn.close()


async def _unsubscribe(ctx: Context, webhook_id: int) -> None:
    conn = ctx.server.connection()
    try:
        await conn.request("DELETE", f"/api/companies/{ctx.company_id}/webhooks/{webhook_id}")
    finally:
        await conn.close()


@measurement(
    "webhooks",
    title="Webhook delivery under the 32-client sales load",
    targets=[Target("lag_p99_s", "L", "<", 2)],
    markdown=lambda by: _markdown_webhooks(by),
    method="Webhooks: one subscription to `stock.changed` pointing at a receiver on 127.0.0.1 "
    "in the bench's process (answers 200 at once); per round 32 clients post sales over HTTP "
    "for a block, then the bench waits until every sale's event has arrived; per round the "
    "events delivered per second (from the block's start to the last arrival) and the p99 "
    "lag from the event's transaction time to its arrival.",
)
async def webhooks(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    receiver = Receiver()
    await receiver.start()
    webhook_id = await _subscribe(ctx, receiver.port)
    lags: list[float] = []
    p99: list[float] = []
    p50: list[float] = []
    delivered_per_s: list[float] = []
    sales_per_s: list[float] = []
    failed = undelivered = 0
    try:
        async with measure.http_sales(ctx.server, ctx.company_id, ctx.pairs, plan.clients) as load:
            await load.run_for(1.0)  # warm-up, and the deliveries' connections
            await receiver.until(load.ok, DRAIN_TIMEOUT_S)
            label = f"{ctx.size.name}: webhooks, {plan.write_rounds} rounds"
            with ctx.ui.step(label, plan.write_rounds) as adv:
                for _ in range(plan.write_rounds):
                    receiver.lags.clear()
                    before = load.ok
                    async with load.running() as window:
                        await asyncio.sleep(plan.write_seconds)
                    sold = load.ok - before
                    failed += window.failed
                    if not await receiver.until(sold, DRAIN_TIMEOUT_S):
                        undelivered += sold - len(receiver.lags)
                    got = list(receiver.lags)
                    lags += got
                    if got:
                        p99.append(percentile(got, 0.99))
                        p50.append(percentile(got, 0.5))
                        delivered_per_s.append(len(got) / (receiver.last_at - window.start))
                    sales_per_s.append(window.rate)
                    adv()
    finally:
        await _unsubscribe(ctx, webhook_id)
        await receiver.stop()
    if not p99:
        raise RuntimeError("no webhook delivery arrived")
    return {
        "clients": plan.clients,
        "seconds_per_block": plan.write_seconds,
        "delivered": len(lags),
        "undelivered": undelivered,
        "sales_failed": failed,
        "sales_per_s": spread(sales_per_s, 1),
        "delivered_per_s": spread(delivered_per_s, 1),
        "lag_p50_s": spread(p50, 3),
        "lag_p99_s": spread(p99, 3),
        "lag_max_s": round(max(lags), 3),
    }


def _markdown_webhooks(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | sales/s (HTTP, webhook on) | events delivered/s | lag p50 s | lag p99 s "
        "| lag max s | delivered / undelivered |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        lines.append(
            f"| {name} | {render(r['sales_per_s'])} | {render(r['delivered_per_s'])} | "
            f"{render(r['lag_p50_s'])} | {render(r['lag_p99_s'])} | {r['lag_max_s']} | "
            f"{r['delivered']:,} / {r['undelivered']:,} |"
        )
    return lines


# --- the feed ------------------------------------------------------------------------------
FEED_LIMIT = 500
_START = """
SELECT coalesce(max(id), 0) FROM (
    SELECT id FROM events WHERE company_id = $1 AND id IS NOT NULL ORDER BY id LIMIT $2
) AS skipped
"""


@measurement(
    "feed",
    title="Feed read: a consumer paging the event history (limit 500)",
    markdown=lambda by: _markdown_feed(by),
    method="Feed: the dataset's event history (one `stock.changed` per ledger entry of the "
    f"last {HISTORY_DAYS} days); per round one consumer pages `GET …/events?after=…&limit="
    f"{FEED_LIMIT}` sequentially on one keep-alive connection from a random position; "
    "events per second per round.",
)
async def feed(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    history = await ctx.conn.fetchval(
        "SELECT count(*) FROM events WHERE company_id = $1 AND id IS NOT NULL", ctx.company_id
    )
    if not history:
        raise RuntimeError("no event history")
    pages = 10 if plan.quick else 20
    rng = random.Random(5)
    http = ctx.server.connection()
    path = f"/api/companies/{ctx.company_id}/events"
    rates: list[float] = []
    page_ms: list[float] = []
    try:
        with ctx.ui.step(f"{ctx.size.name}: feed, {plan.rounds} rounds", plan.rounds) as adv:
            for _ in range(plan.rounds):
                # a random start with `pages` full pages after it (when the history has)
                offset = rng.randint(0, max(0, history - pages * FEED_LIMIT))
                after = await ctx.conn.fetchval(_START, ctx.company_id, offset)
                events = 0
                start = time.perf_counter()
                for _ in range(pages):
                    t = time.perf_counter()
                    status, body = await http.request(
                        "GET", f"{path}?after={after}&limit={FEED_LIMIT}"
                    )
                    page_ms.append((time.perf_counter() - t) * 1000)
                    if status != 200:
                        raise RuntimeError(f"feed answered {status}: {body[:300]!r}")
                    page = json.loads(body)
                    if not page["items"]:
                        break
                    events += len(page["items"])
                    after = page["next_after"]
                rates.append(events / (time.perf_counter() - start))
                adv()
    finally:
        await http.close()
    return {
        "history_events": history,
        "limit": FEED_LIMIT,
        "pages_per_round": pages,
        "events_per_s": spread(rates, 0),
        "page": summary(page_ms),
    }


def _markdown_feed(by: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| dataset | history events | events/s (limit 500) | page p50 / p99 ms |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in by.items():
        pg = r["page"]
        lines.append(
            f"| {name} | {r['history_events']:,} | {render(r['events_per_s'])} | "
            f"{pg['p50_ms']} / {pg['p99_ms']} |"
        )
    return lines
