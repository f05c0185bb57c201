from typing import Annotated

from fastapi import Query, Response

from stockflow.alerts.dependencies import AlertServiceDep
from stockflow.alerts.schemas import LowStockReport
from stockflow.core.auth import CompanyScopeDep
from stockflow.core.errors import problem_responses
from stockflow.core.routing import resource_router
from stockflow.core.schemas import MAX_ID

router = resource_router(tags=["alerts"])

REPORT_DESCRIPTION = """\
One row per active, non-bundle product and warehouse whose stock is below its threshold
and that sold in the window. Over the last `window_days` days:

- `units_sold`: units sold (bundle sales count for their components);
  `avg_daily_sales` = units_sold / window_days (shown rounded to 2 places).
- `threshold`: the warehouse's threshold for the product, else the product's, else its
  type's, else the server default.
- `days_until_stockout` = floor(current_stock / avg_daily_sales), 0 when out of stock.
- `supplier`: the primary supplier, else the one with the shortest lead time; its
  `lead_time_days` (0 if none) is used below.
- `on_order`: units still expected in this warehouse from purchase orders that are
  ordered or partially received.
- `recommended_order_quantity` = max(0, threshold - current_stock - on_order +
  ceil(avg_daily_sales * lead_time_days)), rounded up to the supplier's `min_order_qty`.
- `order_by`: the date (UTC) to order by, today + days_until_stockout - lead_time_days;
  in the past means the order is late.
- `needs_order=true` keeps only rows whose recommended_order_quantity > 0.

Sorted by days_until_stockout, then product and warehouse id.
"""


@router.get(
    "/companies/{company_id}/alerts/low-stock",
    summary="Products running low: what to reorder, from whom, and how soon stock runs out",
    description=REPORT_DESCRIPTION,
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
