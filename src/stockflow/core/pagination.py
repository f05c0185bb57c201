"""Keyset pagination: `?limit=&cursor=` in, `{"items", "next_cursor"}` out.

A cursor is the sort key of the last item returned, base64url-encoded JSON. It is opaque
to clients; a tampered or foreign cursor is a 422, never a 500.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from stockflow.core.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not valid for this list.",
        errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}],
    )


def decode_cursor(cursor: str, arity: int) -> list[int]:
    """The key tuple inside `cursor`; it must hold `arity` integers."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise _bad_cursor() from exc
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(type(k) is int and 0 <= k < 2**63 for k in key)
    ):
        raise _bad_cursor()
    return key


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None

    def after(self, arity: int = 1) -> list[int] | None:
        return None if self.cursor is None else decode_cursor(self.cursor, arity)


def get_page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageParamsDep = Annotated[PageParams, Depends(get_page_params)]


def page_of(
    rows: Sequence[R], params: PageParams, key: Callable[[R], Sequence[int]]
) -> tuple[list[R], str | None]:
    """Split the `limit + 1` rows a repository fetched into a page and its next cursor;
    `key(row)` gives the row's sort key."""
    if len(rows) <= params.limit:
        return list(rows), None
    page = list(rows[: params.limit])
    return page, encode_cursor(list(key(page[-1])))
