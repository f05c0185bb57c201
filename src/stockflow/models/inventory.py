from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column

# Each reason's sign rule; the ledger service checks it first, the CHECK backs it up.
REASON_SIGNS = {
    "receipt": 1,
    "return": 1,
    "transfer_in": 1,
    "sale": -1,
    "transfer_out": -1,
    "adjustment": 0,  # either sign, never zero
}


class InventoryLevel(Base):
    """The current quantity of one product in one warehouse, always equal to the sum of its
    ledger deltas, plus the warehouse-level low-stock threshold for that product."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"]),
        ForeignKeyConstraint(
            ["company_id", "warehouse_id"], ["warehouses.company_id", "warehouses.id"]
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("on_order >= 0", name="on_order_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        Index("ix_inventory_levels_company_id_product_id", "company_id", "product_id"),
        Index("ix_inventory_levels_warehouse_id", "warehouse_id"),
        # The low-stock report starts from the levels that sold inside its window.
        Index("ix_inventory_levels_company_id_last_sold_at", "company_id", "last_sold_at"),
    )

    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[int] = company_column()
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    # The latest `occurred_at` of this level's `sale` entries (null: never sold). Kept by
    # the ledger writer in the same statement as the entries, so it always agrees with
    # the ledger; it lets the low-stock report skip every level that did not sell
    # inside its window without reading the ledger.
    last_sold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Units still expected here from `ordered` or `partially_received` purchase orders
    # (quantity - received_quantity over their lines). Kept by the purchasing
    # transactions that change it (order placed, receipt, cancel), under this row's lock,
    # so the low-stock report reads it with the level and never scans order lines.
    on_order: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    # Whether this level's low-stock alert is open (events/low_stock.py opens and
    # resolves it in the ledger writer's transaction, under the level's row lock).
    low_stock_open: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=text("false")
    )
    # Units held by reservations stored as `active` (see models/reservations.py); those
    # already past their expiry are subtracted where availability is read.
    reserved: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))


_SIGN_RULE = " OR ".join(
    [
        "(reason IN ('receipt', 'return', 'transfer_in') AND delta > 0)",
        "(reason IN ('sale', 'transfer_out') AND delta < 0)",
        "(reason = 'adjustment' AND delta <> 0)",
    ]
)


class LedgerEntry(Base):
    """One append-only stock change. Never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"]),
        ForeignKeyConstraint(["company_id", "bundle_id"], ["products.company_id", "products.id"]),
        ForeignKeyConstraint(
            ["product_id", "warehouse_id"],
            ["inventory_levels.product_id", "inventory_levels.warehouse_id"],
            name="fk_ledger_entries_level",
        ),
        CheckConstraint(_SIGN_RULE, name="reason_sign"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
        Index("ix_ledger_entries_company_id_id", "company_id", "id"),
        Index("ix_ledger_entries_product_id_warehouse_id_id", "product_id", "warehouse_id", "id"),
        Index("ix_ledger_entries_warehouse_id_id", "warehouse_id", "id"),
        # The low-stock report sums one level's sales inside its window: a short range of
        # this index, read without touching the table.
        Index(
            "ix_ledger_entries_sales_by_level",
            "product_id",
            "warehouse_id",
            "occurred_at",
            postgresql_where=text("reason = 'sale'"),
            # company_id: row-level security's policy reads it; in the index, the scan
            # stays index-only under RLS instead of visiting the table for every sale.
            postgresql_include=["delta", "company_id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = company_column()
    product_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    warehouse_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    delta: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    quantity_after: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # For component lines of a bundle sale: the bundle that was sold.
    bundle_id: Mapped[int | None] = mapped_column(BigInteger)
