from fastapi import status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.product_types.schemas import (
    ProductTypeCreate,
    ProductTypeRead,
    ProductTypeUpdate,
)
from stockflow.product_types.service import ProductTypeService

router = resource_router(prefix="/companies/{company_id}/product-types", tags=["product-types"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product type (names are unique per company, ignoring case)",
    responses=problem_responses(404, 409),
)
async def create_product_type(
    data: ProductTypeCreate,
    scope: CompanyScopeDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> ProductTypeRead:
    await idempotency.claim(scope.company_id)
    return await ProductTypeService(session).create(scope.company_id, data)


@router.get("", summary="List the company's product types", responses=problem_responses(404))
async def list_product_types(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep
) -> Page[ProductTypeRead]:
    return await ProductTypeService(session).page(scope.company_id, params)


@router.get("/{product_type_id}", summary="Get a product type", responses=problem_responses(404))
async def get_product_type(
    product_type_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> ProductTypeRead:
    return await ProductTypeService(session).get(scope.company_id, product_type_id)


@router.patch(
    "/{product_type_id}",
    summary="Change a product type's name or low-stock threshold",
    responses=problem_responses(404, 409),
)
async def update_product_type(
    product_type_id: IdPath, data: ProductTypeUpdate, scope: CompanyScopeDep, session: SessionDep
) -> ProductTypeRead:
    return await ProductTypeService(session).update(scope.company_id, product_type_id, data)
