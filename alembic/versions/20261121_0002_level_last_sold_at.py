"""levels remember their last sale; sales indexed per level

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "inventory_levels", sa.Column("last_sold_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Existing ledgers: each level's latest sale, from the entries themselves.
    op.execute(
        """
        UPDATE inventory_levels AS l
        SET last_sold_at = s.last_sold_at
        FROM (
            SELECT product_id, warehouse_id, max(occurred_at) AS last_sold_at
            FROM ledger_entries
            WHERE reason = 'sale'
            GROUP BY product_id, warehouse_id
        ) AS s
        WHERE l.product_id = s.product_id AND l.warehouse_id = s.warehouse_id
        """
    )
    op.create_index(
        "ix_inventory_levels_company_id_last_sold_at",
        "inventory_levels",
        ["company_id", "last_sold_at"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_entries_sales_by_level",
        "ledger_entries",
        ["product_id", "warehouse_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("reason = 'sale'"),
        postgresql_include=["delta"],
    )
    op.drop_index(
        "ix_ledger_entries_sales_window",
        table_name="ledger_entries",
        postgresql_where=sa.text("reason = 'sale'"),
        postgresql_include=["product_id", "warehouse_id", "delta"],
    )


def downgrade() -> None:
    op.create_index(
        "ix_ledger_entries_sales_window",
        "ledger_entries",
        ["company_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("reason = 'sale'"),
        postgresql_include=["product_id", "warehouse_id", "delta"],
    )
    op.drop_index(
        "ix_ledger_entries_sales_by_level",
        table_name="ledger_entries",
        postgresql_where=sa.text("reason = 'sale'"),
        postgresql_include=["delta"],
    )
    op.drop_index("ix_inventory_levels_company_id_last_sold_at", table_name="inventory_levels")
    op.drop_column("inventory_levels", "last_sold_at")
