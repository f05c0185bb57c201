"""What the ledger writer records besides the entries: the request's `stock.changed`
event and the low-stock alerts of the levels it moved."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.events.low_stock import update_alerts
from stockflow.events.outbox import emit
from stockflow.ledger.repository import EntryRow
from stockflow.ledger.schemas import LedgerEntryRead


def _reason(entries: Sequence[EntryRow]) -> str:
    reasons = {e.reason for e in entries}
    if reasons & {"transfer_in", "transfer_out"}:
        return "transfer"
    # A movement has one reason (bundle sales explode into `sale` lines); initial stock
    # and order receipts are `receipt` lines.
    return entries[0].reason


async def record_stock_change(
    session: AsyncSession, company_id: int, entries: Sequence[EntryRow], reference: str | None
) -> None:
    """One `stock.changed` event for the request's entries, then the alert flips."""
    if not entries:
        return
    await emit(
        session,
        company_id,
        "stock.changed",
        {
            "reason": _reason(entries),
            "reference": reference,
            "entries": [
                LedgerEntryRead.model_validate(e, from_attributes=True).model_dump(mode="json")
                for e in entries
            ],
        },
    )
    await update_alerts(session, company_id, [(e.product_id, e.warehouse_id) for e in entries])
