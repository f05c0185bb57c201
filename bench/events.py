"""`python -m bench.events [--seconds N] [--clients N] [--feed-events N]`: what events
cost and how fast they travel, against a real `stockflow serve`.

1. Webhook delivery under the sales load: `clients` loops post single-line sales over
   HTTP for `seconds` while a receiver on 127.0.0.1 (an asyncio server in this process)
   takes every `stock.changed`; reports events delivered per second and the lag from the
   event's transaction time to its receipt (p50/p99). The receiver answers 200 at once.
2. Feed read: a consumer pages the whole feed with limit 500; reports events per second.

It also prints the write path, HTTP vs the SQL baseline that sends the same statements
(bench/measure.py's `sale_sql`, event and alert statements included). Timings only mean
something on an otherwise idle machine.
"""

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.database import drop_database, dsn, fresh_database, server_url
from bench.measure import SERVER_SETTINGS, Server, p, writes_http, writes_sql

DB_NAME = "stockflow_bench_events"
SERVER_LOG = Path(tempfile.gettempdir()) / "stockflow-bench-events-server.log"


class Receiver:
    """A minimal HTTP/1.1 server: reads each POST, answers 200, notes when it arrived."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.count = 0
        self.expected: int | None = None
        self.all_in = asyncio.Event()
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
                event = json.loads(body)
                occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
                self.lags.append(received - occurred)
                self.count += 1
                self._check()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _check(self) -> None:
        if self.expected is not None and self.count >= self.expected:
            self.all_in.set()

    def expect(self, n: int) -> None:
        self.expected = n
        self._check()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def _setup(server: Server, products: int) -> tuple[int, list[tuple[int, int]]]:
    conn = server.connection()
    try:
        status, body = await conn.request("POST", "/api/companies", {"name": "Bench events"})
        assert status == 201, body
        company = json.loads(body)["id"]
        status, body = await conn.request(
            "POST", f"/api/companies/{company}/warehouses", {"name": "Main"}
        )
        warehouse = json.loads(body)["id"]
        pairs = []
        for i in range(products):
            status, body = await conn.request(
                "POST",
                f"/api/companies/{company}/products",
                {
                    "name": f"P{i}",
                    "sku": f"BENCH-EV-{i}",
                    "price": "1.00",
                    "warehouse_id": warehouse,
                    "initial_quantity": 1_000_000,
                },
            )
            assert status == 201, body
            pairs.append((json.loads(body)["id"], warehouse))
        return company, pairs
    finally:
        await conn.close()


async def _subscribe(server: Server, company: int, port: int) -> None:
    conn = server.connection()
    try:
        status, body = await conn.request(
            "POST",
            f"/api/companies/{company}/webhooks",
            {"url": f"http://127.0.0.1:{port}/hook", "event_types": ["stock.changed"]},
        )
        assert status == 201, body
    finally:
        await conn.close()


async def _feed_rate(server: Server, company: int) -> tuple[int, float]:
    conn = server.connection()
    try:
        after, total = 0, 0
        start = time.perf_counter()
        while True:
            status, body = await conn.request(
                "GET", f"/api/companies/{company}/events?after={after}&limit=500"
            )
            assert status == 200, body
            page = json.loads(body)
            if not page["items"]:
                break
            total += len(page["items"])
            after = page["next_after"]
        return total, total / (time.perf_counter() - start)
    finally:
        await conn.close()


async def main(seconds: float, clients: int, products: int) -> dict[str, Any]:
    os.environ["STOCKFLOW_WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
    url = server_url()
    db_url = await fresh_database(url, DB_NAME)
    receiver = Receiver()
    await receiver.start()
    results: dict[str, Any] = {}
    try:
        async with Server(db_url, SERVER_LOG) as srv:
            company, pairs = await _setup(srv, products)
            pool = await asyncpg.create_pool(
                dsn(db_url), min_size=clients, max_size=clients, server_settings=SERVER_SETTINGS
            )
            try:
                sql_rate, _ = await writes_sql(pool, company, pairs, clients, seconds)
            finally:
                await pool.close()
            await _subscribe(srv, company, receiver.port)
            await asyncio.sleep(1)
            receiver.lags.clear()
            receiver.count = 0
            start = time.monotonic()
            http_rate, failed = await writes_http(srv, company, pairs, clients, seconds)
            sold = int(http_rate * seconds)
            receiver.expect(sold)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.all_in.wait(), 60)
            elapsed = time.monotonic() - start
            results["writes"] = {
                "http_per_s": round(http_rate, 1),
                "sql_per_s": round(sql_rate, 1),
                "http_over_sql": round(http_rate / sql_rate, 2) if sql_rate else None,
                "failed": failed,
            }
            results["webhooks"] = {
                "delivered": receiver.count,
                "per_s": round(receiver.count / elapsed, 1),
                "lag_p50_s": round(p(receiver.lags, 0.5), 3) if receiver.lags else None,
                "lag_p99_s": round(p(receiver.lags, 0.99), 3) if receiver.lags else None,
            }
            total, rate = await _feed_rate(srv, company)
            results["feed"] = {"events": total, "per_s": round(rate, 1)}
    finally:
        await receiver.stop()
        await drop_database(url, DB_NAME)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.clients, args.products)), indent=2))
