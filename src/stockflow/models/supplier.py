from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column


class Supplier(Base):
    __tablename__ = "suppliers"
    __table_args__ = (
        UniqueConstraint("company_id", "id"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    contact_email: Mapped[str | None] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at_column()


class ProductSupplier(Base):
    """A supplier's terms for one product."""

    __tablename__ = "product_suppliers"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"]),
        ForeignKeyConstraint(
            ["company_id", "supplier_id"], ["suppliers.company_id", "suppliers.id"]
        ),
        # At most one primary supplier per product.
        Index(
            "ix_product_suppliers_one_primary",
            "product_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
        Index("ix_product_suppliers_supplier_id", "supplier_id"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint("min_order_qty >= 1", name="min_order_qty_positive"),
    )

    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[int] = company_column()
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_order_qty: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
