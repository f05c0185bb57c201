"""The ORM models and the Alembic migrations describe the same schema."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_head_revision_is_applied(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        current = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from stockflow.core.migrations import alembic_config

    config: Config = alembic_config("postgresql+asyncpg://unused/unused")
    assert set(current) == set(ScriptDirectory.from_config(config).get_heads())
