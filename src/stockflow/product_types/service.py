from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.models import ProductType
from stockflow.product_types.exceptions import duplicate_name, product_type_not_found
from stockflow.product_types.repository import ProductTypeRepository
from stockflow.product_types.schemas import (
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
)


class ProductTypeService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ProductTypeRepository(session)

    async def create(self, company_id: int, data: ProductTypeCreate) -> ProductTypeRead:
        # No read-then-insert check: the unique index decides, also for two racing requests.
        try:
            product_type = await self.repo.add(company_id, data.name, data.low_stock_threshold)
        except IntegrityError as exc:
            raise duplicate_name(data.name) from exc
        return ProductTypeRead.model_validate(product_type)

    async def get(self, company_id: int, product_type_id: int) -> ProductTypeRead:
        return ProductTypeRead.model_validate(await self._get(company_id, product_type_id))

    async def page(self, company_id: int, params: PageParams) -> Page[ProductTypeRead]:
        after = params.after()
        rows = await self.repo.list_after(company_id, after[0] if after else None, params.limit + 1)
        items, cursor = page_of(rows, params, lambda t: [t.id])
        return Page[ProductTypeRead](
            items=[ProductTypeRead.model_validate(t) for t in items], next_cursor=cursor
        )

    async def update(
        self, company_id: int, product_type_id: int, data: ProductTypeUpdate
    ) -> ProductTypeRead:
        product_type = await self._get(company_id, product_type_id)
        values = data.model_dump(exclude_unset=True)
        if values:
            try:
                product_type = await self.repo.update(product_type, values)
            except IntegrityError as exc:
                # Only a new name can collide: the unique index is the one constraint
                # that validated input can still violate.
                raise duplicate_name(str(values.get("name"))) from exc
        return ProductTypeRead.model_validate(product_type)

    async def _get(self, company_id: int, product_type_id: int) -> ProductType:
        product_type = await self.repo.get(company_id, product_type_id)
        if product_type is None:
            raise product_type_not_found(product_type_id)
        return product_type
