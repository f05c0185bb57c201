"""The one code path that writes ledger entries and moves stock levels with them.

Every stock change in StockFlow (a product's initial stock, movements, transfers, bundle
sales) ends here, inside the request's transaction: the levels are locked in a fixed
order, every line is checked against the running level (stock never goes below zero),
then the levels and their entries are written together. A line that would go negative
raises before anything is written, and the request's rollback undoes the rest.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core import metrics
from stockflow.events.stock import record_stock_change
from stockflow.ledger.exceptions import insufficient_stock
from stockflow.ledger.repository import EntryLine, EntryRow, LedgerRepository, Pair


async def write_entries(
    session: AsyncSession,
    company_id: int,
    lines: Sequence[EntryLine],
    *,
    occurred_at: datetime | None,
    reference: str | None = None,
) -> list[EntryRow]:
    """Apply `lines` in order, all or nothing. Callers have already checked that the
    products and warehouses belong to `company_id` and that each line's sign fits its
    reason (the database's CHECKs back both up). `occurred_at` None means the
    transaction's time, the same clock the low-stock report reads."""
    repo = LedgerRepository(session)
    pairs = [(ln.product_id, ln.warehouse_id) for ln in lines]
    receiving = [(ln.product_id, ln.warehouse_id) for ln in lines if ln.delta > 0]
    levels = await repo.lock_levels(company_id, pairs, receiving)
    # A level that does not exist holds nothing: it can only be taken from, and fails.
    running: dict[Pair, int] = {pair: levels.get(pair, 0) for pair in pairs}
    after: list[int] = []
    for line in lines:
        pair = (line.product_id, line.warehouse_id)
        quantity = running[pair] + line.delta
        if quantity < 0:
            raise insufficient_stock(line.product_id, line.warehouse_id, running[pair], line.delta)
        running[pair] = quantity
        after.append(quantity)
    sold = {(ln.product_id, ln.warehouse_id) for ln in lines if ln.reason == "sale"}
    changed = {pair: q for pair, q in running.items() if q != levels.get(pair) or pair in sold}
    entries = await repo.write(company_id, changed, sold, lines, after, occurred_at, reference)
    metrics.record_ledger_entries(ln.reason for ln in lines)
    # The outbox: the request's stock.changed event and the low-stock alert flips, in
    # this transaction and under the level locks taken above.
    await record_stock_change(session, company_id, entries, reference)
    return entries
