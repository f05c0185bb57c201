from typing import Annotated

from fastapi import Depends, Query

from stockflow.alerts.dependencies import AlertServiceDep
from stockflow.core.database import SessionDep
from stockflow.core.schemas import MAX_ID
from stockflow.purchasing.schemas import OrderFilters, OrderStatus
from stockflow.purchasing.service import PurchasingService


async def get_purchasing_service(session: SessionDep, alerts: AlertServiceDep) -> PurchasingService:
    return PurchasingService(session, alerts)


def get_order_filters(
    status: Annotated[OrderStatus | None, Query(description="Only orders in this status.")] = None,
    supplier_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only orders from this supplier.")
    ] = None,
    warehouse_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only orders into this warehouse.")
    ] = None,
) -> OrderFilters:
    return OrderFilters(status=status, supplier_id=supplier_id, warehouse_id=warehouse_id)


PurchasingServiceDep = Annotated[PurchasingService, Depends(get_purchasing_service)]
OrderFiltersDep = Annotated[OrderFilters, Depends(get_order_filters)]
