"""A noisy neighbour with the rate limit on: one tenant floods the server with 1,000-line
receipts from 100 clients while another tenant reads its inventory at a steady pace; the
quiet tenant's latency under the flood against idle, in alternating blocks (issue 7).

The server here is a second `stockflow serve` on the same database with
`STOCKFLOW_RATE_LIMIT_PER_SECOND` and `STOCKFLOW_MAX_IN_FLIGHT_PER_CREDENTIAL` set; each
tenant uses an API key of its own, so each has its own bucket and cap. The flood does
not honour `Retry-After` (a misbehaving client); the quiet tenant stays under its rate.
This measurement appends receipts to the dataset's first company, so it runs last.
"""

import asyncio
import json
import time
from collections import Counter
from statistics import median
from typing import Any

from bench.client import HttpConnection
from bench.database import LOGS
from bench.measure import Server
from bench.registry import Context, measurement
from bench.stats import alternate, ratio, spread, summary

RATE_PER_SECOND = 20.0
IN_FLIGHT = 4  # per credential per worker: well below the pool (20 + 20 overflow)
FLOOD_CLIENTS = 100
FLOOD_LINES = 1_000


async def _key(server: Server, company_id: int, name: str) -> str:
    admin = server.connection()
    try:
        status, body = await admin.request(
            "POST", f"/api/companies/{company_id}/api-keys", {"name": name}
        )
    finally:
        await admin.close()
    assert status == 201, body
    key: str = json.loads(body)["api_key"]
    return key


class _Flood:
    """FLOOD_CLIENTS clients posting FLOOD_LINES-line receipts back to back."""

    def __init__(self, server: Server, key: str, company_id: int, pairs: list[tuple[int, int]]):
        self.server, self.key = server, key
        self.path = f"/api/companies/{company_id}/stock-movements"
        lines = [{"product_id": p, "warehouse_id": w, "delta": 1} for p, w in pairs[:FLOOD_LINES]]
        self.body = {"reason": "receipt", "lines": lines}
        self.statuses: Counter[int] = Counter()
        self.stop = asyncio.Event()

    async def _client(self) -> None:
        conn = HttpConnection("127.0.0.1", self.server.port, self.key)
        try:
            while not self.stop.is_set():
                try:
                    status, _ = await conn.request("POST", self.path, self.body)
                except (ConnectionError, asyncio.IncompleteReadError):
                    status = 0
                    await conn.close()
                self.statuses[status] += 1
        finally:
            await conn.close()

    async def run_while(self, work: Any) -> Any:
        self.stop.clear()
        clients = [asyncio.create_task(self._client()) for _ in range(FLOOD_CLIENTS)]
        await asyncio.sleep(0.5)  # let it build up
        try:
            return await work
        finally:
            self.stop.set()
            await asyncio.gather(*clients)


async def _quiet_block(conn: HttpConnection, path: str, n: int) -> tuple[list[float], int]:
    """n reads at half the tenant's rate; latencies in ms and how many were not 200."""
    samples, refused = [], 0
    interval = 2 / RATE_PER_SECOND
    for _ in range(n):
        started = time.perf_counter()
        status, _ = await conn.request("GET", path)
        elapsed = time.perf_counter() - started
        samples.append(elapsed * 1000)
        refused += status != 200
        await asyncio.sleep(max(0.0, interval - elapsed))
    return samples, refused


@measurement(
    "noisy_neighbour",
    title="A noisy neighbour, rate limit on: the quiet tenant's latency under a flood",
    datasets=("S",),
    method="Noisy neighbour: a second server with STOCKFLOW_RATE_LIMIT_PER_SECOND=20 and "
    "STOCKFLOW_MAX_IN_FLIGHT_PER_CREDENTIAL=4; tenant "
    "A's key floods 1,000-line receipts from 100 clients (ignoring Retry-After) while "
    "tenant B's key reads `GET …/inventory?limit=50` at 10/s; B's p50 with and without "
    "the flood in alternating blocks.",
)
async def noisy_neighbour(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    env = {
        "STOCKFLOW_RATE_LIMIT_PER_SECOND": str(RATE_PER_SECOND),
        "STOCKFLOW_MAX_IN_FLIGHT_PER_CREDENTIAL": str(IN_FLIGHT),
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    async with Server(ctx.db_url, LOGS / "noisy-neighbour.log", env) as server:
        flood_key = await _key(server, ctx.company_id, "bench flood")
        quiet_key = await _key(server, ctx.twin_company_id, "bench quiet")
        flood = _Flood(server, flood_key, ctx.company_id, ctx.pairs)
        quiet = HttpConnection("127.0.0.1", server.port, quiet_key)
        path = f"/api/companies/{ctx.twin_company_id}/inventory?limit=50"
        samples: dict[str, list[float]] = {"idle": [], "flood": []}
        p50s: dict[str, list[float]] = {"idle": [], "flood": []}
        per_round: list[float] = []
        refused = 0
        try:
            await _quiet_block(quiet, path, plan.warmup)
            label = f"{ctx.size.name}: noisy neighbour, {plan.rounds} rounds"
            with ctx.ui.step(label, plan.rounds) as adv:
                for i in range(plan.rounds):
                    for side in alternate(i, ["idle", "flood"]):
                        block = _quiet_block(quiet, path, plan.requests * 2)
                        got, no = await (flood.run_while(block) if side == "flood" else block)
                        samples[side] += got
                        p50s[side].append(median(got))
                        refused += no
                    per_round.append(ratio(p50s["flood"][-1], p50s["idle"][-1]))
                    adv()
        finally:
            await quiet.close()
    sent = sum(flood.statuses.values())
    return {
        "rate_limit_per_s": RATE_PER_SECOND,
        "in_flight_per_credential": IN_FLIGHT,
        "quiet_idle_p50_ms": spread(p50s["idle"], 2),
        "quiet_flood_p50_ms": spread(p50s["flood"], 2),
        "ratio_flood_over_idle_p50": spread(per_round),
        "quiet_idle": summary(samples["idle"]),
        "quiet_flood": summary(samples["flood"]),
        "quiet_refused": refused,
        "flood_requests": sent,
        "flood_statuses": {str(k): v for k, v in sorted(flood.statuses.items())},
    }
