from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column


class ProductType(Base):
    __tablename__ = "product_types"
    __table_args__ = (
        UniqueConstraint("company_id", "id"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("company_id", "id"),
        ForeignKeyConstraint(
            ["company_id", "product_type_id"], ["product_types.company_id", "product_types.id"]
        ),
        # SKUs are unique across the platform case-insensitively (the index below); the
        # service trims them, and this CHECK makes sure nobody stores an untrimmed one.
        CheckConstraint("sku = btrim(sku) AND length(sku) > 0", name="sku_trimmed"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    product_type_id: Mapped[int | None] = mapped_column(BigInteger)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    is_bundle: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


# Names are unique per company, compared case-insensitively.
Index(
    "ix_product_types_company_id_name_lower",
    ProductType.company_id,
    func.lower(ProductType.name),
    unique=True,
)
Index("ix_products_sku_lower", func.lower(Product.sku), unique=True)


class BundleComponent(Base):
    """One line of a bundle's contents: `quantity` units of `component_id` per bundle."""

    __tablename__ = "bundle_components"
    __table_args__ = (
        ForeignKeyConstraint(["company_id", "bundle_id"], ["products.company_id", "products.id"]),
        ForeignKeyConstraint(
            ["company_id", "component_id"], ["products.company_id", "products.id"]
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("bundle_id <> component_id", name="not_self"),
        Index("ix_bundle_components_component_id", "component_id"),
    )

    bundle_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    component_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[int] = company_column()
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
