from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import Warehouse


class WarehouseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, company_id: int, name: str, location: str | None) -> Warehouse:
        warehouse = Warehouse(company_id=company_id, name=name, location=location)
        self.session.add(warehouse)
        await self.session.flush()
        await self.session.refresh(warehouse, ["created_at"])
        return warehouse

    async def get(self, company_id: int, warehouse_id: int) -> Warehouse | None:
        return await self.session.scalar(
            select(Warehouse).where(
                Warehouse.company_id == company_id, Warehouse.id == warehouse_id
            )
        )

    async def list_after(
        self, company_id: int, after_id: int | None, limit: int
    ) -> Sequence[Warehouse]:
        """Up to `limit` warehouses with an id above `after_id`, in id order."""
        query = select(Warehouse).where(Warehouse.company_id == company_id)
        if after_id is not None:
            query = query.where(Warehouse.id > after_id)
        return (await self.session.scalars(query.order_by(Warehouse.id).limit(limit))).all()

    async def update(self, warehouse: Warehouse, values: dict[str, Any]) -> Warehouse:
        for field, value in values.items():
            setattr(warehouse, field, value)
        await self.session.flush()
        return warehouse
