"""Reservations: stock held for an order before it is sold.

A reservation's lines are its record and never change. While the reservation is stored
as `active`, its lines are counted in `inventory_levels.reserved` (kept by the same
transactions that create, commit, release or expire it). Expiry is exact without the
expiry job being on time: readers subtract the holds of stored-`active` reservations
whose `expires_at` has passed (see `ledger/repository.py`), and the job folds them out of
`reserved` later (status `expired`).
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column

RESERVATION_STATUSES = ("active", "committed", "released", "expired")


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (
        # Target of the composite foreign key that keeps lines in the company.
        UniqueConstraint("company_id", "id"),
        CheckConstraint(
            "status IN ('active', 'committed', 'released', 'expired')", name="status_known"
        ),
        # Stored-active reservations by expiry: what the expiry job claims, and the few
        # lapsed-but-not-folded holds that availability subtracts.
        Index(
            "ix_reservations_active_expires_at",
            "company_id",
            "expires_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_reservations_expires_at_active",
            "expires_at",
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    # As stored; an `active` one reads as `expired` once now() >= expires_at.
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    # When it left `active` (committed, released, or folded by the expiry job).
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReservationLine(Base):
    """Units of one (non-bundle) product in one warehouse held by a reservation."""

    __tablename__ = "reservation_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "reservation_id"],
            ["reservations.company_id", "reservations.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["company_id", "product_id"], ["products.company_id", "products.id"]),
        # A hold is always on an existing level (one with no level has nothing available).
        ForeignKeyConstraint(
            ["product_id", "warehouse_id"],
            ["inventory_levels.product_id", "inventory_levels.warehouse_id"],
            name="fk_reservation_lines_level",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    reservation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    company_id: Mapped[int] = company_column()
    quantity: Mapped[int] = mapped_column(BigInteger, nullable=False)


__all__ = ["RESERVATION_STATUSES", "Reservation", "ReservationLine"]
