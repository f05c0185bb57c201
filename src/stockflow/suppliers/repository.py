from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import Product, ProductSupplier, Supplier

# A link as it is answered; links are read and written as rows, never as ORM objects, so
# an upsert can never leave a stale object in the session.
_LINK_COLUMNS = (
    ProductSupplier.supplier_id,
    ProductSupplier.product_id,
    ProductSupplier.is_primary,
    ProductSupplier.lead_time_days,
    ProductSupplier.unit_cost,
    ProductSupplier.min_order_qty,
)
LinkRow = Row[int, int, bool, int | None, Decimal | None, int | None]


class SupplierRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, company_id: int, name: str, contact_email: str | None, contact_phone: str | None
    ) -> Supplier:
        supplier = Supplier(
            company_id=company_id,
            name=name,
            contact_email=contact_email,
            contact_phone=contact_phone,
        )
        self.session.add(supplier)
        await self.session.flush()
        await self.session.refresh(supplier, ["created_at"])
        return supplier

    async def get(self, company_id: int, supplier_id: int) -> Supplier | None:
        return await self.session.scalar(
            select(Supplier).where(Supplier.company_id == company_id, Supplier.id == supplier_id)
        )

    async def exists(self, company_id: int, supplier_id: int) -> bool:
        found = await self.session.scalar(
            select(Supplier.id).where(Supplier.company_id == company_id, Supplier.id == supplier_id)
        )
        return found is not None

    async def list_after(
        self, company_id: int, after_id: int | None, limit: int
    ) -> Sequence[Supplier]:
        """Up to `limit` suppliers with an id above `after_id`, in id order."""
        query = select(Supplier).where(Supplier.company_id == company_id)
        if after_id is not None:
            query = query.where(Supplier.id > after_id)
        return (await self.session.scalars(query.order_by(Supplier.id).limit(limit))).all()

    async def update(self, supplier: Supplier, values: dict[str, Any]) -> Supplier:
        for field, value in values.items():
            setattr(supplier, field, value)
        await self.session.flush()
        return supplier


class LinkRepository:
    """Product-supplier links (`product_suppliers`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def product_exists(self, company_id: int, product_id: int, *, lock: bool = False) -> bool:
        """Whether the company has the product. `lock` takes its row FOR NO KEY UPDATE so
        that writers of one product's links queue (the demotion of a racing request is
        then seen, not collided with) while stock movements, which only take key-share
        locks on products, are not held up."""
        query = select(Product.id).where(Product.company_id == company_id, Product.id == product_id)
        if lock:
            query = query.with_for_update(key_share=True)
        return await self.session.scalar(query) is not None

    async def put(
        self, company_id: int, product_id: int, supplier_id: int, values: dict[str, Any]
    ) -> LinkRow:
        """Create or replace the link. Making it primary first demotes the product's
        other primary link, so the one-primary index is never violated by this request;
        inside a savepoint, so a violation by a racing one raises `IntegrityError` and
        leaves the transaction usable."""
        async with self.session.begin_nested():
            if values["is_primary"]:
                await self.session.execute(
                    update(ProductSupplier)
                    .where(
                        ProductSupplier.company_id == company_id,
                        ProductSupplier.product_id == product_id,
                        ProductSupplier.supplier_id != supplier_id,
                        ProductSupplier.is_primary,
                    )
                    .values(is_primary=False)
                )
            stmt = insert(ProductSupplier).values(
                company_id=company_id, product_id=product_id, supplier_id=supplier_id, **values
            )
            upsert = stmt.on_conflict_do_update(
                index_elements=[ProductSupplier.product_id, ProductSupplier.supplier_id],
                set_={field: stmt.excluded[field] for field in values},
            ).returning(*_LINK_COLUMNS)
            return (await self.session.execute(upsert)).one()

    async def get(self, company_id: int, product_id: int, supplier_id: int) -> LinkRow | None:
        return (
            await self.session.execute(
                select(*_LINK_COLUMNS).where(
                    ProductSupplier.company_id == company_id,
                    ProductSupplier.product_id == product_id,
                    ProductSupplier.supplier_id == supplier_id,
                )
            )
        ).one_or_none()

    async def list_after(
        self, company_id: int, product_id: int, after_supplier_id: int | None, limit: int
    ) -> Sequence[LinkRow]:
        """Up to `limit` of the product's links, in supplier id order."""
        query = select(*_LINK_COLUMNS).where(
            ProductSupplier.company_id == company_id, ProductSupplier.product_id == product_id
        )
        if after_supplier_id is not None:
            query = query.where(ProductSupplier.supplier_id > after_supplier_id)
        query = query.order_by(ProductSupplier.supplier_id).limit(limit)
        return (await self.session.execute(query)).all()

    async def delete(self, company_id: int, product_id: int, supplier_id: int) -> bool:
        result = await self.session.execute(
            delete(ProductSupplier)
            .where(
                ProductSupplier.company_id == company_id,
                ProductSupplier.product_id == product_id,
                ProductSupplier.supplier_id == supplier_id,
            )
            .returning(ProductSupplier.supplier_id)
        )
        return result.first() is not None
