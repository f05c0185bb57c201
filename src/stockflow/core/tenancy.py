"""Lookups that keep every reference inside the caller's company.

An id of another company's row answers exactly like an id that does not exist (404), so
a client can never learn that it exists.
"""

from collections.abc import Iterable

from sqlalchemy import select, text
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


# Row-level security reads these transaction-local settings (see the RLS migration): the
# request's scope names its company; background loops that work across companies say so
# explicitly. Both end with the transaction, so a pooled connection never carries them on.
TENANT_SETTING = "stockflow.company_id"
ADMIN_SETTING = "stockflow.admin"

# Scoping to a company also ends an admin scope of the same transaction, in the same
# round trip: a transaction acts for one company or for all, never both at once.
_SCOPE_TO_COMPANY = text(
    f"SELECT set_config('{TENANT_SETTING}', :company_id, true), "
    f"set_config('{ADMIN_SETTING}', 'off', true)"
)
_SCOPE_TO_ADMIN = text(f"SELECT set_config('{ADMIN_SETTING}', 'on', true)")


async def scope_to_company(session: AsyncSession, company_id: int) -> None:
    """Bind the rest of this transaction to `company_id` for row-level security."""
    await session.execute(_SCOPE_TO_COMPANY, {"company_id": str(company_id)})


async def scope_to_admin(session: AsyncSession) -> None:
    """Let the rest of this transaction see every company's rows (background loops and
    admin-wide reads only; a request acting for one company uses `scope_to_company`)."""
    await session.execute(_SCOPE_TO_ADMIN)
