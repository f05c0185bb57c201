"""Constrained types and the base model every resource's schemas build on."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

MAX_MONEY = Decimal("9999999999.99")
MAX_INT4 = 2**31 - 1
MAX_ID = 2**63 - 1
CENT = Decimal("0.01")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _reject_null(value: Any) -> Any:
    # Pydantic does not validate defaults, so only an explicit null gets here.
    if value is None:
        raise ValueError("may not be null (leave the field out to keep its value)")
    return value


def not_null(*fields: str) -> Any:
    """For update schemas: `fields` may be left out, but not sent as null (they always
    have a value). Use as `_not_null = not_null("name")` in the class body."""
    return field_validator(*fields)(_reject_null)


def _to_cents(value: Decimal) -> Decimal:
    # "12.5" is stored and shown as "12.50"; adding 0 turns a "-0" into "0.00".
    return value.quantize(CENT) + 0


Money = Annotated[
    Decimal,
    Field(
        ge=0, le=MAX_MONEY, max_digits=12, decimal_places=2, allow_inf_nan=False, examples=["12.50"]
    ),
    AfterValidator(_to_cents),
]
"""A non-negative amount with at most 2 decimal places, as a JSON number or string."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""Required text: trimmed, not blank, at most 255 characters."""

OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A reference to another resource in a request body."""

Threshold = Annotated[int, Field(strict=True, ge=0, le=MAX_INT4)]
"""A low-stock threshold: units below which stock counts as low."""

Quantity = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
"""A whole number of units (strict: 1.5, "5" and true are rejected)."""
