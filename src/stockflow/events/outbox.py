"""The outbox writer: services call `emit` inside the request's transaction, so an event
exists exactly when the change it describes commits (a rollback takes both away)."""

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.database import DriverStatement

# Every type a consumer can see or subscribe to (SPEC "Events").
EVENT_TYPES: Final = (
    "stock.changed",
    "product.created",
    "product.updated",
    "product.deactivated",
    "purchase_order.updated",
    "reservation.updated",
    "low_stock.opened",
    "low_stock.resolved",
)

# A model, a mapping, or the data already as JSON text (a caller that also sends the same
# JSON in its response serializes it once).
EventData = BaseModel | Mapping[str, Any] | str

_JSON: TypeAdapter[Any] = TypeAdapter(Any)

# Sent on the session's asyncpg connection: every stock change writes one (write path).
_INSERT = DriverStatement(
    """
    INSERT INTO events (company_id, type, data)
    SELECT :company_id, t.type, t.data
    FROM unnest(CAST(:types AS text[]), CAST(:datas AS jsonb[])) WITH ORDINALITY AS t(type, data, n)
    ORDER BY t.n
    """
)


def _as_json(data: EventData) -> str:
    # Decimals become strings and datetimes ISO 8601, as the API's own responses have them.
    if isinstance(data, str):
        return data
    if isinstance(data, BaseModel):
        return data.model_dump_json()
    return _JSON.dump_json(dict(data)).decode()


async def emit(session: AsyncSession, company_id: int, type: str, data: EventData) -> None:
    """Write one event of `type` (one of EVENT_TYPES) in the session's transaction."""
    await emit_many(session, company_id, [(type, data)])


async def emit_many(
    session: AsyncSession, company_id: int, events: Sequence[tuple[str, EventData]]
) -> None:
    """Write several events in one statement, in the order given."""
    if not events:
        return
    for type_, _ in events:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type_!r}")
    await _INSERT.fetch(
        session,
        {
            "company_id": company_id,
            "types": [t for t, _ in events],
            "datas": [_as_json(d) for _, d in events],
        },
    )
