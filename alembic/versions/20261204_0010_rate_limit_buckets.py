"""rate-limit token buckets, shared by every worker (UNLOGGED: losing them on a crash is fine)

Revision ID: 0010
Revises: 0002
Create Date: 2026-12-04 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not tenant data: keyed by a hash of the credential, never by company.
    op.create_table(
        "rate_limit_buckets",
        sa.Column("credential", sa.LargeBinary(), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
