from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import InventoryLevel, Product, Warehouse


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    sku: str | None = None
    product_type_id: int | None = None
    is_bundle: bool | None = None
    include_inactive: bool = False


@dataclass(frozen=True)
class StockLevel:
    product_id: int
    warehouse_id: int
    quantity: int
    warehouse_name: str
    reserved: int = 0


def like_pattern(text: str) -> str:
    """A `%text%` pattern matching `text` literally (its wildcards escaped with `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, company_id: int, fields: dict[str, Any]) -> Product:
        product = Product(company_id=company_id, **fields)
        self.session.add(product)
        await self.session.flush()
        await self.session.refresh(product)
        return product

    async def get(self, company_id: int, product_id: int) -> Product | None:
        return await self.session.scalar(
            select(Product).where(Product.company_id == company_id, Product.id == product_id)
        )

    async def sku_taken(self, sku: str, *, except_id: int | None = None) -> bool:
        """Whether any company's product has `sku`, compared case-insensitively (the
        same comparison as the unique index on lower(sku))."""
        stmt = select(Product.id).where(func.lower(Product.sku) == func.lower(sku))
        if except_id is not None:
            stmt = stmt.where(Product.id != except_id)
        return await self.session.scalar(stmt.limit(1)) is not None

    async def list_page(
        self, company_id: int, filters: ProductFilter, after_id: int | None, limit: int
    ) -> Sequence[Product]:
        stmt = select(Product).where(Product.company_id == company_id)
        if not filters.include_inactive:
            stmt = stmt.where(Product.is_active)
        if filters.product_type_id is not None:
            stmt = stmt.where(Product.product_type_id == filters.product_type_id)
        if filters.is_bundle is not None:
            stmt = stmt.where(Product.is_bundle.is_(filters.is_bundle))
        if filters.sku is not None:
            # The comparison of the platform-wide unique index on lower(sku), so it uses it.
            stmt = stmt.where(func.lower(Product.sku) == func.lower(filters.sku))
        if filters.q:
            pattern = like_pattern(filters.q)
            stmt = stmt.where(
                Product.name.ilike(pattern, escape="\\") | Product.sku.ilike(pattern, escape="\\")
            )
        if after_id is not None:
            stmt = stmt.where(Product.id > after_id)
        return (await self.session.scalars(stmt.order_by(Product.id).limit(limit))).all()

    async def stock(self, company_id: int, product_ids: Sequence[int]) -> list[StockLevel]:
        """Levels of `product_ids` with their warehouse names, by warehouse then product."""
        stmt = (
            select(
                InventoryLevel.product_id,
                InventoryLevel.warehouse_id,
                InventoryLevel.quantity,
                Warehouse.name.label("warehouse_name"),
                InventoryLevel.reserved,
            )
            .join(Warehouse, Warehouse.id == InventoryLevel.warehouse_id)
            .where(
                InventoryLevel.company_id == company_id,
                InventoryLevel.product_id.in_(product_ids),
            )
            .order_by(InventoryLevel.warehouse_id, InventoryLevel.product_id)
        )
        return [StockLevel(*row) for row in await self.session.execute(stmt)]
