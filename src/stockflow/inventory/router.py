from typing import Annotated

from fastapi import Query

from stockflow.core.auth import MAX_ID, CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.inventory.repository import LevelQuery
from stockflow.inventory.schemas import InventoryLevelRead, ThresholdUpdate
from stockflow.inventory.service import InventoryService

router = resource_router(prefix="/companies/{company_id}", tags=["inventory"])

IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get(
    "/inventory",
    summary="Current stock levels, by product then warehouse",
    responses=problem_responses(404),
)
async def list_inventory(
    scope: CompanyScopeDep,
    session: SessionDep,
    params: PageParamsDep,
    warehouse_id: IdQuery = None,
    product_id: IdQuery = None,
) -> Page[InventoryLevelRead]:
    query = LevelQuery(warehouse_id=warehouse_id, product_id=product_id)
    return await InventoryService(session).list_levels(scope.company_id, query, params)


@router.put(
    "/warehouses/{warehouse_id}/thresholds/{product_id}",
    summary="Set (or clear, with null) one product's low-stock threshold in one warehouse",
    responses=problem_responses(404),
)
async def set_threshold(
    warehouse_id: IdPath,
    product_id: IdPath,
    data: ThresholdUpdate,
    scope: CompanyScopeDep,
    session: SessionDep,
) -> InventoryLevelRead:
    return await InventoryService(session).set_threshold(
        scope.company_id, warehouse_id, product_id, data.low_stock_threshold
    )
