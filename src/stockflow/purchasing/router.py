from typing import Annotated

from fastapi import Body, Response, status

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

router = resource_router(prefix="/companies/{company_id}", tags=["purchase-orders"])

_ONE = "/purchase-orders/{purchase_order_id}"


@router.post(
    "/purchase-orders",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a purchase order",
    description="A new order is a `draft`: it is not on order until it is placed "
    "(`POST …/order`). 1 to 1,000 lines, `quantity` > 0, each product at most once, active "
    "and not a bundle (422 otherwise); a supplier, warehouse or product that does not exist "
    "or is another company's is 404. The product need not be linked to the supplier; a "
    "line's `unit_cost` defaults to the product-supplier link's, else null. Lines keep the "
    "order given. Honours `Idempotency-Key`.",
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
    description="Runs the low-stock report (`window_days`, `warehouse_id`: the same rules "
    "and filters; a warehouse of another company is 404) and drafts one order per "
    "(supplier, warehouse) for the alerts that have a supplier and a "
    "`recommended_order_quantity` above 0: a line per product (by product id) of the "
    "recommended quantity, `unit_cost` from the link, null `reference` and `expected_at`. "
    "Alerts whose product and warehouse are already on a `draft` order (`in-draft`) or "
    "that have no supplier (`no-supplier`) are listed in `skipped`; alerts that need "
    "nothing are in neither. The body may be left out. Honours `Idempotency-Key`.",
    response_model=FromAlertsRead,
    responses=problem_responses(404),
)
async def draft_from_alerts(
    scope: CompanyScopeDep,
    service: PurchasingServiceDep,
    idem: IdempotencyDep,
    data: Annotated[FromAlertsCreate | None, Body()] = None,
) -> Response:
    await idem.claim(scope.company_id)
    # Pre-serialized (the declared model still documents it), as the report's.
    body = await service.from_alerts(scope.company_id, data or FromAlertsCreate())
    return Response(body, status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.get(_ONE, summary="Get a purchase order", responses=problem_responses(404))
async def get_purchase_order(
    purchase_order_id: IdPath, scope: CompanyScopeDep, service: PurchasingServiceDep
) -> PurchaseOrderRead:
    return await service.get(scope.company_id, purchase_order_id)


@router.patch(
    _ONE,
    summary="Change a draft purchase order",
    description="Only while `draft` (else 409). Fields left out keep their value; "
    "`reference` and `expected_at` may be set to null. `lines`, when sent, replace all "
    "lines by the rules of create (an unknown product 404; an inactive one or a bundle "
    "422).",
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
    description="`draft` → `ordered`; any other status is 409. The lines go on order in "
    "the order's warehouse (its inventory levels are created at 0 when missing, and their "
    "`on_order` grows), `ordered_at` = now and, when `expected_at` is null, `expected_at` "
    "= now + the longest `lead_time_days` among the supplier's links to the order's "
    "products (null if none is set). Honours `Idempotency-Key`.",
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
    description="Only while `ordered` or `partially_received` (else 409). Each line "
    "writes one `receipt` ledger entry into the order's warehouse (`reference` defaults "
    "to the order's, else `PO-<id>`; `occurred_at` as for stock movements, at most 5 "
    "minutes ahead) and adds to the line's `received_quantity`, in one transaction. A "
    "product not on the order is 422; more than a line's outstanding quantity (quantity "
    "- received_quantity) is 409 and changes nothing. Then the status is `received` when "
    "every line is fully received, else `partially_received`. Checks in this order: the "
    "body itself (422), the status (409), each line (422, then 409). Honours "
    "`Idempotency-Key`.",
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
    description="From `draft`, `ordered` or `partially_received` to `cancelled`; from "
    "`received` or `cancelled` it is 409. What was received stays received; the rest is "
    "no longer on order. Honours `Idempotency-Key`.",
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
