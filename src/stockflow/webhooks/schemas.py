from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from stockflow.core.schemas import OptionalText, Schema, not_null
from stockflow.events.schemas import EventType
from stockflow.webhooks.addresses import check_url_shape

Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    AfterValidator(check_url_shape),
    Field(examples=["https://orders.example.com/stockflow-hook"]),
]
EventTypes = Annotated[
    list[EventType | Literal["*"]],
    Field(min_length=1, max_length=20, examples=[["stock.changed", "low_stock.opened"]]),
]

_EXAMPLE: dict[str, Any] = {
    "id": 5,
    "url": "https://orders.example.com/stockflow-hook",
    "event_types": ["stock.changed", "low_stock.opened", "low_stock.resolved"],
    "description": "order service",
    "is_active": True,
    "created_at": "2026-12-04T12:00:00Z",
}


class WebhookCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://orders.example.com/stockflow-hook",
                    "event_types": ["stock.changed", "low_stock.opened", "low_stock.resolved"],
                    "description": "order service",
                }
            ]
        }
    )

    url: Url
    event_types: EventTypes
    description: OptionalText | None = None


class WebhookUpdate(Schema):
    """Only the fields sent change; `description: null` clears it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    url: Url | None = None
    event_types: EventTypes | None = None
    description: OptionalText | None = None
    is_active: bool | None = None

    _not_null = not_null("url", "event_types", "is_active")


class WebhookRead(Schema):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_EXAMPLE]})

    id: int
    url: str
    event_types: list[str]
    description: str | None
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    """The subscription with its signing secret, shown only in this answer."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{**_EXAMPLE, "secret": "whsec_3q2-7wE..."}]},
    )

    secret: str = Field(description="Key of the HMAC-SHA256 signatures; shown only once.")


class DeliveryRead(Schema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "event_id": 42,
                    "status": "pending",
                    "attempts": 2,
                    "last_status_code": 500,
                    "last_error": "HTTP 500",
                    "next_attempt_at": "2026-12-04T12:00:30Z",
                    "delivered_at": None,
                }
            ]
        },
    )

    event_id: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None = Field(description="Null when no answer came.")
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
