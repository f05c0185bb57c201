"""row-level security on the tables of purchasing and events (0012, 0014)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

from stockflow.core.rls import enable_tenant_rls

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ["purchase_orders", "purchase_order_lines", "events", "webhooks", "webhook_deliveries"]


def upgrade() -> None:
    for table in TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
