from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.errors import NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.models import Warehouse
from stockflow.warehouses.repository import WarehouseRepository
from stockflow.warehouses.schemas import WarehouseCreate, WarehouseRead, WarehouseUpdate


class WarehouseService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = WarehouseRepository(session)

    async def create(self, company_id: int, data: WarehouseCreate) -> WarehouseRead:
        warehouse = await self.repo.add(company_id, data.name, data.location)
        return WarehouseRead.model_validate(warehouse)

    async def get(self, company_id: int, warehouse_id: int) -> WarehouseRead:
        return WarehouseRead.model_validate(await self._get(company_id, warehouse_id))

    async def page(self, company_id: int, params: PageParams) -> Page[WarehouseRead]:
        after = params.after()
        rows = await self.repo.list_after(company_id, after[0] if after else None, params.limit + 1)
        items, cursor = page_of(rows, params, lambda w: [w.id])
        return Page[WarehouseRead](
            items=[WarehouseRead.model_validate(w) for w in items], next_cursor=cursor
        )

    async def update(
        self, company_id: int, warehouse_id: int, data: WarehouseUpdate
    ) -> WarehouseRead:
        warehouse = await self._get(company_id, warehouse_id)
        values = data.model_dump(exclude_unset=True)
        if values:
            warehouse = await self.repo.update(warehouse, values)
        return WarehouseRead.model_validate(warehouse)

    async def _get(self, company_id: int, warehouse_id: int) -> Warehouse:
        warehouse = await self.repo.get(company_id, warehouse_id)
        if warehouse is None:
            raise NotFound(f"Warehouse {warehouse_id} not found.")
        return warehouse
