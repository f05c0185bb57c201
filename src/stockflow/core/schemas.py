"""Constrained types and the base model every resource's schemas build on."""

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
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


# Python's Decimal reads "٣" (Arabic-Indic three) as 3 and "1_000" as 1000; money is
# plain ASCII: digits, one optional point, an optional exponent.
_ASCII_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _ascii_money(value: Any) -> Any:
    if isinstance(value, str) and not _ASCII_NUMBER.fullmatch(value.strip()):
        raise ValueError('must be a decimal number written with ASCII digits (e.g. "12.50")')
    return value


Money = Annotated[
    Decimal,
    Field(
        ge=0, le=MAX_MONEY, max_digits=12, decimal_places=2, allow_inf_nan=False, examples=["12.50"]
    ),
    BeforeValidator(_ascii_money),
    AfterValidator(_to_cents),
]
"""A non-negative amount with at most 2 decimal places, as a JSON number or string."""

# Control (Cc: NUL, newline, escape, …) and format (Cf: zero-width space U+200B, joiners,
# bidi overrides, soft hyphen, …) characters are invisible or re-order what is shown: a
# name made of them looks blank, and two SKUs differing only by them look the same.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})


def _refuse_hidden(value: str) -> str:
    if value and all(unicodedata.category(c) in _HIDDEN_CATEGORIES or c.isspace() for c in value):
        raise ValueError("must not be blank")
    for c in value:
        if unicodedata.category(c) in _HIDDEN_CATEGORIES:
            raise ValueError(
                f"must not contain control or format characters (found U+{ord(c):04X})"
            )
    return value


def normalise_sku(value: str) -> str:
    """NFKC (full-width and other compatibility forms become their plain letters:
    full-width `UNI-1` is `UNI-1`), then trimmed; refuses hidden characters and re-checks the
    length, which NFKC may change. Uniqueness is case-insensitive (lower(sku))."""
    value = unicodedata.normalize("NFKC", value).strip()
    _refuse_hidden(value)
    if not value:
        raise ValueError("must not be blank")
    if len(value) > 64:
        raise ValueError("must be at most 64 characters (after normalisation)")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_refuse_hidden),
]
"""Required text: trimmed, not blank, no control or format characters, ≤ 255 characters."""

OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]

Sku = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(normalise_sku),
]
"""A SKU: NFKC-normalised, trimmed, not blank, no control or format characters."""

# ISO 8601 only: a date, then optionally a time. Without this pydantic would read
# "0.5" or "1700000000" as seconds since 1970.
_ISO_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?")


def _iso_string(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_TIMESTAMP.fullmatch(value.strip()):
        raise ValueError("must be an ISO 8601 timestamp string (e.g. 2026-12-04T12:00:00Z)")
    return value


def as_utc(value: datetime) -> datetime:
    """Timestamps without an offset are UTC; the others are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+05:00
        raise ValueError("timestamp is out of range") from exc


Timestamp = Annotated[datetime, BeforeValidator(_iso_string), AfterValidator(as_utc)]
"""An ISO 8601 string (body or query), as an aware UTC datetime; no offset means UTC."""

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A reference to another resource in a request body."""

Threshold = Annotated[int, Field(strict=True, ge=0, le=MAX_INT4)]
"""A low-stock threshold: units below which stock counts as low."""

Quantity = Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)]
"""A whole number of units (strict: 1.5, "5" and true are rejected)."""
