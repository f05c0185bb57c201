from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, StrictBool, ValidationInfo, field_validator

from stockflow.bundles.schemas import ComponentRead
from stockflow.core.schemas import Id, Money, Name, Quantity, Schema, Sku, Threshold, not_null


class ProductCreate(Schema):
    """`POST /companies/{company_id}/products`: the company comes from the path."""

    name: Name
    sku: Sku
    price: Money
    product_type_id: Id | None = None
    low_stock_threshold: Threshold | None = None
    is_bundle: StrictBool = False
    warehouse_id: Id | None = Field(
        default=None, description="Create the product's level in this warehouse."
    )
    initial_quantity: Quantity = Field(
        default=0, description="Units received into `warehouse_id` (a `receipt` entry)."
    )

    @field_validator("is_bundle", "initial_quantity", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        # Optional fields: clients that send every field, null for "not set", mean the
        # default, as they do for warehouse_id or product_type_id.
        if value is None:
            assert info.field_name is not None
            return cls.model_fields[info.field_name].default
        return value


class LegacyProductCreate(ProductCreate):
    """`POST /products`: required with the admin token; a company key defaults to its own."""

    company_id: Id | None = None


class ProductUpdate(Schema):
    name: Name | None = None
    sku: Sku | None = None
    price: Money | None = None
    product_type_id: Id | None = None
    low_stock_threshold: Threshold | None = None
    is_active: StrictBool | None = None

    _not_null = not_null("name", "sku", "price", "is_active")


class ProductRead(Schema):
    id: int
    company_id: int
    name: str
    sku: str
    price: Decimal = Field(examples=["12.50"])
    product_type_id: int | None
    low_stock_threshold: int | None
    is_bundle: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class StockRead(Schema):
    warehouse_id: int
    warehouse_name: str
    quantity: int
    available: int = Field(
        default=0,
        description="Units not held by live reservations (for a bundle: derived from its "
        "components' available).",
    )


class ProductDetail(ProductRead):
    stock: list[StockRead] = Field(
        description="Per warehouse; for a bundle, its derived availability where every "
        "component is stocked."
    )
    components: list[ComponentRead] = Field(description="A bundle's contents; [] otherwise.")
