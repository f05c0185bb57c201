"""Request and response shapes of reservations."""

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from stockflow.core.schemas import Id, Schema
from stockflow.ledger.schemas import MAX_DELTA, MAX_LINES, LedgerEntryRead, Reference

DEFAULT_TTL_SECONDS = 900
MAX_TTL_SECONDS = 604_800

ReservationStatus = Literal["active", "committed", "released", "expired"]


class ReservationLineIn(Schema):
    product_id: Id
    warehouse_id: Id
    quantity: int = Field(strict=True, ge=1, le=MAX_DELTA)


class ReservationCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "ORDER-1042",
                    "ttl_seconds": 900,
                    "lines": [{"product_id": 1, "warehouse_id": 1, "quantity": 3}],
                }
            ]
        }
    )

    reference: Reference = None
    ttl_seconds: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=MAX_TTL_SECONDS,
        description="Seconds until it expires (default 900; null means the default).",
    )
    lines: list[ReservationLineIn] = Field(min_length=1, max_length=MAX_LINES)

    @field_validator("lines")
    @classmethod
    def _pairs_once(cls, lines: list[ReservationLineIn]) -> list[ReservationLineIn]:
        seen: set[tuple[int, int]] = set()
        for line in lines:
            pair = (line.product_id, line.warehouse_id)
            if pair in seen:
                raise ValueError(f"product {pair[0]} in warehouse {pair[1]} appears more than once")
            seen.add(pair)
        return lines


class ReservationLineRead(Schema):
    product_id: int
    warehouse_id: int
    quantity: int


_RESERVATION_EXAMPLE: JsonDict = {
    "id": 7,
    "company_id": 1,
    "status": "active",
    "reference": "ORDER-1042",
    "expires_at": "2026-12-04T12:15:00Z",
    "created_at": "2026-12-04T12:00:00Z",
    "lines": [{"product_id": 1, "warehouse_id": 1, "quantity": 3}],
}


class ReservationRead(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_RESERVATION_EXAMPLE]})

    id: int
    company_id: int
    status: ReservationStatus = Field(
        description="As of now: an active reservation reads `expired` once its time is up."
    )
    reference: str | None
    expires_at: datetime
    created_at: datetime
    lines: list[ReservationLineRead] = Field(
        description="Held units by (product, warehouse); bundles are stored as their leaf "
        "components."
    )


class CommitRead(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reservation": {**_RESERVATION_EXAMPLE, "status": "committed"},
                    "entries": [
                        {
                            "id": 41,
                            "product_id": 1,
                            "warehouse_id": 1,
                            "delta": -3,
                            "reason": "sale",
                            "reference": "ORDER-1042",
                            "occurred_at": "2026-12-04T12:05:00Z",
                            "quantity_after": 9,
                            "bundle_id": None,
                        }
                    ],
                }
            ]
        }
    )

    reservation: ReservationRead
    entries: list[LedgerEntryRead]


class ReservationFilters(Schema):
    status: ReservationStatus | None = None
