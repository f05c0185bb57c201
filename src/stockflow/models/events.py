"""The outbox (`events`) and webhook subscriptions with their deliveries."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base, company_column, created_at_column, id_column


class Event(Base):
    """One event, written by a service in the transaction of the change it describes.

    `outbox_id` is drawn when the row is written (in the writer's order); the public `id`
    is given later by the sequencer (events/sequencer.py), one committed batch at a time,
    so ids are handed out in commit order and the feed can never show an id that a later
    commit would slot in behind. `id` is null until then.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("id"),
        Index("ix_events_company_id_id", "company_id", "id"),
        # The sequencer's queue: only the rows it has not numbered yet.
        Index("ix_events_unsequenced", "outbox_id", postgresql_where=text("id IS NULL")),
        Index("ix_events_occurred_at", "occurred_at"),
    )

    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    id: Mapped[int | None] = mapped_column(BigInteger)
    company_id: Mapped[int] = company_column()
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # now() is the transaction's start: every event of one request shares it.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Webhook(Base):
    """A company's subscription: matching events are POSTed, signed, to `url`."""

    __tablename__ = "webhooks"
    __table_args__ = (
        UniqueConstraint("company_id", "id"),
        Index("ix_webhooks_company_id", "company_id"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    secret: Mapped[str] = mapped_column(String(128), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()


class WebhookDelivery(Base):
    """One event for one subscription: its attempts and outcome (the delivery log)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "webhook_id"],
            ["webhooks.company_id", "webhooks.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("webhook_id", "event_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="delivery_status"),
        # The worker's queue: due pending deliveries only.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_event_outbox_id", "event_outbox_id"),
    )

    id: Mapped[int] = id_column()
    company_id: Mapped[int] = company_column()
    webhook_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_outbox_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.outbox_id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'pending'")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A claim: the worker holding it until `lease_until` (a crashed worker's claim expires).
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
