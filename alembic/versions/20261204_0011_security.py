"""security: API key lifecycle, row-level security, the app role, an append-only ledger

Revision ID: 0011
Revises: 0002
Create Date: 2026-12-04 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stockflow.core.rls import (
    create_app_role_sql,
    disable_tenant_rls_sql,
    enable_tenant_rls,
    grant_app_role_sql,
)
from stockflow.core.settings import get_settings

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table of this revision with a company_id; `companies` is keyed by its own id.
# Later migrations call enable_tenant_rls_sql() for their own new tables.
TENANT_TABLES = [
    "api_keys",
    "warehouses",
    "product_types",
    "products",
    "bundle_components",
    "suppliers",
    "product_suppliers",
    "inventory_levels",
    "ledger_entries",
    "idempotency_records",
]

# Auth looks a key up before any tenant is known: this one function may read every
# company's keys. It turns the admin scope on for its one query and back to what it was
# before returning, so the caller's transaction never gains the admin scope. (A function
# `SET stockflow.admin = on` clause would be neater, but PostgreSQL lets only superusers
# attach custom settings to functions, and the owner need not be one.)
KEY_LOOKUP = """
CREATE OR REPLACE FUNCTION stockflow_api_key(key_id bigint)
RETURNS TABLE (company_id bigint, secret_hash varchar)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    previous text := current_setting('stockflow.admin', true);
BEGIN
    PERFORM set_config('stockflow.admin', 'on', true);
    RETURN QUERY
        SELECT k.company_id, k.secret_hash FROM api_keys AS k
        WHERE k.id = key_id AND k.revoked_at IS NULL;
    PERFORM set_config('stockflow.admin', coalesce(previous, ''), true);
END
$$
"""

# Every worker LISTENs on this channel and drops a revoked key from its cache; the
# trigger also covers keys revoked (or deleted) in SQL directly. pg_notify is delivered
# at commit, so no worker forgets a key whose revocation rolls back.
REVOKE_NOTIFY = """
CREATE OR REPLACE FUNCTION stockflow_api_key_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stockflow_api_keys', OLD.id::text);
    RETURN NULL;
END
$$
"""
REVOKE_TRIGGER = """
CREATE TRIGGER api_keys_revoked
    AFTER UPDATE OF revoked_at OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION stockflow_api_key_revoked()
"""


def _sales_index(include: list[str]) -> None:
    op.drop_index(
        "ix_ledger_entries_sales_by_level",
        table_name="ledger_entries",
        postgresql_where=sa.text("reason = 'sale'"),
    )
    op.create_index(
        "ix_ledger_entries_sales_by_level",
        "ledger_entries",
        ["product_id", "warehouse_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("reason = 'sale'"),
        postgresql_include=include,
    )


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("name", sa.String(length=255), nullable=True))
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_api_keys_company_id_id", "api_keys", ["company_id", "id"], unique=False)
    op.create_foreign_key(
        "fk_ledger_entries_company_id_bundle_id_products",
        "ledger_entries",
        "products",
        ["company_id", "bundle_id"],
        ["company_id", "id"],
    )
    # RLS reads company_id on every row a query touches; the report's sales index gains
    # it so the report's scan stays index-only (otherwise: one table visit per sale).
    _sales_index(["delta", "company_id"])
    op.execute(KEY_LOOKUP)
    op.execute(REVOKE_NOTIFY)
    op.execute(REVOKE_TRIGGER)
    enable_tenant_rls(op, "companies", column="id")
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)
    role = get_settings().db_role
    if role:
        for statement in [*create_app_role_sql(role), *grant_app_role_sql(role)]:
            op.execute(statement)


def downgrade() -> None:
    for table in [*TENANT_TABLES, "companies"]:
        for statement in disable_tenant_rls_sql(table):
            op.execute(statement)
    op.execute("DROP TRIGGER IF EXISTS api_keys_revoked ON api_keys")
    op.execute("DROP FUNCTION IF EXISTS stockflow_api_key_revoked()")
    op.execute("DROP FUNCTION IF EXISTS stockflow_api_key(bigint)")
    op.drop_constraint(
        "fk_ledger_entries_company_id_bundle_id_products", "ledger_entries", type_="foreignkey"
    )
    _sales_index(["delta"])
    op.drop_index("ix_api_keys_company_id_id", table_name="api_keys")
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("api_keys", "name")
