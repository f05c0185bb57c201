from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.errors import InvalidInput, NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import require_owned
from stockflow.inventory.repository import InventoryRepository, LevelQuery
from stockflow.inventory.schemas import InventoryLevelRead
from stockflow.ledger.repository import LedgerRepository
from stockflow.models import InventoryLevel, Product, Warehouse


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
            items=await self._with_holds(company_id, items), next_cursor=cursor
        )

    async def _with_holds(
        self, company_id: int, levels: list[InventoryLevel]
    ) -> list[InventoryLevelRead]:
        """The levels with `reserved` as of now: lapsed holds the expiry job has not
        folded yet are subtracted (asked only for levels that hold anything)."""
        holding = [(lv.product_id, lv.warehouse_id) for lv in levels if lv.reserved > 0]
        lapsed = (
            await LedgerRepository(self.session).lapsed_holds(company_id, holding)
            if holding
            else {}
        )
        result = []
        for lv in levels:
            reserved = max(0, lv.reserved - lapsed.get((lv.product_id, lv.warehouse_id), 0))
            read = InventoryLevelRead.model_validate(lv)
            read.reserved = reserved
            read.available = max(0, lv.quantity - reserved)
            result.append(read)
        return result

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
        return (await self._with_holds(company_id, [level]))[0]
