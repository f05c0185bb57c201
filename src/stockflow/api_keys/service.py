from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.api_keys.repository import ApiKeyRepository
from stockflow.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from stockflow.core.auth import new_api_key
from stockflow.core.background import JobContext
from stockflow.core.errors import NotFound
from stockflow.core.key_usage import KEY_USAGE
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import scope_to_admin


class ApiKeyService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ApiKeyRepository(session)

    async def create(self, company_id: int, data: ApiKeyCreate) -> ApiKeyCreated:
        key = await self.repo.add(company_id, data.name)
        api_key, key.secret_hash = new_api_key(key.id)
        await self.repo.session.flush()
        return ApiKeyCreated(id=key.id, name=key.name, created_at=key.created_at, api_key=api_key)

    async def page(self, company_id: int, params: PageParams) -> Page[ApiKeyRead]:
        after = params.after()
        rows = await self.repo.list_after(company_id, after[0] if after else None, params.limit + 1)
        items, cursor = page_of(rows, params, lambda k: [k.id])
        return Page[ApiKeyRead](
            items=[ApiKeyRead.model_validate(k) for k in items], next_cursor=cursor
        )

    async def revoke(self, company_id: int, key_id: int) -> bool:
        """Revoke (idempotently); True if this call revoked it. 404 for a key that is
        not the company's."""
        outcome = await self.repo.revoke(company_id, key_id)
        if outcome is None:
            raise NotFound(f"API key {key_id} not found.")
        return outcome


async def flush_key_usage(ctx: JobContext) -> int:
    """Background job: write this worker's batched `last_used_at` times."""
    used = KEY_USAGE.take()
    if not used:
        return 0
    try:
        async with ctx.sessionmaker() as session, session.begin():
            await scope_to_admin(session)  # keys of every company
            await ApiKeyRepository(session).record_usage(dict(sorted(used.items())))
    except BaseException:
        KEY_USAGE.give_back(used)
        raise
    return len(used)
