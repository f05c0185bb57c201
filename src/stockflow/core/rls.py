"""Row-level security for tenant tables: the SQL that migrations run.

Every tenant-owned table gets ENABLE + FORCE row level security (FORCE binds the table's
owner too) and one policy: a row is visible and writable when its company is the
transaction's company (`stockflow.company_id`, set by `core.tenancy.scope_to_company`), or
when the transaction is in the admin scope (`stockflow.admin` = 'on', set by
`scope_to_admin`). Outside both, a table looks empty and inserts are refused.

The settings are read in scalar sub-selects so PostgreSQL evaluates them once per
statement (an InitPlan), not once per row: the policy then costs one comparison per row.

A later migration enables RLS on its new table with
`enable_tenant_rls(op, "purchase_orders")`.
"""

from typing import Any

from stockflow.core.tenancy import ADMIN_SETTING, TENANT_SETTING

POLICY_NAME = "tenant_isolation"
APP_ROLE_DEFAULT = "stockflow_app"

_TENANT = f"(SELECT nullif(current_setting('{TENANT_SETTING}', true), '')::bigint)"
_ADMIN = f"(SELECT coalesce(current_setting('{ADMIN_SETTING}', true), '') = 'on')"


def tenant_predicate(column: str = "company_id") -> str:
    """The policy's condition for a table whose tenant is in `column`."""
    return f"({column} = {_TENANT} OR {_ADMIN})"


def enable_tenant_rls_sql(table: str, column: str = "company_id") -> list[str]:
    """ENABLE + FORCE RLS on `table` and its tenant policy (`column` names the company;
    `companies` itself uses `id`). Idempotent: the policy is replaced if present.
    One statement each (the driver runs one per call)."""
    predicate = tenant_predicate(column)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}",
        f"CREATE POLICY {POLICY_NAME} ON {table} USING {predicate} WITH CHECK {predicate}",
    ]


def disable_tenant_rls_sql(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def enable_tenant_rls(op: Any, table: str, column: str = "company_id") -> None:
    """In a migration: `enable_tenant_rls(op, "purchase_orders")`."""
    for statement in enable_tenant_rls_sql(table, column):
        op.execute(statement)


def create_app_role_sql(role: str) -> list[str]:
    """Create the application's role if missing (roles are cluster-wide, so two
    migrations may race: the loser's duplicate error is ignored), and let the migrating
    user act as it (needed to connect with `role=<role>`). `role` is a plain identifier
    (Settings.db_role's pattern)."""
    return [
        f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$""",  # noqa: S608
        f"""
DO $$
BEGIN
    IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', '{role}', current_user);
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$""",
    ]


def grant_app_role_sql(role: str) -> list[str]:
    """What the app may do: read and write every table, except that the ledger is
    append-only (no UPDATE, DELETE or TRUNCATE). Default privileges give the same
    rights on tables and sequences that later migrations create."""
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON ledger_entries FROM {role}",
    ]
