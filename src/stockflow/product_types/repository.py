from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import ProductType


class ProductTypeRepository:
    """Writes flush inside a savepoint, so a duplicate name (the unique index on
    `(company_id, lower(name))`) raises `IntegrityError` and leaves the request's
    transaction usable."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, company_id: int, name: str, low_stock_threshold: int) -> ProductType:
        product_type = ProductType(
            company_id=company_id, name=name, low_stock_threshold=low_stock_threshold
        )
        async with self.session.begin_nested():
            self.session.add(product_type)
            await self.session.flush()
        await self.session.refresh(product_type, ["created_at"])
        return product_type

    async def get(self, company_id: int, product_type_id: int) -> ProductType | None:
        return await self.session.scalar(
            select(ProductType).where(
                ProductType.company_id == company_id, ProductType.id == product_type_id
            )
        )

    async def list_after(
        self, company_id: int, after_id: int | None, limit: int
    ) -> Sequence[ProductType]:
        """Up to `limit` product types with an id above `after_id`, in id order."""
        query = select(ProductType).where(ProductType.company_id == company_id)
        if after_id is not None:
            query = query.where(ProductType.id > after_id)
        return (await self.session.scalars(query.order_by(ProductType.id).limit(limit))).all()

    async def update(self, product_type: ProductType, values: dict[str, Any]) -> ProductType:
        async with self.session.begin_nested():
            for field, value in values.items():
                setattr(product_type, field, value)
            await self.session.flush()
        return product_type
