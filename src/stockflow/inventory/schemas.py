from datetime import datetime

from pydantic import Field

from stockflow.core.schemas import Schema, Threshold


class InventoryLevelRead(Schema):
    product_id: int
    warehouse_id: int
    quantity: int
    low_stock_threshold: int | None = Field(
        description="The warehouse-level threshold for this product, or null (then the "
        "product's, its type's or the default threshold applies)."
    )
    updated_at: datetime
    on_order: int = Field(
        description="Units still expected here from ordered or partially received purchase orders."
    )
    reserved: int = Field(
        default=0,
        description="Units held by active, unexpired reservations (may exceed quantity "
        "after an adjustment).",
    )
    available: int = Field(
        default=0, description="max(0, quantity - reserved): what a sale or reservation may take."
    )


class ThresholdUpdate(Schema):
    low_stock_threshold: Threshold | None = Field(
        description="Units below which this product counts as low in this warehouse; "
        "null clears it. Required (send null explicitly to clear)."
    )
