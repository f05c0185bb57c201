from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.errors import InvalidInput, NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import require_owned
from stockflow.inventory.repository import InventoryRepository, LevelQuery
from stockflow.inventory.schemas import InventoryLevelRead
from stockflow.models import Product, Warehouse


class InventoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = InventoryRepository(session)

    async def list_levels(
        self, company_id: int, query: LevelQuery, params: PageParams
    ) -> Page[InventoryLevelRead]:
        # A filter on an unknown or foreign id is a 404, as everywhere else.
        await require_owned(self.session, Warehouse, company_id, query.warehouse_id)
        await require_owned(self.session, Product, company_id, query.product_id)
        rows = await self.repo.list_levels(
            company_id, query, params.after(arity=2), params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda lv: [lv.product_id, lv.warehouse_id])
        return Page[InventoryLevelRead](
            items=[InventoryLevelRead.model_validate(lv) for lv in items], next_cursor=cursor
        )

    async def set_threshold(
        self, company_id: int, warehouse_id: int, product_id: int, threshold: int | None
    ) -> InventoryLevelRead:
        await require_owned(self.session, Warehouse, company_id, warehouse_id)
        is_bundle = await self.repo.product_is_bundle(company_id, product_id)
        if is_bundle is None:
            raise NotFound(f"Product {product_id} not found.")
        if is_bundle:
            detail = (
                f"Product {product_id} is a bundle: it holds no stock of its own, so it has "
                "no level to put a threshold on."
            )
            raise InvalidInput(detail, errors=[{"loc": ["path", "product_id"], "msg": detail}])
        level = await self.repo.set_threshold(company_id, warehouse_id, product_id, threshold)
        return InventoryLevelRead.model_validate(level)
