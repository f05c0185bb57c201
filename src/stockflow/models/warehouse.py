from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (
        # Target of the composite foreign keys that keep child rows in one company.
        UniqueConstraint("company_id", "id"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    location: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at_column()
