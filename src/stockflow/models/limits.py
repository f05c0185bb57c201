from datetime import datetime

from sqlalchemy import DateTime, Float, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from stockflow.models.base import Base


class RateLimitBucket(Base):
    """One credential's token bucket (SPEC "Limits"), keyed by the SHA-256 of its token.

    UNLOGGED: written on every counted request, and a bucket lost in a crash only means a
    full bucket again."""

    __tablename__ = "rate_limit_buckets"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    credential: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
