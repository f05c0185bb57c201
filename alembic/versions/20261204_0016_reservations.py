"""reservations: held stock per level, reservations and their lines (with row-level
security, and the app role's rights on them)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stockflow.core.rls import disable_tenant_rls_sql, enable_tenant_rls
from stockflow.core.settings import get_settings

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ["reservations", "reservation_lines"]


def upgrade() -> None:
    op.add_column(
        "inventory_levels",
        sa.Column("reserved", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_inventory_levels_reserved_not_negative"), "inventory_levels", "reserved >= 0"
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'committed', 'released', 'expired')",
            name=op.f("ck_reservations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_reservations_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("company_id", "id", name=op.f("uq_reservations_company_id_id")),
    )
    op.create_index(
        "ix_reservations_active_expires_at",
        "reservations",
        ["company_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_reservations_expires_at_active",
        "reservations",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "reservation_lines",
        sa.Column("reservation_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservation_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["company_id", "product_id"],
            ["products.company_id", "products.id"],
            name=op.f("fk_reservation_lines_company_id_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "reservation_id"],
            ["reservations.company_id", "reservations.id"],
            name=op.f("fk_reservation_lines_company_id_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_reservation_lines_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id", "warehouse_id"],
            ["inventory_levels.product_id", "inventory_levels.warehouse_id"],
            name="fk_reservation_lines_level",
        ),
        sa.PrimaryKeyConstraint(
            "reservation_id", "product_id", "warehouse_id", name=op.f("pk_reservation_lines")
        ),
    )
    for table in TABLES:
        enable_tenant_rls(op, table)
    # 0011's default privileges already cover tables created by the same migrating user;
    # granting explicitly keeps the app working when another owner runs this one.
    role = get_settings().db_role
    if role:
        for table in TABLES:
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE reservations_id_seq TO {role}")


def downgrade() -> None:
    for table in TABLES:
        for statement in disable_tenant_rls_sql(table):
            op.execute(statement)
    op.drop_table("reservation_lines")
    op.drop_index(
        "ix_reservations_expires_at_active",
        table_name="reservations",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(
        "ix_reservations_active_expires_at",
        table_name="reservations",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_table("reservations")
    op.drop_constraint(
        op.f("ck_inventory_levels_reserved_not_negative"), "inventory_levels", type_="check"
    )
    op.drop_column("inventory_levels", "reserved")
