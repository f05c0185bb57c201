"""The reservations' SQL. Levels are locked and their holds ended through the ledger's
repository (one lock order for every stock change)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

Pair = tuple[int, int]

# The status a client sees: an active reservation past its expiry reads `expired`, at the
# transaction's time, whether or not the expiry job has folded it yet.
_STATUS_AS_READ = (
    "CASE WHEN r.status = 'active' AND r.expires_at <= now() THEN 'expired' ELSE r.status END"
)
_COLUMNS = (
    f"r.id, r.company_id, {_STATUS_AS_READ} AS status, r.reference, r.expires_at, r.created_at"
)

# The reservation, its lines and the levels' new holds in one statement (the levels are
# already locked by the caller).
_CREATE = text(
    """
    WITH r AS (
        INSERT INTO reservations (company_id, status, reference, expires_at)
        VALUES (:company_id, 'active', CAST(:reference AS text),
                now() + CAST(:ttl AS integer) * interval '1 second')
        RETURNING id, company_id, status, reference, expires_at, created_at
    ), lines AS (
        INSERT INTO reservation_lines
            (reservation_id, product_id, warehouse_id, company_id, quantity)
        SELECT r.id, t.p, t.w, :company_id, t.q
        FROM r, unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[]),
                       CAST(:quantities AS bigint[])) AS t(p, w, q)
    ), held AS (
        UPDATE inventory_levels AS l
        SET reserved = l.reserved + t.q
        FROM unnest(CAST(:products AS bigint[]), CAST(:warehouses AS bigint[]),
                    CAST(:quantities AS bigint[])) AS t(p, w, q)
        WHERE l.product_id = t.p AND l.warehouse_id = t.w
    )
    SELECT id, company_id, status, reference, expires_at, created_at FROM r
    """
)

_GET = text(
    f"SELECT {_COLUMNS} FROM reservations AS r "  # noqa: S608 - constants only
    "WHERE r.company_id = :company_id AND r.id = :id"
)
# Locks the reservation before any level: commit, release and expiry all take the
# reservation first and its levels after (in the ledger's order), so they cannot
# deadlock, and the second of two racing state changes sees the first one's status.
_GET_MANY = text(
    f"SELECT {_COLUMNS} FROM reservations AS r "  # noqa: S608 - constants only
    "WHERE r.company_id = :company_id AND r.id = ANY(CAST(:ids AS bigint[])) ORDER BY r.id"
)
_LOCK = text(
    f"SELECT {_COLUMNS} FROM reservations AS r "  # noqa: S608 - constants only
    "WHERE r.company_id = :company_id AND r.id = :id FOR UPDATE OF r"
)

_LINES = text(
    """
    SELECT reservation_id, product_id, warehouse_id, quantity FROM reservation_lines
    WHERE company_id = :company_id AND reservation_id = ANY(CAST(:ids AS bigint[]))
    ORDER BY reservation_id, product_id, warehouse_id
    """
)

_CLOSE = text(
    "UPDATE reservations SET status = :status, closed_at = now() "
    "WHERE company_id = :company_id AND id = :id"
)

_STATUS_FILTERS = {
    "active": "r.status = 'active' AND r.expires_at > now()",
    "expired": "(r.status = 'expired' OR (r.status = 'active' AND r.expires_at <= now()))",
    "committed": "r.status = 'committed'",
    "released": "r.status = 'released'",
}

# The expiry job: lapsed reservations of every company, oldest expiry first. Claimed
# SKIP LOCKED, so a commit or release in flight keeps its reservation (and decides it).
_CLAIM_LAPSED = text(
    """
    SELECT id FROM reservations
    WHERE status = 'active' AND expires_at <= now()
    ORDER BY expires_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)

# Their levels, locked in the ledger's (product, warehouse) order; product ids are
# unique across companies, so this is the same total order every request uses.
_LOCK_LAPSED_LEVELS = text(
    """
    SELECT l.product_id FROM inventory_levels AS l
    WHERE (l.product_id, l.warehouse_id) IN (
        SELECT product_id, warehouse_id FROM reservation_lines
        WHERE reservation_id = ANY(CAST(:ids AS bigint[]))
    )
    ORDER BY l.product_id, l.warehouse_id
    FOR UPDATE OF l
    """
)

