from typing import Annotated

from fastapi import Depends, Query

from stockflow.core.auth import MAX_ID, Principal, ensure_company_access
from stockflow.core.database import SessionDep
from stockflow.core.errors import NotFound
from stockflow.products.exceptions import invalid_field
from stockflow.products.repository import ProductFilter


def get_product_filter(
    q: Annotated[
        str | None,
        Query(max_length=255, description="Case-insensitive substring of the name or SKU."),
    ] = None,
    sku: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Exactly this SKU (case-insensitive, surrounding spaces ignored).",
            examples=["BEAN-1KG"],
        ),
    ] = None,
    product_type_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    is_bundle: Annotated[bool | None, Query()] = None,
    include_inactive: Annotated[bool, Query(description="Also list deactivated products.")] = False,
) -> ProductFilter:
    return ProductFilter(
        q=q or None,
        sku=sku.strip() if sku is not None else None,
        product_type_id=product_type_id,
        is_bundle=is_bundle,
        include_inactive=include_inactive,
    )


ProductFilterDep = Annotated[ProductFilter, Depends(get_product_filter)]


async def resolve_body_company(
    session: SessionDep, principal: Principal, company_id: int | None
) -> int:
    """The company of `POST /products`: required in the body with the admin token; a
    company key defaults to its own company and may name no other."""
    if company_id is None:
        if principal.company_id is None:
            raise invalid_field("company_id", "company_id is required with the admin token.")
        company_id = principal.company_id
    if principal.company_id not in (None, company_id):
        # Another company's id: the same answer as for one that does not exist.
        raise NotFound(f"Company {company_id} not found.")
    await ensure_company_access(session, principal, company_id)
    return company_id
