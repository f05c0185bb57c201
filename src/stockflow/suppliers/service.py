from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.models import Supplier
from stockflow.suppliers.exceptions import (
    link_not_found,
    primary_race,
    product_not_found,
    supplier_not_found,
)
from stockflow.suppliers.repository import LinkRepository, SupplierRepository
from stockflow.suppliers.schemas import (
    LinkPut,
    LinkRead,
    SupplierCreate,
    SupplierRead,
    SupplierUpdate,
)


class SupplierService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = SupplierRepository(session)

    async def create(self, company_id: int, data: SupplierCreate) -> SupplierRead:
        supplier = await self.repo.add(
            company_id, data.name, data.contact_email, data.contact_phone
        )
        return SupplierRead.model_validate(supplier)

    async def get(self, company_id: int, supplier_id: int) -> SupplierRead:
        return SupplierRead.model_validate(await self._get(company_id, supplier_id))

    async def page(self, company_id: int, params: PageParams) -> Page[SupplierRead]:
        after = params.after()
        rows = await self.repo.list_after(company_id, after[0] if after else None, params.limit + 1)
        items, cursor = page_of(rows, params, lambda s: [s.id])
        return Page[SupplierRead](
            items=[SupplierRead.model_validate(s) for s in items], next_cursor=cursor
        )

    async def update(self, company_id: int, supplier_id: int, data: SupplierUpdate) -> SupplierRead:
        supplier = await self._get(company_id, supplier_id)
        values = data.model_dump(exclude_unset=True)
        if values:
            supplier = await self.repo.update(supplier, values)
        return SupplierRead.model_validate(supplier)

    async def _get(self, company_id: int, supplier_id: int) -> Supplier:
        supplier = await self.repo.get(company_id, supplier_id)
        if supplier is None:
            raise supplier_not_found(supplier_id)
        return supplier


class LinkService:
    """Which suppliers supply a product, on what terms; at most one is primary."""

    def __init__(self, session: AsyncSession) -> None:
        self.repo = LinkRepository(session)
        self.suppliers = SupplierRepository(session)

    async def put(
        self, company_id: int, product_id: int, supplier_id: int, data: LinkPut
    ) -> LinkRead:
        """Create or replace the link (PUT: fields left out take their defaults)."""
        await self._check_product(company_id, product_id, lock=True)
        await self._check_supplier(company_id, supplier_id)
        values = {
            "is_primary": bool(data.is_primary),
            "lead_time_days": data.lead_time_days,
            "unit_cost": data.unit_cost,
            "min_order_qty": data.min_order_qty,
        }
        try:
            row = await self.repo.put(company_id, product_id, supplier_id, values)
        except IntegrityError as exc:
            # The product lock makes this unreachable for requests that go through this
            # service; it stays as the backstop the one-primary index provides.
            raise primary_race(product_id) from exc
        return LinkRead.model_validate(row)

    async def get(self, company_id: int, product_id: int, supplier_id: int) -> LinkRead:
        await self._check_product(company_id, product_id)
        await self._check_supplier(company_id, supplier_id)
        row = await self.repo.get(company_id, product_id, supplier_id)
        if row is None:
            raise link_not_found(product_id, supplier_id)
        return LinkRead.model_validate(row)

    async def page(self, company_id: int, product_id: int, params: PageParams) -> Page[LinkRead]:
        await self._check_product(company_id, product_id)
        after = params.after()
        rows = await self.repo.list_after(
            company_id, product_id, after[0] if after else None, params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda r: [r.supplier_id])
        return Page[LinkRead](items=[LinkRead.model_validate(r) for r in items], next_cursor=cursor)

    async def delete(self, company_id: int, product_id: int, supplier_id: int) -> None:
        """Unlink. Deleting the primary link promotes no other: the low-stock report then
        falls back to the linked supplier with the shortest lead time."""
        await self._check_product(company_id, product_id, lock=True)
        await self._check_supplier(company_id, supplier_id)
        if not await self.repo.delete(company_id, product_id, supplier_id):
            raise link_not_found(product_id, supplier_id)

    async def _check_product(self, company_id: int, product_id: int, *, lock: bool = False) -> None:
        if not await self.repo.product_exists(company_id, product_id, lock=lock):
            raise product_not_found(product_id)

    async def _check_supplier(self, company_id: int, supplier_id: int) -> None:
        if not await self.suppliers.exists(company_id, supplier_id):
            raise supplier_not_found(supplier_id)
