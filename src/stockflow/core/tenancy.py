"""Lookups that keep every reference inside the caller's company.

An id of another company's row answers exactly like an id that does not exist (404), so
a client can never learn that it exists.
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.errors import NotFound
from stockflow.models import Product, ProductType, Supplier, Warehouse

TenantModel = type[Product] | type[ProductType] | type[Supplier] | type[Warehouse]

_LABELS: dict[type, str] = {
    Product: "Product",
    ProductType: "Product type",
    Supplier: "Supplier",
    Warehouse: "Warehouse",
}


async def owned_ids(
    session: AsyncSession, model: TenantModel, company_id: int, ids: Iterable[int]
) -> set[int]:
    """The subset of `ids` that are rows of `model` belonging to `company_id`."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    rows = await session.scalars(
        select(model.id).where(model.company_id == company_id, model.id.in_(wanted))
    )
    return set(rows)


async def require_owned(
    session: AsyncSession, model: TenantModel, company_id: int, *ids: int | None
) -> None:
    """404 for the first of `ids` (None skipped) that is not `company_id`'s `model` row."""
    wanted = [i for i in ids if i is not None]
    found = await owned_ids(session, model, company_id, wanted)
    for object_id in wanted:
        if object_id not in found:
            raise NotFound(f"{_LABELS[model]} {object_id} not found.")
