from datetime import datetime

from pydantic import field_validator

from stockflow.core.schemas import Name, Schema, Threshold


class ProductTypeCreate(Schema):
    name: Name
    low_stock_threshold: Threshold


class ProductTypeUpdate(Schema):
    """Only the fields sent change; neither may be null."""

    name: Name | None = None
    low_stock_threshold: Threshold | None = None

    @field_validator("name", "low_stock_threshold")
    @classmethod
    def _not_null(cls, value: str | int | None) -> str | int:
        if value is None:
            raise ValueError("may not be null")
        return value


class ProductTypeRead(Schema):
    id: int
    company_id: int
    name: str
    low_stock_threshold: int
    created_at: datetime