_FOLD_LAPSED = text(
    """
    WITH held AS (
        SELECT product_id, warehouse_id, sum(quantity)::bigint AS q FROM reservation_lines
        WHERE reservation_id = ANY(CAST(:ids AS bigint[]))
        GROUP BY product_id, warehouse_id
    ), levels AS (
        UPDATE inventory_levels AS l SET reserved = l.reserved - held.q
        FROM held WHERE l.product_id = held.product_id AND l.warehouse_id = held.warehouse_id
    )
    UPDATE reservations SET status = 'expired', closed_at = now()
    WHERE id = ANY(CAST(:ids AS bigint[]))
    RETURNING company_id, id
    """
)


@dataclass(frozen=True)
class ReservationRow:
    id: int
    company_id: int
    status: str
    reference: str | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class LineRow:
    reservation_id: int
    product_id: int
    warehouse_id: int
    quantity: int


class ReservationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, company_id: int, reference: str | None, ttl_seconds: int, holds: dict[Pair, int]
    ) -> ReservationRow:
        """Insert an active reservation holding `holds` and add them to the (locked)
        levels' `reserved`."""
        pairs = sorted(holds)
        row = await self.session.execute(
            _CREATE,
            {
                "company_id": company_id,
                "reference": reference,
                "ttl": ttl_seconds,
                "products": [p for p, _ in pairs],
                "warehouses": [w for _, w in pairs],
                "quantities": [holds[pair] for pair in pairs],
            },
        )
        return ReservationRow(**row.one()._mapping)

    async def get(
        self, company_id: int, reservation_id: int, *, lock: bool = False
    ) -> ReservationRow | None:
        row = await self.session.execute(
            _LOCK if lock else _GET, {"company_id": company_id, "id": reservation_id}
        )
        found = row.first()
        return None if found is None else ReservationRow(**found._mapping)

    async def get_many(self, company_id: int, ids: Sequence[int]) -> list[ReservationRow]:
        """Reservations `ids` of `company_id`, in id order."""
        rows = await self.session.execute(_GET_MANY, {"company_id": company_id, "ids": list(ids)})
        return [ReservationRow(**r._mapping) for r in rows]

    async def lines(self, company_id: int, ids: Sequence[int]) -> list[LineRow]:
        """The lines of reservations `ids`, by reservation, product, warehouse."""
        rows = await self.session.execute(_LINES, {"company_id": company_id, "ids": list(ids)})
        return [LineRow(**r._mapping) for r in rows]

    async def close(self, company_id: int, reservation_id: int, status: str) -> None:
        await self.session.execute(
            _CLOSE, {"company_id": company_id, "id": reservation_id, "status": status}
        )

    async def list_page(
        self, company_id: int, status: str | None, after_id: int | None, limit: int
    ) -> list[ReservationRow]:
        where = ["r.company_id = :company_id"]
        if status is not None:
            where.append(_STATUS_FILTERS[status])
        if after_id is not None:
            where.append("r.id > :after_id")
        stmt = text(
            # Only constant fragments; the values are bound.
            f"SELECT {_COLUMNS} FROM reservations AS r "  # noqa: S608
            f"WHERE {' AND '.join(where)} ORDER BY r.id LIMIT :limit"
        )
        rows = await self.session.execute(
            stmt, {"company_id": company_id, "after_id": after_id, "limit": limit}
        )
        return [ReservationRow(**r._mapping) for r in rows]

    async def fold_lapsed(self, limit: int) -> dict[int, list[int]]:
        """Mark up to `limit` lapsed reservations (any company) `expired` and take their
        holds off `reserved`; returns their ids by company. Call in an admin-scoped
        transaction."""
        ids = list(await self.session.scalars(_CLAIM_LAPSED, {"limit": limit}))
        if not ids:
            return {}
        await self.session.execute(_LOCK_LAPSED_LEVELS, {"ids": ids})
        folded: dict[int, list[int]] = {}
        for company_id, reservation_id in await self.session.execute(_FOLD_LAPSED, {"ids": ids}):
            folded.setdefault(company_id, []).append(reservation_id)
        return folded
