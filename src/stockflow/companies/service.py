from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.companies.repository import CompanyRepository
from stockflow.companies.schemas import CompanyCreate, CompanyCreated, CompanyRead
from stockflow.core.auth import new_api_key
from stockflow.core.errors import NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.core.tenancy import scope_to_admin


class CompanyService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = CompanyRepository(session)

    async def create(self, data: CompanyCreate) -> CompanyCreated:
        # The company's id is not known until it is inserted: an admin-wide act.
        await scope_to_admin(self.repo.session)
        company = await self.repo.add(data.name)
        key_row = await self.repo.add_api_key(company.id)
        api_key, key_row.secret_hash = new_api_key(key_row.id)
        await self.repo.session.flush()
        return CompanyCreated(
            id=company.id, name=company.name, created_at=company.created_at, api_key=api_key
        )

    async def list_page(self, params: PageParams) -> Page[CompanyRead]:
        after = params.after()
        rows = await self.repo.list_page(after[0] if after else None, params.limit + 1)
        page, next_cursor = page_of(rows, params, lambda c: (c.id,))
        return Page[CompanyRead](
            items=[CompanyRead.model_validate(c) for c in page], next_cursor=next_cursor
        )

    async def get(self, company_id: int) -> CompanyRead:
        company = await self.repo.get(company_id)
        if company is None:
            raise NotFound(f"Company {company_id} not found.")
        return CompanyRead.model_validate(company)
