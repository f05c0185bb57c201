"""A stateful property test: random movements, transfers, bundle sales, deactivations and
reservations (created, committed, released, lapsed, folded by the expiry job) through the
HTTP API, checked after every step against a plain-Python model.

Hypothesis drives the app synchronously, so the machine runs in a thread with its own
event loop, engine and app (asyncpg connections belong to the loop that opened them); its
data is committed, one company per example, and truncated at the end like
`committed_app`'s.
"""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from httpx import ASGITransport, AsyncClient, Response
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.background import JobContext
from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.main import create_app
from stockflow.models import Base
from stockflow.reservations.jobs import expire_reservations
from tests.conftest import ADMIN_TOKEN
from tests.factories import unique_sku

T = TypeVar("T")
Pair = tuple[int, int]

PRODUCTS, WAREHOUSES = 3, 2
product_index = st.integers(0, PRODUCTS - 1)
warehouse_index = st.integers(0, WAREHOUSES - 1)
lines = st.lists(
    st.tuples(product_index, warehouse_index, st.integers(1, 25)), min_size=1, max_size=3
)
# Reservations are small, so that they succeed often enough to matter.
small_lines = st.lists(
    st.tuples(product_index, warehouse_index, st.integers(1, 8)), min_size=1, max_size=2
)
# Deliveries are larger than sales, so that sales succeed often enough to matter.
big_lines = st.lists(
    st.tuples(product_index, warehouse_index, st.integers(1, 80)), min_size=1, max_size=3
)
# Purchase order (and receipt) lines: each product at most once.
order_lines = st.lists(
    st.tuples(product_index, st.integers(1, 40)), min_size=1, max_size=3, unique_by=lambda t: t[0]
)


