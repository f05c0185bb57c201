"""Request and response shapes of purchase orders, receipts and drafting from alerts."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, ConfigDict, Field

from stockflow.core.schemas import Id, Money, Schema, not_null
from stockflow.ledger.schemas import MAX_DELTA, MAX_LINES, LedgerEntryRead, Reference, UtcDatetime

# Examples name id 1 (the first row of a fresh company, as in `stockflow demo`), so
# "Try it out" works: create the order, place it, then receive against it.
_ORDER: dict[str, Any] = {
    "id": 1,
    "company_id": 1,
    "supplier_id": 1,
    "warehouse_id": 1,
    "status": "partially_received",
    "reference": "PO-2026-0042",
    "expected_at": "2026-12-11T09:00:00Z",
    "ordered_at": "2026-12-04T09:00:00Z",
    "created_at": "2026-12-04T08:55:00Z",
    "lines": [{"product_id": 1, "quantity": 40, "received_quantity": 25, "unit_cost": "9.20"}],
}
_RECEIPT_ENTRY: dict[str, Any] = {
    "id": 12,
    "product_id": 1,
    "warehouse_id": 1,
    "delta": 25,
    "reason": "receipt",
    "reference": "DN-881",
    "occurred_at": "2026-12-09T14:10:00Z",
    "quantity_after": 43,
    "bundle_id": None,
}
_DRAFT: dict[str, Any] = {
    **_ORDER,
    "id": 2,
    "status": "draft",
    "reference": None,
    "expected_at": None,
    "ordered_at": None,
    "lines": [{"product_id": 1, "quantity": 20, "received_quantity": 0, "unit_cost": "9.20"}],
}

OrderStatus = Literal["draft", "ordered", "partially_received", "received", "cancelled"]

OrderQuantity = Annotated[int, Field(strict=True, ge=1, le=MAX_DELTA)]
"""Units ordered or received on one line: a strict integer, 1..1e9."""


class _HasProduct(Schema):
    product_id: int


L = TypeVar("L", bound=_HasProduct)


def _one_line_per_product(lines: list[L]) -> list[L]:
    seen: set[int] = set()
    for line in lines:
        if line.product_id in seen:
            raise ValueError(f"product {line.product_id} appears on more than one line")
        seen.add(line.product_id)
    return lines


class OrderLineCreate(Schema):
    product_id: Id
    quantity: OrderQuantity
    unit_cost: Money | None = Field(
        default=None, description="Defaults to the product-supplier link's unit_cost, else null."
    )


OrderLines = Annotated[
    list[OrderLineCreate],
    Field(min_length=1, max_length=MAX_LINES),
    AfterValidator(_one_line_per_product),
]


class PurchaseOrderCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supplier_id": 1,
                    "warehouse_id": 1,
                    "reference": "PO-2026-0042",
                    "lines": [{"product_id": 1, "quantity": 40, "unit_cost": "9.20"}],
                }
            ]
        }
    )

    supplier_id: Id
    warehouse_id: Id
    reference: Reference = None
    expected_at: UtcDatetime | None = Field(
        default=None,
        description="When the goods are due; if null when the order is placed, it is set "
        "from the supplier's longest lead time among the order's products.",
    )
    lines: OrderLines


class PurchaseOrderUpdate(Schema):
    """Only while `draft`. `lines`, when sent, replace all the lines."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reference": "PO-2026-0043", "lines": [{"product_id": 1, "quantity": 60}]}
            ]
        }
    )

    reference: Reference = None
    expected_at: UtcDatetime | None = None
    lines: OrderLines | None = None

    _not_null = not_null("lines")


class OrderLineRead(Schema):
    product_id: int
    quantity: int
    received_quantity: int
    unit_cost: Decimal | None


class PurchaseOrderRead(Schema):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ORDER]})

    id: int
    company_id: int
    supplier_id: int
    warehouse_id: int
    status: OrderStatus
    reference: str | None
    expected_at: datetime | None
    ordered_at: datetime | None
    created_at: datetime
    lines: list[OrderLineRead]


class ReceiptLine(Schema):
    product_id: Id
    quantity: OrderQuantity


class ReceiptCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"lines": [{"product_id": 1, "quantity": 25}], "reference": "DN-881"}]
        }
    )

    lines: Annotated[
        list[ReceiptLine],
        Field(min_length=1, max_length=MAX_LINES),
        AfterValidator(_one_line_per_product),
    ]
    reference: Reference = Field(
        default=None, description="Defaults to the order's reference, else `PO-<id>`."
    )
    occurred_at: UtcDatetime | None = Field(
        default=None,
        description="When the goods arrived; defaults to now; at most 5 minutes ahead.",
    )


class ReceiptRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"purchase_order": _ORDER, "entries": [_RECEIPT_ENTRY]}]}
    )

    purchase_order: PurchaseOrderRead
    entries: list[LedgerEntryRead]


class FromAlertsCreate(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"window_days": 30}]})

    window_days: Annotated[int, Field(strict=True, ge=1, le=365)] = 30
    warehouse_id: Id | None = None


class SkippedAlert(Schema):
    product_id: int
    warehouse_id: int
    reason: Literal["no-supplier", "in-draft"]


class FromAlertsRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "purchase_orders": [_DRAFT],
                    "skipped": [{"product_id": 3, "warehouse_id": 1, "reason": "no-supplier"}],
                }
            ]
        }
    )

    purchase_orders: list[PurchaseOrderRead]
    skipped: list[SkippedAlert]


class OrderFilters(Schema):
    status: OrderStatus | None = None
    supplier_id: int | None = None
    warehouse_id: int | None = None
