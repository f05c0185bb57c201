"""Business rules of stock movements and transfers; the writing itself is `writer`'s."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.bundles.repository import BundleRepository
from stockflow.core.errors import Conflict, InvalidInput, NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import require_owned
from stockflow.ledger.repository import (
    EntryLine,
    EntryQuery,
    EntryRow,
    LedgerRepository,
    ProductFacts,
)
from stockflow.ledger.schemas import (
    EntriesRead,
    EntryFilters,
    LedgerEntryRead,
    MovementCreate,
    TransferCreate,
)
from stockflow.ledger.writer import write_entries
from stockflow.models import Product, Warehouse
from stockflow.models.inventory import REASON_SIGNS

MAX_FUTURE = timedelta(minutes=5)
# Back-dating is for real history; earlier dates are typos (and year-1 timestamps do not
# survive the round trip through the driver with their offset).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# A movement of 1,000 lines may explode into more component lines; this bounds the work
# one request can ask for.
MAX_EXPLODED_LINES = 10_000


def _invalid(detail: str, loc: list[str | int]) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": loc, "msg": detail}])


def _check_signs(data: MovementCreate) -> None:
    sign = REASON_SIGNS[data.reason]
    for i, line in enumerate(data.lines):
        if sign and (line.delta > 0) != (sign > 0):
            word = "positive" if sign > 0 else "negative"
            raise _invalid(
                f"A {data.reason} needs a {word} delta; line {i} has {line.delta}.",
                ["body", "lines", i, "delta"],
            )


def check_occurred_at(occurred_at: datetime | None) -> None:
    if occurred_at is None:
        return
    if occurred_at > datetime.now(UTC) + MAX_FUTURE:
        raise _invalid(
            "occurred_at may be at most 5 minutes in the future.", ["body", "occurred_at"]
        )
    if occurred_at < EARLIEST:
        raise _invalid("occurred_at must be in 1900 or later.", ["body", "occurred_at"])


def _inactive(product_id: int, what: str) -> Conflict:
    return Conflict(
        f"Product {product_id} is inactive: it takes no {what}; only adjustments "
        "(to write off or correct the stock it still has)."
    )


class LedgerService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = LedgerRepository(session)
        self.bundles = BundleRepository(session)

    async def _references(
        self, company_id: int, product_ids: Sequence[int], warehouse_ids: Sequence[int]
    ) -> dict[int, ProductFacts]:
        """404 for the first unknown product, else the first unknown warehouse (in the
        order given); returns the products."""
        products, warehouses = await self.repo.references(company_id, product_ids, warehouse_ids)
        for product_id in product_ids:
            if product_id not in products:
                raise NotFound(f"Product {product_id} not found.")
        for warehouse_id in warehouse_ids:
            if warehouse_id not in warehouses:
                raise NotFound(f"Warehouse {warehouse_id} not found.")
        return products

    async def post_movement(self, company_id: int, data: MovementCreate) -> EntriesRead:
        """Validate a movement, explode bundle sales into component sales and write it
        all in the request's transaction (all lines or none)."""
        _check_signs(data)
        check_occurred_at(data.occurred_at)
        products = await self._references(
            company_id,
            [ln.product_id for ln in data.lines],
            [ln.warehouse_id for ln in data.lines],
        )

        in_line_order = dict.fromkeys(ln.product_id for ln in data.lines)
        bundle_ids = [pid for pid in in_line_order if products[pid].is_bundle]
        if bundle_ids and data.reason != "sale":
            raise _invalid(
                f"Bundle {bundle_ids[0]} holds no stock of its own: it can only be sold "
                f"(its components are moved), not take a {data.reason}.",
                ["body", "lines", self._line_of(data, bundle_ids[0]), "product_id"],
            )
        for product in products.values():
            if not product.is_active and data.reason != "adjustment":
                raise _inactive(product.id, f"{data.reason}s")
        leaves = await self.bundles.explode(company_id, bundle_ids) if bundle_ids else {}
        for bundle_id, components in leaves.items():
            if not components:
                raise _invalid(
                    f"Bundle {bundle_id} has no components, so it cannot be sold.",
                    ["body", "lines", self._line_of(data, bundle_id), "product_id"],
                )
        leaf_ids = sorted({leaf for components in leaves.values() for leaf in components})
        if leaf_ids:  # no bundle, no query
            for facts in (await self.repo.products(company_id, leaf_ids)).values():
                if not facts.is_active:
                    raise _inactive(facts.id, "sales (it is a component of a bundle sold here)")

        lines: list[EntryLine] = []
        for line in data.lines:
            if line.product_id not in leaves:
                lines.append(EntryLine(line.product_id, line.warehouse_id, line.delta, data.reason))
                continue
            for leaf, units in sorted(leaves[line.product_id].items()):
                lines.append(
                    EntryLine(leaf, line.warehouse_id, line.delta * units, "sale", line.product_id)
                )
            if len(lines) > MAX_EXPLODED_LINES:
                raise _invalid(
                    f"The bundles in this movement explode into more than "
                    f"{MAX_EXPLODED_LINES} component lines; split it.",
                    ["body", "lines"],
                )
        entries = await write_entries(
            self.session,
            company_id,
            lines,
            occurred_at=data.occurred_at,
            reference=data.reference,
        )
        return _entries(entries)

    async def post_transfer(self, company_id: int, data: TransferCreate) -> EntriesRead:
        if data.from_warehouse_id == data.to_warehouse_id:
            raise _invalid(
                "A transfer needs two different warehouses.", ["body", "to_warehouse_id"]
            )
        products = await self._references(
            company_id, [data.product_id], [data.from_warehouse_id, data.to_warehouse_id]
        )
        product = products[data.product_id]
        if product.is_bundle:
            raise _invalid(
                f"Bundle {product.id} holds no stock of its own and cannot be transferred; "
                "transfer its components.",
                ["body", "product_id"],
            )
        if not product.is_active:
            raise _inactive(product.id, "transfers")
        lines = [
            EntryLine(product.id, data.from_warehouse_id, -data.quantity, "transfer_out"),
            EntryLine(product.id, data.to_warehouse_id, data.quantity, "transfer_in"),
        ]
        entries = await write_entries(
            self.session, company_id, lines, occurred_at=None, reference=data.reference
        )
        return _entries(entries)

    async def list_entries(
        self, company_id: int, filters: EntryFilters, params: PageParams
    ) -> Page[LedgerEntryRead]:
        if (
            filters.since is not None
            and filters.until is not None
            and filters.since > filters.until
        ):
            raise _invalid("since must not be after until.", ["query", "since"])
        # A filter on an unknown or foreign id is a 404, as everywhere else.
        await require_owned(
            self.session, Product, company_id, filters.product_id, filters.bundle_id
        )
        await require_owned(self.session, Warehouse, company_id, filters.warehouse_id)
        after = params.after()
        query = EntryQuery(
            product_id=filters.product_id,
            warehouse_id=filters.warehouse_id,
            bundle_id=filters.bundle_id,
            reason=filters.reason,
            since=filters.since,
            until=filters.until,
            descending=filters.order == "desc",
        )
        rows = await self.repo.list_entries(
            company_id, query, None if after is None else after[0], params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda e: [e.id])
        return Page[LedgerEntryRead](
            items=[LedgerEntryRead.model_validate(e) for e in items], next_cursor=cursor
        )

    @staticmethod
    def _line_of(data: MovementCreate, product_id: int) -> int:
        return next(i for i, ln in enumerate(data.lines) if ln.product_id == product_id)


def _entries(rows: Sequence[EntryRow]) -> EntriesRead:
    return EntriesRead(entries=[LedgerEntryRead.model_validate(r) for r in rows])
