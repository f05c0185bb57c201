from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.bundles.repository import BundleRepository
from stockflow.bundles.schemas import ComponentRead
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import require_owned
from stockflow.events.low_stock import resolve_product
from stockflow.events.outbox import emit
from stockflow.ledger.repository import EntryLine, LedgerRepository
from stockflow.ledger.writer import write_entries
from stockflow.models import Product, ProductType, Warehouse
from stockflow.products.exceptions import (
    duplicate_sku,
    invalid_field,
    product_not_found,
)
from stockflow.products.repository import ProductFilter, ProductRepository, StockLevel
from stockflow.products.schemas import (
    ProductCreate,
    ProductDetail,
    ProductRead,
    ProductUpdate,
    StockRead,
)

UNIQUE_VIOLATION = "23505"
INITIAL_STOCK_REFERENCE = "initial stock"


class ProductService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = ProductRepository(session)
        self.bundles = BundleRepository(session)

    async def create(self, company_id: int, data: ProductCreate) -> ProductRead:
        """The product and, with `warehouse_id`, its level and initial `receipt` entry, all
        in the request's transaction: a failure anywhere leaves none of them."""
        if data.initial_quantity > 0 and data.warehouse_id is None:
            raise invalid_field("initial_quantity", "initial_quantity > 0 needs a warehouse_id.")
        if data.is_bundle and data.initial_quantity > 0:
            raise invalid_field(
                "initial_quantity", "A bundle holds no stock of its own; it takes no initial stock."
            )
        await require_owned(self.session, ProductType, company_id, data.product_type_id)
        await require_owned(self.session, Warehouse, company_id, data.warehouse_id)

        fields = data.model_dump(
            include={"name", "sku", "price", "product_type_id", "low_stock_threshold", "is_bundle"}
        )
        product = await self._insert(company_id, fields)
        read = ProductRead.model_validate(product)
        await emit(self.session, company_id, "product.created", read)
        if data.warehouse_id is not None and not product.is_bundle:
            await self._stock_initially(product, data.warehouse_id, data.initial_quantity)
        return read

    async def list_page(
        self, company_id: int, filters: ProductFilter, params: PageParams
    ) -> Page[ProductRead]:
        # A filter on an unknown or foreign id is a 404, as everywhere else.
        await require_owned(self.session, ProductType, company_id, filters.product_type_id)
        after = params.after()
        rows = await self.repo.list_page(
            company_id, filters, after[0] if after else None, params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda p: [p.id])
        return Page[ProductRead](
            items=[ProductRead.model_validate(p) for p in items], next_cursor=cursor
        )

    async def get(self, company_id: int, product_id: int) -> ProductDetail:
        product = await self._get(company_id, product_id)
        components: list[ComponentRead] = []
        if product.is_bundle:
            components = [
                ComponentRead(product_id=c, quantity=q)
                for c, q in await self.bundles.components(company_id, product.id)
            ]
            stock = await self._bundle_stock(company_id, product.id)
        else:
            rows = await self.repo.stock(company_id, [product.id])
            available = await self._available(company_id, rows)
            stock = [
                StockRead(
                    warehouse_id=row.warehouse_id,
                    warehouse_name=row.warehouse_name,
                    quantity=row.quantity,
                    available=available[(row.product_id, row.warehouse_id)],
                )
                for row in rows
            ]
        return ProductDetail(
            **ProductRead.model_validate(product).model_dump(), stock=stock, components=components
        )

    async def update(self, company_id: int, product_id: int, data: ProductUpdate) -> ProductRead:
        product = await self._get(company_id, product_id)
        changes = data.model_dump(exclude_unset=True)
        await require_owned(self.session, ProductType, company_id, changes.get("product_type_id"))
        sku = changes.get("sku")
        if sku is not None and await self.repo.sku_taken(sku, except_id=product.id):
            raise duplicate_sku(sku)
        was_active = product.is_active
        for name, value in changes.items():
            setattr(product, name, value)
        await self._flush_guarding_sku(sku or product.sku)
        await self.session.refresh(product)
        read = ProductRead.model_validate(product)
        await self._emit_change(company_id, read, was_active)
        return read

    async def _emit_change(self, company_id: int, read: ProductRead, was_active: bool) -> None:
        if was_active and not read.is_active:
            await emit(self.session, company_id, "product.deactivated", read)
            await resolve_product(self.session, company_id, read.id)
        else:
            await emit(self.session, company_id, "product.updated", read)

    async def deactivate(self, company_id: int, product_id: int) -> None:
        product = await self._get(company_id, product_id)
        if product.is_active:
            product.is_active = False
            await self.session.flush()
            await self.session.refresh(product)
            await self._emit_change(company_id, ProductRead.model_validate(product), True)

    async def _get(self, company_id: int, product_id: int) -> Product:
        product = await self.repo.get(company_id, product_id)
        if product is None:
            raise product_not_found(product_id)
        return product

    async def _insert(self, company_id: int, fields: dict[str, Any]) -> Product:
        sku: str = fields["sku"]
        # The pre-check gives the common case a clear answer; the unique index on
        # lower(sku) settles a race between two requests that both passed it.
        if await self.repo.sku_taken(sku):
            raise duplicate_sku(sku)
        try:
            async with self.session.begin_nested():
                return await self.repo.add(company_id, fields)
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise duplicate_sku(sku) from exc
            raise

    async def _flush_guarding_sku(self, sku: str) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise duplicate_sku(sku) from exc
            raise

    async def _stock_initially(self, product: Product, warehouse_id: int, quantity: int) -> None:
        if quantity == 0:
            # The level exists from the start, so the product shows in that warehouse.
            await LedgerRepository(self.session).lock_levels(
                product.company_id, [(product.id, warehouse_id)]
            )
            return
        await write_entries(
            self.session,
            product.company_id,
            [EntryLine(product.id, warehouse_id, quantity, "receipt")],
            occurred_at=datetime.now(UTC),
            reference=INITIAL_STOCK_REFERENCE,
        )

    async def _available(
        self, company_id: int, rows: list[StockLevel]
    ) -> dict[tuple[int, int], int]:
        """(product, warehouse) -> units not held by live reservations, as of now."""
        lapsed = await _lapsed(self.session, company_id, rows)
        return {
            (r.product_id, r.warehouse_id): max(
                0, r.quantity - (r.reserved - lapsed.get((r.product_id, r.warehouse_id), 0))
            )
            for r in rows
        }

    async def _bundle_stock(self, company_id: int, bundle_id: int) -> list[StockRead]:
        """Derived availability per warehouse where every leaf component has a level: the
        least, over leaves, of floor(level / units of that leaf in one bundle)."""
        leaves = (await self.bundles.explode(company_id, [bundle_id]))[bundle_id]
        if not leaves:
            return []
        levels = await self.repo.stock(company_id, list(leaves))
        available = await self._available(company_id, levels)
        by_warehouse: dict[int, dict[int, int]] = defaultdict(dict)
        free: dict[int, dict[int, int]] = defaultdict(dict)
        names: dict[int, str] = {}
        for row in levels:
            by_warehouse[row.warehouse_id][row.product_id] = row.quantity
            free[row.warehouse_id][row.product_id] = available[(row.product_id, row.warehouse_id)]
            names[row.warehouse_id] = row.warehouse_name
        return [
            StockRead(
                warehouse_id=warehouse_id,
                warehouse_name=names[warehouse_id],
                quantity=_availability(leaves, by_warehouse[warehouse_id]),
                available=_availability(leaves, free[warehouse_id]),
            )
            for warehouse_id in sorted(by_warehouse)
            if by_warehouse[warehouse_id].keys() >= leaves.keys()
        ]


async def _lapsed(
    session: AsyncSession, company_id: int, rows: list[StockLevel]
) -> dict[tuple[int, int], int]:
    holding = [(r.product_id, r.warehouse_id) for r in rows if r.reserved > 0]
    if not holding:
        return {}
    return await LedgerRepository(session).lapsed_holds(company_id, holding)


def _availability(per_bundle: dict[int, int], stock: dict[int, int]) -> int:
    return min(stock[leaf] // units for leaf, units in per_bundle.items())


def _is_unique_violation(exc: IntegrityError) -> bool:
    # The only unique index a product write can break is the one on lower(sku); other
    # violations go on to the generic 409 handler.
    return getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION
