from datetime import datetime

from stockflow.core.schemas import Name, Schema, Threshold, not_null


class ProductTypeCreate(Schema):
    name: Name
    low_stock_threshold: Threshold


class ProductTypeUpdate(Schema):
    """Only the fields sent change; neither may be null."""

    name: Name | None = None
    low_stock_threshold: Threshold | None = None

    _not_null = not_null("name", "low_stock_threshold")


class ProductTypeRead(Schema):
    id: int
    company_id: int
    name: str
    low_stock_threshold: int
    created_at: datetime