class Harness:
    """The thread's loop, and the app and client bound to it."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        config = Settings(
            database_url=database_url, admin_token=ADMIN_TOKEN, db_pool_size=2, db_max_overflow=0
        )
        self.engine: AsyncEngine = create_engine(database_url, config)
        # The owner, whom row-level security does not bind: checks and clean-up.
        self.owner: AsyncEngine = create_engine(
            database_url, config.model_copy(update={"db_role": ""})
        )
        app = create_app(config)
        app.state.engine = self.engine
        app.state.sessionmaker = create_sessionmaker(self.engine)
        app.state.admin_token = ADMIN_TOKEN
        self.jobs = JobContext(self.engine, app.state.sessionmaker, config)
        self.client = AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        async def teardown() -> None:
            await self.client.aclose()
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            async with self.owner.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            await self.engine.dispose()
            await self.owner.dispose()

        try:
            self.run(teardown())
        finally:
            self.loop.close()


class LedgerMachine(RuleBasedStateMachine):
    harness: Harness

    def __init__(self) -> None:
        super().__init__()
        self.company = self._created("/api/companies", {"name": "Model Co"})
        self.warehouses = [
            self._created(f"{self.base}/warehouses", {"name": f"W{i}"}) for i in range(WAREHOUSES)
        ]
        self.products = [self._product() for _ in range(PRODUCTS)]
        p0, p1, p2 = self.products
        kit = self._product(is_bundle=True)
        self._put_components(kit, {p0: 1, p1: 2})
        crate = self._product(is_bundle=True)
        self._put_components(crate, {kit: 2, p2: 1})
        # The model: each bundle exploded to its leaves, and the expected state.
        self.bundles = {kit: {p0: 1, p1: 2}, crate: {p0: 2, p1: 4, p2: 1}}
        self.levels: dict[Pair, int] = {}
        self.entries = 0
        self.inactive: set[int] = set()
        # purchase order id -> (warehouse, status, {product: [quantity, received]})
        self.orders: dict[int, tuple[int, str, dict[int, list[int]]]] = {}
        # Reservation id -> its holds while live (active, unexpired); and every
        # reservation's expected status.
        self.holds: dict[int, dict[Pair, int]] = {}
        self.status: dict[int, str] = {}
        # Some stock everywhere from the start, so that reservations often succeed.
        opening = [(p, w, 30) for p in self.products for w in self.warehouses]
        self._expect(self._movement("receipt", opening), opening)

    # -- talking to the app -------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"/api/companies/{self.company}"

    def _post(self, path: str, body: Any, **kwargs: Any) -> Response:
        return self.harness.run(self.harness.client.post(path, json=body, **kwargs))

    def _created(self, path: str, body: Any) -> int:
        r = self._post(path, body)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def _product(self, **fields: Any) -> int:
        body = {"name": "P", "sku": unique_sku("M"), "price": "1.00", **fields}
        return self._created(f"{self.base}/products", body)

    def _put_components(self, bundle_id: int, components: dict[int, int]) -> None:
        body = [{"product_id": p, "quantity": q} for p, q in components.items()]
        r = self.harness.run(
            self.harness.client.put(f"{self.base}/products/{bundle_id}/components", json=body)
        )
        assert r.status_code == 200, r.text

    def _movement(self, reason: str, model_lines: list[tuple[int, int, int]]) -> Response:
        body = {
            "reason": reason,
            "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in model_lines],
        }
        return self._post(f"{self.base}/stock-movements", body)

    # -- the model ----------------------------------------------------------------------

    def _reserved(self, pair: Pair) -> int:
        return sum(holds.get(pair, 0) for holds in self.holds.values())

    def _apply(
        self, model_lines: list[tuple[int, int, int]], taking: bool = False
    ) -> list[int] | None:
        """The quantities after each line, or None if one would go negative or (when
        `taking`: a sale or transfer) take units a live reservation holds."""
        running = dict(self.levels)
        after = []
        for p, w, d in model_lines:
            q = running.get((p, w), 0) + d
            if q < 0 or (taking and d < 0 and q < self._reserved((p, w))):
                return None
            running[(p, w)] = q
            after.append(q)
        return after

    def _expect(
        self,
        r: Response,
        model_lines: list[tuple[int, int, int]],
        blocked: bool = False,
        taking: bool = False,
    ) -> None:
        """Check the response against the model and, if it succeeded, advance the model."""
        if blocked:
            assert r.status_code == 409, r.text
            assert "inactive" in r.json()["detail"]
            return
        after = self._apply(model_lines, taking)
        if after is None:
            assert r.status_code == 409, r.text
            assert r.json()["type"].endswith("insufficient-stock")
            return
        assert r.status_code == 201, r.text
        got = [(e["product_id"], e["warehouse_id"], e["delta"]) for e in r.json()["entries"]]
        assert got == model_lines
        assert [e["quantity_after"] for e in r.json()["entries"]] == after
        for (p, w, _), q in zip(model_lines, after, strict=True):
            self.levels[(p, w)] = q
        self.entries += len(model_lines)

    def _lines(self, picks: list[tuple[int, int, int]], sign: int) -> list[tuple[int, int, int]]:
        return [(self.products[p], self.warehouses[w], sign * n) for p, w, n in picks]

    # -- rules --------------------------------------------------------------------------

    @rule(picks=big_lines, reason=st.sampled_from(["receipt", "return"]))
    def stock_in(self, picks: list[tuple[int, int, int]], reason: str) -> None:
        model_lines = self._lines(picks, +1)
        blocked = any(p in self.inactive for p, _, _ in model_lines)
        self._expect(self._movement(reason, model_lines), model_lines, blocked)

    @rule(picks=lines)
    def sale(self, picks: list[tuple[int, int, int]]) -> None:
        model_lines = self._lines(picks, -1)
        blocked = any(p in self.inactive for p, _, _ in model_lines)
        self._expect(self._movement("sale", model_lines), model_lines, blocked, taking=True)

    @rule(picks=lines, signs=st.lists(st.booleans(), min_size=3, max_size=3))
    def adjustment(self, picks: list[tuple[int, int, int]], signs: list[bool]) -> None:
        model_lines = [
            (self.products[p], self.warehouses[w], n if up else -n)
            for (p, w, n), up in zip(picks, signs, strict=False)
        ]
        self._expect(self._movement("adjustment", model_lines), model_lines)

    @rule(picks=lines, reason=st.sampled_from(["receipt", "return", "sale"]))
    def wrong_sign_is_rejected(self, picks: list[tuple[int, int, int]], reason: str) -> None:
        sign = +1 if reason == "sale" else -1
        r = self._movement(reason, self._lines(picks, sign))
        assert r.status_code == 422, r.text

    @rule(
        which=st.integers(0, 1),
        w=warehouse_index,
        units=st.integers(1, 6),
        extra=st.none() | st.tuples(product_index, st.integers(1, 5)),
    )
    def bundle_sale(self, which: int, w: int, units: int, extra: tuple[int, int] | None) -> None:
        bundle_id = list(self.bundles)[which]
        wid = self.warehouses[w]
        model_lines = [(p, wid, -units * q) for p, q in sorted(self.bundles[bundle_id].items())]
        request = [(bundle_id, wid, -units)]
        if extra is not None:
            model_lines.append((self.products[extra[0]], wid, -extra[1]))
            request.append(model_lines[-1])
        r = self._movement("sale", request)
        blocked = any(p in self.inactive for p, _, _ in model_lines)
        self._expect(r, model_lines, blocked, taking=True)
        if r.status_code == 201:
            bundle_ids = [e["bundle_id"] for e in r.json()["entries"]]
            assert bundle_ids == [bundle_id] * len(self.bundles[bundle_id]) + (
                [None] if extra is not None else []
            )

    @rule(
        which=st.integers(0, 1),
        w=warehouse_index,
        reason=st.sampled_from(["receipt", "return", "adjustment"]),
    )
    def bundle_stock_in_is_rejected(self, which: int, w: int, reason: str) -> None:
        r = self._movement(reason, [(list(self.bundles)[which], self.warehouses[w], 1)])
        assert r.status_code == 422, r.text

    @rule(
        p=product_index,
        src=warehouse_index,
        same=st.integers(0, 4).map(lambda x: x == 0),
        n=st.integers(1, 15),
        fit=st.booleans(),
    )
    def transfer(self, p: int, src: int, same: bool, n: int, fit: bool) -> None:
        dst = src if same else (src + 1) % WAREHOUSES
        pid, w_src, w_dst = self.products[p], self.warehouses[src], self.warehouses[dst]
        if fit and self.levels.get((pid, w_src), 0) > 0:
            n = min(n, self.levels[(pid, w_src)])
        body = {"product_id": pid, "from_warehouse_id": w_src, "to_warehouse_id": w_dst}
        r = self._post(f"{self.base}/stock-transfers", {**body, "quantity": n})
        if src == dst:
            assert r.status_code == 422, r.text
            return
        self._expect(r, [(pid, w_src, -n), (pid, w_dst, n)], pid in self.inactive, taking=True)
        if r.status_code == 201:
            reasons = [e["reason"] for e in r.json()["entries"]]
            assert reasons == ["transfer_out", "transfer_in"]

    @rule(picks=lines)
    def retried_receipt_applies_once(self, picks: list[tuple[int, int, int]]) -> None:
        model_lines = self._lines(picks, +1)
        body = {
            "reason": "receipt",
            "lines": [{"product_id": p, "warehouse_id": w, "delta": d} for p, w, d in model_lines],
        }
        key = {"Idempotency-Key": unique_sku("key")}
        first = self._post(f"{self.base}/stock-movements", body, headers=key)
        self._expect(first, model_lines, any(p in self.inactive for p, _, _ in model_lines))
        again = self._post(f"{self.base}/stock-movements", body, headers=key)
        assert again.status_code == first.status_code
        if first.status_code == 201:
            assert again.json() == first.json()

    @rule()
    def deactivate(self) -> None:
        # Only the last product, a component of one bundle only, so that the other
        # bundle and products keep moving.
        pid = self.products[-1]
        r = self.harness.run(self.harness.client.delete(f"{self.base}/products/{pid}"))
        assert r.status_code == 204, r.text
        self.inactive.add(pid)

    @rule(picks=order_lines, w=warehouse_index, place=st.booleans())
    def purchase_order(self, picks: list[tuple[int, int]], w: int, place: bool) -> None:
        supplier = self._created(f"{self.base}/suppliers", {"name": "S"})
        wid = self.warehouses[w]
        lines = {self.products[p]: q for p, q in picks}
        body = {
            "supplier_id": supplier,
            "warehouse_id": wid,
            "lines": [{"product_id": p, "quantity": q} for p, q in lines.items()],
        }
        r = self._post(f"{self.base}/purchase-orders", body)
        if any(p in self.inactive for p in lines):
            assert r.status_code == 422, r.text
            return
        assert r.status_code == 201, r.text
        oid = int(r.json()["id"])
        status = "draft"
        if place:
            r = self._post(f"{self.base}/purchase-orders/{oid}/order", None)
            assert r.status_code == 200, r.text
            status = "ordered"
        self.orders[oid] = (wid, status, {p: [q, 0] for p, q in lines.items()})

    def _pick_order(self, index: int) -> int | None:
        return sorted(self.orders)[index % len(self.orders)] if self.orders else None

    @rule(index=st.integers(0, 50), picks=order_lines, retry=st.booleans())
    def receive(self, index: int, picks: list[tuple[int, int]], retry: bool) -> None:
        oid = self._pick_order(index)
        if oid is None:
            return
        wid, status, lines = self.orders[oid]
        receipt = {self.products[p]: q for p, q in picks}
        body = {"lines": [{"product_id": p, "quantity": q} for p, q in receipt.items()]}
        key = {"Idempotency-Key": unique_sku("rk")}
        path = f"{self.base}/purchase-orders/{oid}/receipts"
        r = self._post(path, body, headers=key)
        if retry:  # the same key again: the same answer, applied once
            again = self._post(path, body, headers=key)
            assert again.status_code == r.status_code
            if r.status_code in (201, 409):
                assert again.json() == r.json()
        if status not in ("ordered", "partially_received"):
            assert r.status_code == 409, r.text
            return
        if any(p not in lines for p in receipt):
            assert r.status_code == 422, r.text
            return
        if any(q > lines[p][0] - lines[p][1] for p, q in receipt.items()):
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 201, r.text
        for p, q in receipt.items():
            lines[p][1] += q
            self.levels[(p, wid)] = self.levels.get((p, wid), 0) + q
        self.entries += len(receipt)
        done = all(q == got for q, got in lines.values())
        self.orders[oid] = (wid, "received" if done else "partially_received", lines)
        assert r.json()["purchase_order"]["status"] == self.orders[oid][1]

    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        oid = self._pick_order(index)
        if oid is None:
            return
        wid, status, lines = self.orders[oid]
        r = self._post(f"{self.base}/purchase-orders/{oid}/cancel", None)
        if status in ("received", "cancelled"):
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 200, r.text
        self.orders[oid] = (wid, "cancelled", lines)

    @rule(picks=small_lines, kit=st.none() | st.tuples(warehouse_index, st.integers(1, 3)))
    def reserve(self, picks: list[tuple[int, int, int]], kit: tuple[int, int] | None) -> None:
        request = list({(p, w): (p, w, n) for p, w, n in self._lines(picks, +1)}.values())
        wanted: dict[Pair, int] = {}
        for p, w, n in request:
            wanted[(p, w)] = wanted.get((p, w), 0) + n
        if kit is not None:
            kit_id = next(iter(self.bundles))
            wid = self.warehouses[kit[0]]
            if all(w != wid or p != kit_id for p, w, _ in request):
                request.append((kit_id, wid, kit[1]))
                for leaf, units in self.bundles[kit_id].items():
                    wanted[(leaf, wid)] = wanted.get((leaf, wid), 0) + units * kit[1]
        body = {
            "lines": [{"product_id": p, "warehouse_id": w, "quantity": n} for p, w, n in request]
        }
        r = self._post(f"{self.base}/reservations", body)
        if any(p in self.inactive for p, _ in wanted):
            assert r.status_code == 422, r.text
            return
        short = any(
            max(0, self.levels.get(pair, 0) - self._reserved(pair)) < n
            for pair, n in wanted.items()
        )
        if short:
            assert r.status_code == 409, r.text
            assert r.json()["type"].endswith("insufficient-stock")
            return
        assert r.status_code == 201, r.text
        got = {(ln["product_id"], ln["warehouse_id"]): ln["quantity"] for ln in r.json()["lines"]}
        assert got == wanted
        self.holds[r.json()["id"]] = wanted
        self.status[r.json()["id"]] = "active"

    # Twice the chance of being drawn: reservations are what the other rules race with.
    reserve_again = reserve

    def _pick(self, which: int) -> int | None:
        ids = sorted(self.status)
        return ids[which % len(ids)] if ids else None

    @rule(which=st.integers(0, 50))
    def commit(self, which: int) -> None:
        rid = self._pick(which)
        if rid is None:
            return
        r = self._post(f"{self.base}/reservations/{rid}/commit", None)
        holds = self.holds.get(rid)
        if holds is None or any(self.levels.get(pair, 0) < n for pair, n in holds.items()):
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 201, r.text
        entries = r.json()["entries"]
        assert [(e["product_id"], e["warehouse_id"], e["delta"]) for e in entries] == [
            (p, w, -n) for (p, w), n in sorted(holds.items())
        ]
        for pair, n in holds.items():
            self.levels[pair] -= n
        self.entries += len(holds)
        del self.holds[rid]
        self.status[rid] = "committed"

    @rule(
        which=st.integers(0, 50),
        extra=st.integers(0, 3),
        reason=st.sampled_from(["sale", "transfer"]),
    )
    def take_held_units(self, which: int, extra: int, reason: str) -> None:
        """A sale or transfer that reaches into a live reservation's hold (extra > 0) or
        takes exactly what is available (extra = 0)."""
        rid = self._pick(which)
        if rid is None or rid not in self.holds:
            return
        (pid, wid), _ = sorted(self.holds[rid].items())[0]
        n = max(0, self.levels.get((pid, wid), 0) - self._reserved((pid, wid))) + extra
        if n == 0:
            return
        blocked = pid in self.inactive
        if reason == "sale":
            self._expect(self._movement("sale", [(pid, wid, -n)]), [(pid, wid, -n)], blocked, True)
            return
        other = next(w for w in self.warehouses if w != wid)
        body = {"product_id": pid, "from_warehouse_id": wid, "to_warehouse_id": other}
        r = self._post(f"{self.base}/stock-transfers", {**body, "quantity": n})
        self._expect(r, [(pid, wid, -n), (pid, other, n)], blocked, taking=True)

    @rule(which=st.integers(0, 50))
    def release(self, which: int) -> None:
        rid = self._pick(which)
        if rid is None:
            return
        r = self._post(f"{self.base}/reservations/{rid}/release", None)
        if rid not in self.holds:
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 200, r.text
        del self.holds[rid]
        self.status[rid] = "released"

    @rule(which=st.integers(0, 50))
    def time_passes_for_one(self, which: int) -> None:
        """One reservation's expiry moves into the past (as if its time ran out)."""
        rid = self._pick(which)
        if rid is None or rid not in self.holds:
            return
        self.harness.run(self._backdate(rid))
        del self.holds[rid]
        self.status[rid] = "expired"

    async def _backdate(self, rid: int) -> None:
        async with self.harness.owner.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :i"
                ),
                {"i": rid},
            )

    @rule()
    def expiry_job_runs(self) -> None:
        self.harness.run(expire_reservations(self.harness.jobs))

    # -- after every step ---------------------------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        self.harness.run(self._check_database())

    async def _check_database(self) -> None:
        async with self.harness.owner.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        """
                        SELECT l.product_id, l.warehouse_id, l.quantity,
                               (SELECT coalesce(sum(e.delta), 0) FROM ledger_entries AS e
                                WHERE e.product_id = l.product_id
                                  AND e.warehouse_id = l.warehouse_id) AS ledger_sum,
                               l.last_sold_at,
                               (SELECT max(e.occurred_at) FROM ledger_entries AS e
                                WHERE e.product_id = l.product_id
                                  AND e.warehouse_id = l.warehouse_id
                                  AND e.reason = 'sale') AS ledger_last_sale
                        FROM inventory_levels AS l WHERE l.company_id = :c
                        """
                    ),
                    {"c": self.company},
                )
            ).all()
            entries = await conn.scalar(
                text("SELECT count(*) FROM ledger_entries WHERE company_id = :c"),
                {"c": self.company},
            )
        for row in rows:
            assert row.quantity >= 0
            assert row.quantity == row.ledger_sum
            assert row.last_sold_at == row.ledger_last_sale
        stored = {(r.product_id, r.warehouse_id): r.quantity for r in rows if r.quantity}
        assert stored == {pair: q for pair, q in self.levels.items() if q}
        assert entries == self.entries
        await self._check_orders()
        await self._check_reservations()

    async def _check_orders(self) -> None:
        """received <= ordered on every line (as the model says), and every level's
        on_order is what the open orders still expect."""
        async with self.harness.owner.connect() as conn:
            lines = (
                await conn.execute(
                    text(
                        "SELECT o.id, o.status, l.product_id, l.quantity, l.received_quantity "
                        "FROM purchase_orders AS o JOIN purchase_order_lines AS l "
                        "ON l.purchase_order_id = o.id WHERE o.company_id = :c"
                    ),
                    {"c": self.company},
                )
            ).all()
            on_order = (
                await conn.execute(
                    text(
                        "SELECT product_id, warehouse_id, on_order FROM inventory_levels "
                        "WHERE company_id = :c AND on_order <> 0"
                    ),
                    {"c": self.company},
                )
            ).all()
        stored = {(r.id, r.product_id): (r.status, r.quantity, r.received_quantity) for r in lines}
        model = {
            (oid, p): (status, q, got)
            for oid, (_, status, order_lines) in self.orders.items()
            for p, (q, got) in order_lines.items()
        }
        assert stored == model
        assert all(r.received_quantity <= r.quantity for r in lines)
        expected: dict[Pair, int] = {}
        for wid, status, order_lines in self.orders.values():
            if status in ("ordered", "partially_received"):
                for p, (q, got) in order_lines.items():
                    if q > got:
                        expected[(p, wid)] = expected.get((p, wid), 0) + q - got
        assert {(r.product_id, r.warehouse_id): r.on_order for r in on_order} == expected

    async def _check_reservations(self) -> None:
        """`reserved` as clients read it = the model's live holds; the stored counter =
        the holds of reservations stored active; every status as the model says."""
        r = await self.harness.client.get(f"{self.base}/inventory", params={"limit": 500})
        assert r.status_code == 200, r.text
        for lv in r.json()["items"]:
            pair = (lv["product_id"], lv["warehouse_id"])
            assert lv["reserved"] == self._reserved(pair), pair
            assert lv["available"] == max(0, lv["quantity"] - lv["reserved"])
        async with self.harness.owner.connect() as conn:
            bad = (
                await conn.execute(
                    text(
                        """
                        SELECT l.product_id, l.warehouse_id FROM inventory_levels AS l
                        WHERE l.company_id = :c AND l.reserved <> (
                            SELECT coalesce(sum(rl.quantity), 0)
                            FROM reservation_lines AS rl
                            JOIN reservations AS r ON r.id = rl.reservation_id
                            WHERE r.status = 'active' AND rl.product_id = l.product_id
                              AND rl.warehouse_id = l.warehouse_id)
                        """
                    ),
                    {"c": self.company},
                )
            ).all()
        assert bad == []
        listed = await self.harness.client.get(f"{self.base}/reservations", params={"limit": 500})
        assert {x["id"]: x["status"] for x in listed.json()["items"]} == self.status


def _run_machine(database_url: str) -> None:
    harness = Harness(database_url)
    LedgerMachine.harness = harness
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=20,
                stateful_step_count=30,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        harness.close()


def test_ledger_matches_its_model(database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_run_machine, database_url).result()
