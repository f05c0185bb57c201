from typing import Annotated

from fastapi import Body, status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.suppliers.schemas import (
    LinkPut,
    LinkRead,
    SupplierCreate,
    SupplierRead,
    SupplierUpdate,
)
from stockflow.suppliers.service import LinkService, SupplierService

router = resource_router(prefix="/companies/{company_id}", tags=["suppliers"])

_LINK = "/products/{product_id}/suppliers/{supplier_id}"


@router.post(
    "/suppliers",
    status_code=status.HTTP_201_CREATED,
    summary="Create a supplier",
    responses=problem_responses(404, 409),
)
async def create_supplier(
    data: SupplierCreate, scope: CompanyScopeDep, session: SessionDep, idempotency: IdempotencyDep
) -> SupplierRead:
    await idempotency.claim(scope.company_id)
    return await SupplierService(session).create(scope.company_id, data)


@router.get("/suppliers", summary="List the company's suppliers", responses=problem_responses(404))
async def list_suppliers(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep
) -> Page[SupplierRead]:
    return await SupplierService(session).page(scope.company_id, params)


@router.get("/suppliers/{supplier_id}", summary="Get a supplier", responses=problem_responses(404))
async def get_supplier(
    supplier_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> SupplierRead:
    return await SupplierService(session).get(scope.company_id, supplier_id)


@router.patch(
    "/suppliers/{supplier_id}",
    summary="Change a supplier's name or contact details",
    responses=problem_responses(404),
)
async def update_supplier(
    supplier_id: IdPath, data: SupplierUpdate, scope: CompanyScopeDep, session: SessionDep
) -> SupplierRead:
    return await SupplierService(session).update(scope.company_id, supplier_id, data)


@router.get(
    "/products/{product_id}/suppliers",
    summary="List a product's supplier links",
    responses=problem_responses(404),
)
async def list_product_suppliers(
    product_id: IdPath, scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep
) -> Page[LinkRead]:
    return await LinkService(session).page(scope.company_id, product_id, params)


@router.put(
    _LINK,
    summary="Link a supplier to a product, or replace the link's terms",
    description="Making the link primary demotes the product's previous primary link. "
    "Fields left out take their defaults (false or null); an empty body links with none.",
    responses=problem_responses(404, 409),
)
async def put_product_supplier(
    product_id: IdPath,
    supplier_id: IdPath,
    scope: CompanyScopeDep,
    session: SessionDep,
    data: Annotated[LinkPut | None, Body()] = None,
) -> LinkRead:
    return await LinkService(session).put(
        scope.company_id, product_id, supplier_id, data or LinkPut()
    )


@router.get(_LINK, summary="Get a product-supplier link", responses=problem_responses(404))
async def get_product_supplier(
    product_id: IdPath, supplier_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> LinkRead:
    return await LinkService(session).get(scope.company_id, product_id, supplier_id)


@router.delete(
    _LINK,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink a supplier from a product",
    responses=problem_responses(404),
)
async def delete_product_supplier(
    product_id: IdPath, supplier_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> None:
    await LinkService(session).delete(scope.company_id, product_id, supplier_id)
