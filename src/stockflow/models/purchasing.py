from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column

PURCHASE_ORDER_STATUSES = ("draft", "ordered", "partially_received", "received", "cancelled")
# Orders whose outstanding quantities count as on order.
OPEN_STATUSES = ("ordered", "partially_received")


class PurchaseOrder(Base):
    """An order of goods from one supplier, delivered to one warehouse."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("company_id", "id"),
        ForeignKeyConstraint(
            ["company_id", "supplier_id"], ["suppliers.company_id", "suppliers.id"]
        ),
        ForeignKeyConstraint(
            ["company_id", "warehouse_id"], ["warehouses.company_id", "warehouses.id"]
        ),
        CheckConstraint(
            "status IN ('draft', 'ordered', 'partially_received', 'received', 'cancelled')",
            name="status_known",
        ),
        Index("ix_purchase_orders_supplier_id", "supplier_id"),
        Index("ix_purchase_orders_warehouse_id", "warehouse_id"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    supplier_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    warehouse_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(255))
    expected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ordered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class PurchaseOrderLine(Base):
    """One product on an order: how many were ordered and how many have arrived."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "purchase_order_id"],
            ["purchase_orders.company_id", "purchase_orders.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"]),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_quantity >= 0", name="received_not_negative"),
        CheckConstraint("received_quantity <= quantity", name="received_at_most_ordered"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        # from-alerts looks up which (product, warehouse) pairs are already on drafts.
        Index("ix_purchase_order_lines_product_id", "product_id"),
    )

    purchase_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[int] = company_column()
    # Lines keep the order they were given in.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_quantity: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
