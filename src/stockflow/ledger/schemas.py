"""Request and response shapes of stock movements, transfers and ledger entries."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from stockflow.core.schemas import Id, OptionalText, Schema, Timestamp

MAX_DELTA = 1_000_000_000
MAX_LINES = 1_000

MovementReason = Literal["receipt", "sale", "return", "adjustment"]
EntryReason = Literal["receipt", "sale", "return", "adjustment", "transfer_out", "transfer_in"]


UtcDatetime = Timestamp


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("delta must not be 0")
    return value


Delta = Annotated[int, Field(strict=True, ge=-MAX_DELTA, le=MAX_DELTA), AfterValidator(_not_zero)]
"""A signed change in units: a strict integer, 0 < |delta| <= 1e9."""

TransferQuantity = Annotated[int, Field(strict=True, ge=1, le=MAX_DELTA)]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


Reference = Annotated[OptionalText | None, AfterValidator(_blank_is_none)]
"""Free text tying entries to an outside document (an order, a delivery note)."""


class MovementLine(Schema):
    product_id: Id
    warehouse_id: Id
    delta: Delta


class MovementCreate(Schema):
    reason: MovementReason
    reference: Reference = None
    occurred_at: UtcDatetime | None = Field(
        default=None, description="When it happened; defaults to now; at most 5 minutes ahead."
    )
    lines: list[MovementLine] = Field(min_length=1, max_length=MAX_LINES)


class TransferCreate(Schema):
    product_id: Id
    from_warehouse_id: Id
    to_warehouse_id: Id
    quantity: TransferQuantity
    reference: Reference = None


class LedgerEntryRead(Schema):
    id: int
    product_id: int
    warehouse_id: int
    delta: int
    reason: EntryReason
    reference: str | None
    occurred_at: datetime
    quantity_after: int = Field(description="The level of (product, warehouse) after this entry.")
    bundle_id: int | None = Field(
        description="For a component line of a bundle sale: the bundle that was sold."
    )


class EntriesRead(Schema):
    entries: list[LedgerEntryRead]


class EntryFilters(Schema):
    product_id: int | None = None
    warehouse_id: int | None = None
    bundle_id: int | None = None
    reason: EntryReason | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: Literal["asc", "desc"] = "desc"
