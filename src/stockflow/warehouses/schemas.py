from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from stockflow.core.schemas import Name, OptionalText, Schema, not_null


def _blank_to_none(value: str | None) -> str | None:
    # An empty location means "no location", the same as null.
    return value or None


Location = Annotated[OptionalText, AfterValidator(_blank_to_none)]


class WarehouseCreate(Schema):
    name: Name
    location: Location | None = None


class WarehouseUpdate(Schema):
    """Only the fields sent change; `location: null` clears it, `name: null` is invalid."""

    name: Name | None = None
    location: Location | None = None

    _not_null = not_null("name")


class WarehouseRead(Schema):
    id: int
    company_id: int
    name: str
    location: str | None
    created_at: datetime
