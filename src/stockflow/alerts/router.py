from typing import Annotated

from fastapi import Query, Response

from stockflow.alerts.dependencies import AlertServiceDep
from stockflow.alerts.schemas import LowStockReport
from stockflow.core.auth import CompanyScopeDep
from stockflow.core.errors import problem_responses
from stockflow.core.routing import resource_router
from stockflow.core.schemas import MAX_ID

router = resource_router(tags=["alerts"])


@router.get(
    "/companies/{company_id}/alerts/low-stock",
    summary="Products running low: what to reorder, from whom, and how soon stock runs out",
    response_model=LowStockReport,
    responses=problem_responses(404),
)
async def low_stock_report(
    scope: CompanyScopeDep,
    service: AlertServiceDep,
    window_days: Annotated[
        int, Query(ge=1, le=365, description="Days of sales that set the velocity.")
    ] = 30,
    warehouse_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this warehouse of the company.")
    ] = None,
    product_type_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only products of this type.")
    ] = None,
    needs_order: Annotated[
        bool,
        Query(description="true: only alerts whose recommended_order_quantity is above 0."),
    ] = False,
) -> Response:
    # Pre-serialized (the declared model still documents it): thousands of alerts would
    # otherwise be validated and serialized twice more by FastAPI.
    body = await service.low_stock(
        scope.company_id,
        window_days=window_days,
        warehouse_id=warehouse_id,
        product_type_id=product_type_id,
        needs_order=needs_order,
    )
    return Response(body, media_type="application/json")
