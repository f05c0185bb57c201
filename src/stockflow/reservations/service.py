"""Business rules of reservations: all-or-nothing holds on available units that expire,
commit into sales through the ledger's one write path, or are released.

One method per state change (create, commit, release, and the expiry job's fold), each
the one place that writes its `reservation.updated` event, in the same transaction."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.bundles.repository import BundleRepository
from stockflow.core.errors import InsufficientStock, InvalidInput, NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.events.outbox import emit, emit_many
from stockflow.ledger.repository import EntryLine, LedgerRepository, Pair
from stockflow.ledger.schemas import LedgerEntryRead
from stockflow.ledger.service import MAX_EXPLODED_LINES
from stockflow.ledger.writer import write_entries
from stockflow.reservations.exceptions import not_active, reservation_not_found
from stockflow.reservations.repository import LineRow, ReservationRepository, ReservationRow
from stockflow.reservations.schemas import (
    DEFAULT_TTL_SECONDS,
    CommitRead,
    ReservationCreate,
    ReservationLineRead,
    ReservationRead,
)

RESERVATION_UPDATED = "reservation.updated"


def _invalid(detail: str, loc: list[str | int]) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": loc, "msg": detail}])


def _read(row: ReservationRow, lines: Sequence[LineRow]) -> ReservationRead:
    return ReservationRead(
        id=row.id,
        company_id=row.company_id,
        status=row.status,
        reference=row.reference,
        expires_at=row.expires_at,
        created_at=row.created_at,
        lines=[
            ReservationLineRead(
                product_id=ln.product_id, warehouse_id=ln.warehouse_id, quantity=ln.quantity
            )
            for ln in lines
        ],
    )


class ReservationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = ReservationRepository(session)
        self.ledger = LedgerRepository(session)
        self.bundles = BundleRepository(session)

    async def create(self, company_id: int, data: ReservationCreate) -> ReservationRead:
        """Hold every line's units, or none: 409 if any (exploded, merged) line asks for
        more than its level has available."""
        holds = await self._holds(company_id, data)
        states = await self.ledger.lock_level_states(company_id, list(holds), receiving=[])
        short = {
            pair: need
            for pair, need in holds.items()
            if pair not in states or states[pair].quantity - states[pair].reserved < need
        }
        if short:
            # `reserved` may still count lapsed holds; subtract them before saying no.
            lapsed = await self.ledger.lapsed_holds(company_id, list(short))
            for pair in sorted(short):
                state = states.get(pair)
                on_hand = 0 if state is None else state.quantity
                held = 0 if state is None else state.reserved - lapsed.get(pair, 0)
                available = max(0, on_hand - held)
                if available < short[pair]:
                    raise InsufficientStock(
                        f"Product {pair[0]} in warehouse {pair[1]} has {available} units "
                        f"available ({on_hand} on hand, {held} held by reservations); "
                        f"{short[pair]} were asked for. Nothing was held."
                    )
        ttl = data.ttl_seconds if data.ttl_seconds is not None else DEFAULT_TTL_SECONDS
        row = await self.repo.create(company_id, data.reference, ttl, holds)
        lines = [LineRow(row.id, p, w, holds[(p, w)]) for p, w in sorted(holds)]
        read = _read(row, lines)
        await emit(self.session, company_id, RESERVATION_UPDATED, read)
        return read

    async def get(self, company_id: int, reservation_id: int) -> ReservationRead:
        row = await self.repo.get(company_id, reservation_id)
        if row is None:
            raise reservation_not_found(reservation_id)
        return _read(row, await self.repo.lines(company_id, [row.id]))

    async def list_page(
        self, company_id: int, status: str | None, params: PageParams
    ) -> Page[ReservationRead]:
        after = params.after()
        rows = await self.repo.list_page(
            company_id, status, after[0] if after else None, params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda r: [r.id])
        return Page[ReservationRead](items=await self._reads(company_id, items), next_cursor=cursor)

    async def commit(self, company_id: int, reservation_id: int) -> CommitRead:
        """Sell the held units: one `sale` entry per line through the ledger's write
        path, which ends this reservation's hold in the same transaction (so nobody
        else's availability moves) and needs only on-hand stock."""
        row, lines = await self._lock_active(company_id, reservation_id, "committed")
        entries = await write_entries(
            self.session,
            company_id,
            [EntryLine(ln.product_id, ln.warehouse_id, -ln.quantity, "sale") for ln in lines],
            occurred_at=None,
            reference=row.reference or f"RES-{row.id}",
            consumes_hold={(ln.product_id, ln.warehouse_id): ln.quantity for ln in lines},
        )
        await self.repo.close(company_id, row.id, "committed")
        read = _read(_with_status(row, "committed"), lines)
        await emit(self.session, company_id, RESERVATION_UPDATED, read)
        return CommitRead(
            reservation=read, entries=[LedgerEntryRead.model_validate(e) for e in entries]
        )

    async def release(self, company_id: int, reservation_id: int) -> ReservationRead:
        """Let the held units go back to available."""
        row, lines = await self._lock_active(company_id, reservation_id, "released")
        holds = {(ln.product_id, ln.warehouse_id): ln.quantity for ln in lines}
        await self.ledger.lock_level_states(company_id, list(holds), receiving=[])
        await self.ledger.end_holds(holds)
        await self.repo.close(company_id, row.id, "released")
        read = _read(_with_status(row, "released"), lines)
        await emit(self.session, company_id, RESERVATION_UPDATED, read)
        return read

    async def expire_lapsed(self, limit: int) -> int:
        """The expiry job's batch (any company; the caller scopes the transaction to
        admin): lapsed reservations become `expired`, leave `reserved`, and each sends
        `reservation.updated` to its company; returns how many."""
        folded = await self.repo.fold_lapsed(limit)
        for company_id, ids in sorted(folded.items()):
            reads = await self._reads(company_id, await self.repo.get_many(company_id, ids))
            await emit_many(self.session, company_id, [(RESERVATION_UPDATED, r) for r in reads])
        return sum(len(ids) for ids in folded.values())

    async def _reads(
        self, company_id: int, rows: Sequence[ReservationRow]
    ) -> list[ReservationRead]:
        """`rows` with their lines (one query for all of them)."""
        by_reservation: dict[int, list[LineRow]] = defaultdict(list)
        if rows:
            for line in await self.repo.lines(company_id, [r.id for r in rows]):
                by_reservation[line.reservation_id].append(line)
        return [_read(r, by_reservation[r.id]) for r in rows]

    async def _lock_active(
        self, company_id: int, reservation_id: int, action: str
    ) -> tuple[ReservationRow, list[LineRow]]:
        row = await self.repo.get(company_id, reservation_id, lock=True)
        if row is None:
            raise reservation_not_found(reservation_id)
        if row.status != "active":
            raise not_active(row.id, row.status, action)
        return row, await self.repo.lines(company_id, [row.id])

    async def _holds(self, company_id: int, data: ReservationCreate) -> dict[Pair, int]:
        """The lines as leaf units per (product, warehouse): 404 for a foreign or unknown
        product or warehouse, 422 for an inactive product or an empty bundle."""
        products, warehouses = await self.ledger.references(
            company_id,
            [ln.product_id for ln in data.lines],
            [ln.warehouse_id for ln in data.lines],
        )
        for line in data.lines:
            if line.product_id not in products:
                raise NotFound(f"Product {line.product_id} not found.")
        for line in data.lines:
            if line.warehouse_id not in warehouses:
                raise NotFound(f"Warehouse {line.warehouse_id} not found.")
        for i, line in enumerate(data.lines):
            if not products[line.product_id].is_active:
                raise _invalid(
                    f"Product {line.product_id} is inactive; it cannot be reserved.",
                    ["body", "lines", i, "product_id"],
                )
        bundle_ids = [pid for pid, facts in products.items() if facts.is_bundle]
        leaves = await self.bundles.explode(company_id, bundle_ids) if bundle_ids else {}
        for i, line in enumerate(data.lines):
            if line.product_id in leaves and not leaves[line.product_id]:
                raise _invalid(
                    f"Bundle {line.product_id} has no components, so it cannot be reserved.",
                    ["body", "lines", i, "product_id"],
                )
        leaf_ids = sorted({leaf for components in leaves.values() for leaf in components})
        if leaf_ids:
            for facts in (await self.ledger.products(company_id, leaf_ids)).values():
                if not facts.is_active:
                    raise _invalid(
                        f"Product {facts.id} is inactive; it cannot be reserved (it is a "
                        "component of a bundle reserved here).",
                        ["body", "lines"],
                    )
        holds: dict[Pair, int] = defaultdict(int)
        for line in data.lines:
            if line.product_id not in leaves:
                holds[(line.product_id, line.warehouse_id)] += line.quantity
                continue
            for leaf, units in leaves[line.product_id].items():
                holds[(leaf, line.warehouse_id)] += line.quantity * units
        if len(holds) > MAX_EXPLODED_LINES:
            raise _invalid(
                f"The bundles here explode into more than {MAX_EXPLODED_LINES} lines; split it.",
                ["body", "lines"],
            )
        return dict(holds)


def _with_status(row: ReservationRow, status: str) -> ReservationRow:
    return ReservationRow(
        row.id, row.company_id, status, row.reference, row.expires_at, row.created_at
    )
