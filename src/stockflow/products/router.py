from fastapi import Response, status

from stockflow.core.auth import CompanyScopeDep, IdPath, PrincipalDep
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.products.dependencies import ProductFilterDep, resolve_body_company
from stockflow.products.schemas import (
    LegacyProductCreate,
    ProductCreate,
    ProductDetail,
    ProductRead,
    ProductUpdate,
)
from stockflow.products.service import ProductService

router = resource_router(tags=["products"])


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product (the original endpoint; the company is in the body)",
    responses=problem_responses(404, 409),
)
async def create_product_legacy(
    data: LegacyProductCreate, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> ProductRead:
    company_id = await resolve_body_company(session, principal, data.company_id)
    await idem.claim(company_id)
    return await ProductService(session).create(company_id, data)


@router.post(
    "/companies/{company_id}/products",
    status_code=status.HTTP_201_CREATED,
    summary="Create a product",
    responses=problem_responses(404, 409),
)
async def create_product(
    data: ProductCreate, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> ProductRead:
    await idem.claim(scope.company_id)
    return await ProductService(session).create(scope.company_id, data)


@router.get(
    "/companies/{company_id}/products",
    summary="List products (active only unless include_inactive)",
    responses=problem_responses(404),
)
async def list_products(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep, filters: ProductFilterDep
) -> Page[ProductRead]:
    return await ProductService(session).list_page(scope.company_id, filters, params)


@router.get(
    "/companies/{company_id}/products/{product_id}",
    summary="Get a product with its stock per warehouse (and a bundle's components)",
    responses=problem_responses(404),
)
async def get_product(
    product_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> ProductDetail:
    return await ProductService(session).get(scope.company_id, product_id)


@router.patch(
    "/companies/{company_id}/products/{product_id}",
    summary="Update a product",
    responses=problem_responses(404, 409),
)
async def update_product(
    product_id: IdPath, data: ProductUpdate, scope: CompanyScopeDep, session: SessionDep
) -> ProductRead:
    return await ProductService(session).update(scope.company_id, product_id, data)


@router.delete(
    "/companies/{company_id}/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Deactivate a product (idempotent; it stays readable and in the ledger)",
    responses=problem_responses(404),
)
async def delete_product(
    product_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> Response:
    await ProductService(session).deactivate(scope.company_id, product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
