from typing import Annotated

from fastapi import Body, status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.purchasing.dependencies import OrderFiltersDep, PurchasingServiceDep
from stockflow.purchasing.schemas import (
    FromAlertsCreate,
    FromAlertsRead,
    PurchaseOrderCreate,
    PurchaseOrderRead,
    PurchaseOrderUpdate,
    ReceiptCreate,
    ReceiptRead,
)

router = resource_router(prefix="/companies/{company_id}", tags=["purchase orders"])

_ONE = "/purchase-orders/{purchase_order_id}"


@router.post(
    "/purchase-orders",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a purchase order",
    description="A new order is a `draft`: it is not on order until it is placed. "
    "`unit_cost` defaults to the product-supplier link's.",
    responses=problem_responses(404),
)
async def create_purchase_order(
    data: PurchaseOrderCreate,
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
) -> PurchaseOrderRead:
    await idem.claim(scope.company_id)
    return await service.create(scope.company_id, data)


@router.get(
    "/purchase-orders",
    summary="List purchase orders in id order",
    responses=problem_responses(404),
)
async def list_purchase_orders(
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    params: PageParamsDep,
    filters: OrderFiltersDep,
) -> Page[PurchaseOrderRead]:
    return await service.page(scope.company_id, filters, params)


@router.post(
    "/purchase-orders/from-alerts",
    status_code=status.HTTP_201_CREATED,
    summary="Draft purchase orders from the low-stock report",
    description="One draft per (supplier, warehouse) for the alerts that need an order, "
    "with a line per product of the recommended quantity. Alerts without a supplier or "
    "already on a draft order are listed in `skipped`.",
    responses=problem_responses(404),
)
async def draft_from_alerts(
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
    data: Annotated[FromAlertsCreate | None, Body()] = None,
) -> FromAlertsRead:
    await idem.claim(scope.company_id)
    return await service.from_alerts(scope.company_id, data or FromAlertsCreate())


@router.get(_ONE, summary="Get a purchase order", responses=problem_responses(404))
async def get_purchase_order(
    purchase_order_id: IdPath, scope: CompanyScopeDep, service: PurchasingServiceDep
) -> PurchaseOrderRead:
    return await service.get(scope.company_id, purchase_order_id)


@router.patch(
    _ONE,
    summary="Change a draft purchase order",
    description="Only while `draft` (else 409). `lines`, when sent, replace all lines.",
    responses=problem_responses(404, 409),
)
async def update_purchase_order(
    purchase_order_id: IdPath,
    data: PurchaseOrderUpdate,
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
) -> PurchaseOrderRead:
    return await service.update(scope.company_id, purchase_order_id, data)


@router.post(
    _ONE + "/order",
    summary="Place a draft order: its lines go on order",
    description="Sets `ordered_at`, and `expected_at` (if null) from the supplier's "
    "longest lead time among the order's products. Only from `draft` (else 409).",
    responses=problem_responses(404, 409),
)
async def place_purchase_order(
    purchase_order_id: IdPath,
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
) -> PurchaseOrderRead:
    await idem.claim(scope.company_id)
    return await service.place(scope.company_id, purchase_order_id)


@router.post(
    _ONE + "/receipts",
    status_code=status.HTTP_201_CREATED,
    summary="Receive goods against an order",
    description="Each line writes a `receipt` ledger entry into the order's warehouse. "
    "More than a line's outstanding quantity is 409 and changes nothing.",
    responses=problem_responses(404, 409),
)
async def receive_purchase_order(
    purchase_order_id: IdPath,
    data: ReceiptCreate,
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
) -> ReceiptRead:
    await idem.claim(scope.company_id)
    return await service.receive(scope.company_id, purchase_order_id, data)


@router.post(
    _ONE + "/cancel",
    summary="Cancel an order",
    description="From `draft`, `ordered` or `partially_received` (else 409); what was "
    "received stays, the rest is no longer on order.",
    responses=problem_responses(404, 409),
)
async def cancel_purchase_order(
    purchase_order_id: IdPath,
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
) -> PurchaseOrderRead:
    await idem.claim(scope.company_id)
    return await service.cancel(scope.company_id, purchase_order_id)
