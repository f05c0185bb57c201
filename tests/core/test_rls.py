"""Row-level security: the database keeps tenants apart even if the app forgets to."""

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.tenancy import scope_to_admin, scope_to_company


async def test_every_tenant_table_has_forced_rls(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = set(
            await conn.scalars(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND column_name = 'company_id'"
                )
            )
        ) | {"companies"}
        rows = (
            await conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                    "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relname = ANY(:tables)"
                ),
                {"tables": sorted(tables)},
            )
        ).all()
    assert {r.relname for r in rows} == tables
    unprotected = [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)]
    assert unprotected == [], f"tables without ENABLE + FORCE row level security: {unprotected}"
    assert [r.relname for r in rows if r.policies == 0] == []


async def test_the_app_role_is_bound_by_rls(app_engine: AsyncEngine) -> None:
    async with app_engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
    assert row.name == "stockflow_app"
    assert not row.rolsuper
    assert not row.rolbypassrls


@pytest.fixture
async def two_tenants(committed_app: FastAPI, engine: AsyncEngine) -> tuple[int, int]:
    """Companies A and B with a warehouse each, written by the owner (committed; the
    committed_app fixture empties the tables afterwards)."""
    async with engine.begin() as conn:
        a, b = (
            await conn.scalars(
                text("INSERT INTO companies (name) VALUES ('A'), ('B') RETURNING id")
            )
        ).all()
        await conn.execute(
            text("INSERT INTO warehouses (company_id, name) VALUES (:a, 'WA'), (:b, 'WB')"),
            {"a": a, "b": b},
        )
    return a, b


async def test_an_unscoped_select_sees_only_the_current_tenant(
    two_tenants: tuple[int, int], app_engine: AsyncEngine
) -> None:
    a, b = two_tenants
    unscoped = text("SELECT company_id, name FROM warehouses ORDER BY id")
    async with app_engine.connect() as conn:
        # No scope at all: nothing is visible.
        assert (await conn.execute(unscoped)).all() == []
        await conn.rollback()

        await scope_to_company(conn, a)  # type: ignore[arg-type]
        assert [tuple(r) for r in (await conn.execute(unscoped)).all()] == [(a, "WA")]
        assert (await conn.scalar(text("SELECT count(*) FROM companies"))) == 1
        await conn.rollback()

        # The scope ended with the transaction.
        assert (await conn.execute(unscoped)).all() == []
        await conn.rollback()

        await scope_to_admin(conn)  # type: ignore[arg-type]
        assert {r.company_id for r in (await conn.execute(unscoped)).all()} == {a, b}


async def test_inserting_another_tenants_row_is_refused(
    two_tenants: tuple[int, int], app_engine: AsyncEngine
) -> None:
    a, b = two_tenants
    async with app_engine.connect() as conn:
        await scope_to_company(conn, a)  # type: ignore[arg-type]
        with pytest.raises(DBAPIError) as refused:
            await conn.execute(
                text("INSERT INTO warehouses (company_id, name) VALUES (:b, 'sneaky')"), {"b": b}
            )
        assert "row-level security" in str(refused.value)
        await conn.rollback()

        # Nor can a row be moved to another tenant.
        await scope_to_company(conn, a)  # type: ignore[arg-type]
        with pytest.raises(DBAPIError):
            await conn.execute(
                text("UPDATE warehouses SET company_id = :b WHERE company_id = :a"),
                {"a": a, "b": b},
            )
        await conn.rollback()


async def test_the_ledger_is_append_only_for_the_app(
    committed_client,
    app_engine: AsyncEngine,  # type: ignore[no-untyped-def]
) -> None:
    company = (await committed_client.post("/api/companies", json={"name": "L"})).json()["id"]
    wid = (
        await committed_client.post(f"/api/companies/{company}/warehouses", json={"name": "W"})
    ).json()["id"]
    r = await committed_client.post(
        f"/api/companies/{company}/products",
        json={
            "name": "P",
            "sku": "APPEND-ONLY-1",
            "price": "1.00",
            "warehouse_id": wid,
            "initial_quantity": 3,
        },
    )
    assert r.status_code == 201, r.text
    for statement in ("UPDATE ledger_entries SET reference = 'x'", "DELETE FROM ledger_entries"):
        async with app_engine.connect() as conn:
            await scope_to_admin(conn)  # type: ignore[arg-type]
            with pytest.raises(DBAPIError) as refused:
                await conn.execute(text(statement))
            assert "permission denied" in str(refused.value)
    async with app_engine.connect() as conn:
        await scope_to_admin(conn)  # type: ignore[arg-type]
        assert await conn.scalar(text("SELECT count(*) FROM ledger_entries")) == 1


async def test_the_key_lookup_does_not_leave_the_admin_scope_behind(
    two_tenants: tuple[int, int], app_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    a, _ = two_tenants
    async with engine.begin() as conn:
        key_id = await conn.scalar(
            text("INSERT INTO api_keys (company_id, secret_hash) VALUES (:a, 'h') RETURNING id"),
            {"a": a},
        )
    async with app_engine.connect() as conn:
        found = (
            await conn.execute(text("SELECT * FROM stockflow_api_key(:id)"), {"id": key_id})
        ).all()
        assert [tuple(r) for r in found] == [(a, "h")]
        assert await conn.scalar(text("SELECT count(*) FROM companies")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM api_keys")) == 0
