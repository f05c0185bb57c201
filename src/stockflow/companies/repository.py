from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import ApiKey, Company


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str) -> Company:
        company = Company(name=name)
        self.session.add(company)
        await self.session.flush()
        await self.session.refresh(company, ["created_at"])
        return company

    async def get(self, company_id: int) -> Company | None:
        return await self.session.scalar(select(Company).where(Company.id == company_id))

    async def list_page(self, after_id: int | None, limit: int) -> Sequence[Company]:
        stmt = select(Company)
        if after_id is not None:
            stmt = stmt.where(Company.id > after_id)
        return (await self.session.scalars(stmt.order_by(Company.id).limit(limit))).all()

    async def add_api_key(self, company_id: int) -> ApiKey:
        """A key row with a placeholder hash; the caller sets the real one once the id
        (part of the key's text) is known."""
        key = ApiKey(company_id=company_id, secret_hash="")
        self.session.add(key)
        await self.session.flush()
        return key
