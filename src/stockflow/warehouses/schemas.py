from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, field_validator

from stockflow.core.schemas import Name, OptionalText, Schema


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

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("name may not be null")
        return value


class WarehouseRead(Schema):
    id: int
    company_id: int
    name: str
    location: str | None
    created_at: datetime
