"""The one code path that writes ledger entries and moves stock levels with them.

Every stock change in StockFlow (a product's initial stock, movements, transfers, bundle
sales, reservation commits) ends here, inside the request's transaction: the levels are
locked in a fixed order, every line is checked against the running level (stock never
goes below zero; a `sale` or `transfer_out` takes only units no reservation holds), then
the levels and their entries are written together. A line that fails raises before
anything is written, and the request's rollback undoes the rest.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core import metrics
from stockflow.events.stock import record_stock_change
from stockflow.ledger.exceptions import insufficient_available, insufficient_stock
from stockflow.ledger.repository import EntryLine, EntryRow, LedgerRepository, LevelState, Pair

# Reasons that may take only available units (on hand minus live holds); an adjustment
# takes any (physical counts win).
TAKES_AVAILABLE = frozenset({"sale", "transfer_out"})


async def write_entries(
    session: AsyncSession,
    company_id: int,
    lines: Sequence[EntryLine],
    *,
    occurred_at: datetime | None,
    reference: str | None = None,
    consumes_hold: Mapping[Pair, int] | None = None,
) -> list[EntryRow]:
    """Apply `lines` in order, all or nothing. Callers have already checked that the
    products and warehouses belong to `company_id` and that each line's sign fits its
    reason (the database's CHECKs back both up). `occurred_at` None means the
    transaction's time, the same clock the low-stock report reads.

    `consumes_hold` (pair -> units) is the hold of the one reservation these sales
    commit: it ends here, in the same transaction, and the sales need only on-hand stock
    (other reservations' holds do not block them)."""
    repo = LedgerRepository(session)
    pairs = [(ln.product_id, ln.warehouse_id) for ln in lines]
    receiving = [(ln.product_id, ln.warehouse_id) for ln in lines if ln.delta > 0]
    states = await repo.lock_level_states(company_id, pairs, receiving)
    levels = {pair: state.quantity for pair, state in states.items()}
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
    if consumes_hold is None:
        await _check_holds(repo, company_id, lines, after, states)
    else:
        await repo.end_holds(dict(consumes_hold))
    sold = {(ln.product_id, ln.warehouse_id) for ln in lines if ln.reason == "sale"}
    changed = {pair: q for pair, q in running.items() if q != levels.get(pair) or pair in sold}
    entries = await repo.write(company_id, changed, sold, lines, after, occurred_at, reference)
    metrics.record_ledger_entries(ln.reason for ln in lines)
    # The outbox: the request's stock.changed event and the low-stock alert flips, in
    # this transaction and under the level locks taken above.
    await record_stock_change(session, company_id, entries, reference)
    return entries


async def _check_holds(
    repo: LedgerRepository,
    company_id: int,
    lines: Sequence[EntryLine],
    after: Sequence[int],
    states: Mapping[Pair, LevelState],
) -> None:
    """409 for the first sale or transfer_out line that leaves fewer units than live
    holds need. `reserved` may still count lapsed holds, so it is an upper bound: only
    the lines that fail against it pay for the query that subtracts them."""

    def reserved(pair: Pair) -> int:
        state = states.get(pair)
        return 0 if state is None else state.reserved

    suspects = [
        i
        for i, line in enumerate(lines)
        if line.reason in TAKES_AVAILABLE
        and after[i] < reserved((line.product_id, line.warehouse_id))
    ]
    if not suspects:
        return
    lapsed = await repo.lapsed_holds(
        company_id, [(lines[i].product_id, lines[i].warehouse_id) for i in suspects]
    )
    for i in suspects:
        line = lines[i]
        pair = (line.product_id, line.warehouse_id)
        held = reserved(pair) - lapsed.get(pair, 0)
        if after[i] < held:
            before = after[i] - line.delta
            raise insufficient_available(
                line.product_id, line.warehouse_id, before, held, line.delta
            )
