import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool

from stockflow.core.schemas import Money, Name, OptionalText, Schema, not_null

# Deliberately loose (no quoted local parts, IP literals or non-ASCII addresses) but it
# refuses what is plainly not an address: `local@domain.tld`, dot-separated atoms, DNS
# labels, a local part of at most 64 characters.
_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


def _blank_to_none(value: str | None) -> str | None:
    # Blank optional contact details mean "none", the same as null.
    return value or None


def _check_email(value: str | None) -> str | None:
    if value and not _EMAIL.fullmatch(value):
        raise ValueError("not a valid email address")
    return value or None


Email = Annotated[OptionalText, AfterValidator(_check_email)]
"""An email address, trimmed, at most 255 characters; blank means none."""

Phone = Annotated[OptionalText, AfterValidator(_blank_to_none)]
"""Free text (formats vary too much by country to validate), at most 255 characters."""

LeadTimeDays = Annotated[int, Field(strict=True, ge=0, le=3650)]
"""Days from order to delivery: up to ten years, which no real supplier exceeds."""

MinOrderQty = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]


class SupplierCreate(Schema):
    name: Name
    contact_email: Email | None = None
    contact_phone: Phone | None = None


class SupplierUpdate(Schema):
    """Only the fields sent change; a contact set to null is cleared, `name: null` is invalid."""

    name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None

    _not_null = not_null("name")


class SupplierRead(Schema):
    id: int
    company_id: int
    name: str
    contact_email: str | None
    contact_phone: str | None
    created_at: datetime


class LinkPut(Schema):
    """The whole link: a field left out (or null) takes its default, it does not keep
    the stored value."""

    is_primary: StrictBool | None = Field(
        default=None, description="Make this the product's primary supplier (default false)."
    )
    lead_time_days: LeadTimeDays | None = None
    unit_cost: Money | None = None
    min_order_qty: MinOrderQty | None = None


class LinkRead(Schema):
    supplier_id: int
    product_id: int
    is_primary: bool
    lead_time_days: int | None
    unit_cost: Decimal | None = Field(examples=["12.50"])
    min_order_qty: int | None
