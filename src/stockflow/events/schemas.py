from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from stockflow.core.schemas import Schema

EventType = Literal[
    "stock.changed",
    "product.created",
    "product.updated",
    "product.deactivated",
    "purchase_order.updated",
    "reservation.updated",
    "low_stock.opened",
    "low_stock.resolved",
]

_EVENT: dict[str, Any] = {
    "id": 42,
    "type": "low_stock.opened",
    "company_id": 1,
    "occurred_at": "2026-12-04T12:00:00Z",
    "data": {"product_id": 7, "warehouse_id": 3, "current_stock": 4, "threshold": 10},
}


class EventRead(Schema):
    """One event, as the feed lists it and as a webhook receives it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT]})

    id: int
    type: EventType
    company_id: int
    occurred_at: datetime = Field(description="The time of the transaction that wrote it.")
    data: dict[str, Any]


class EventPage(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_EVENT], "next_after": 42}]}
    )

    items: list[EventRead]
    next_after: int = Field(
        description="Pass as `after` to get the next events: the last item's id, else `after`."
    )
