from fastapi import status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.warehouses.schemas import WarehouseCreate, WarehouseRead, WarehouseUpdate
from stockflow.warehouses.service import WarehouseService

router = resource_router(prefix="/companies/{company_id}/warehouses", tags=["warehouses"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a warehouse",
    responses=problem_responses(404, 409),
)
async def create_warehouse(
    data: WarehouseCreate, scope: CompanyScopeDep, session: SessionDep, idempotency: IdempotencyDep
) -> WarehouseRead:
    await idempotency.claim(scope.company_id)
    return await WarehouseService(session).create(scope.company_id, data)


@router.get("", summary="List the company's warehouses", responses=problem_responses(404))
async def list_warehouses(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep
) -> Page[WarehouseRead]:
    return await WarehouseService(session).page(scope.company_id, params)


@router.get("/{warehouse_id}", summary="Get a warehouse", responses=problem_responses(404))
async def get_warehouse(
    warehouse_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> WarehouseRead:
    return await WarehouseService(session).get(scope.company_id, warehouse_id)


@router.patch(
    "/{warehouse_id}",
    summary="Change a warehouse's name or location",
    responses=problem_responses(404),
)
async def update_warehouse(
    warehouse_id: IdPath, data: WarehouseUpdate, scope: CompanyScopeDep, session: SessionDep
) -> WarehouseRead:
    return await WarehouseService(session).update(scope.company_id, warehouse_id, data)
