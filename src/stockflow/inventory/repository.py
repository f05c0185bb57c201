from dataclasses import dataclass

from sqlalchemy import Select, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import InventoryLevel, Product


@dataclass(frozen=True)
class LevelQuery:
    warehouse_id: int | None = None
    product_id: int | None = None


class InventoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_levels(
        self, company_id: int, query: LevelQuery, after: list[int] | None, limit: int
    ) -> list[InventoryLevel]:
        """Levels in (product, warehouse) order after the keyset position `after`."""
        stmt: Select[InventoryLevel] = select(InventoryLevel).where(
            InventoryLevel.company_id == company_id
        )
        if query.warehouse_id is not None:
            stmt = stmt.where(InventoryLevel.warehouse_id == query.warehouse_id)
        if query.product_id is not None:
            stmt = stmt.where(InventoryLevel.product_id == query.product_id)
        if after is not None:
            stmt = stmt.where(
                tuple_(InventoryLevel.product_id, InventoryLevel.warehouse_id) > tuple_(*after)
            )
        stmt = stmt.order_by(InventoryLevel.product_id, InventoryLevel.warehouse_id).limit(limit)
        return list(await self.session.scalars(stmt))

    async def product_is_bundle(self, company_id: int, product_id: int) -> bool | None:
        """Whether the company's product is a bundle; None if it has no such product."""
        return await self.session.scalar(
            select(Product.is_bundle).where(
                Product.company_id == company_id, Product.id == product_id
            )
        )

    async def set_threshold(
        self, company_id: int, warehouse_id: int, product_id: int, threshold: int | None
    ) -> InventoryLevel:
        """Store the threshold, creating the level at quantity 0 (the sum of no ledger
        deltas) if it does not exist. One upsert, so a concurrent first movement of the
        same pair cannot make it fail."""
        values = insert(InventoryLevel).values(
            company_id=company_id,
            product_id=product_id,
            warehouse_id=warehouse_id,
            low_stock_threshold=threshold,
        )
        stmt = values.on_conflict_do_update(
            index_elements=[InventoryLevel.product_id, InventoryLevel.warehouse_id],
            set_={"low_stock_threshold": values.excluded.low_stock_threshold},
        ).returning(InventoryLevel)
        result = await self.session.scalars(stmt, execution_options={"populate_existing": True})
        level: InventoryLevel = result.one()
        return level
