from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from stockflow.core.auth import MAX_ID
from stockflow.core.errors import InvalidInput
from stockflow.core.schemas import Timestamp, as_utc
from stockflow.ledger.schemas import EntryFilters, EntryReason

IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is out of range.", errors=[{"loc": ["query", name], "msg": str(exc)}]
        ) from exc


def get_entry_filters(
    product_id: IdQuery = None,
    warehouse_id: IdQuery = None,
    bundle_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Component lines of this bundle's sales.")
    ] = None,
    reason: EntryReason | None = None,
    since: Annotated[
        Timestamp | None,
        Query(description="occurred_at >= since; ISO 8601 (no offset: UTC)."),
    ] = None,
    until: Annotated[
        Timestamp | None,
        Query(description="occurred_at <= until; ISO 8601 (no offset: UTC)."),
    ] = None,
    order: Annotated[
        Literal["asc", "desc"], Query(description="By entry id: newest first (desc) or oldest.")
    ] = "desc",
) -> EntryFilters:
    return EntryFilters(
        product_id=product_id,
        warehouse_id=warehouse_id,
        bundle_id=bundle_id,
        reason=reason,
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        order=order,
    )


EntryFiltersDep = Annotated[EntryFilters, Depends(get_entry_filters)]
