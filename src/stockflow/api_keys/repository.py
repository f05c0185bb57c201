from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import ApiKey


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, company_id: int, name: str | None) -> ApiKey:
        """A key row with a placeholder hash; the caller sets the real one once the id
        (part of the key's text) is known."""
        key = ApiKey(company_id=company_id, name=name, secret_hash="")
        self.session.add(key)
        await self.session.flush()
        await self.session.refresh(key, ["created_at"])
        return key

    async def list_after(self, company_id: int, after: int | None, limit: int) -> list[ApiKey]:
        query = select(ApiKey).where(ApiKey.company_id == company_id)
        if after is not None:
            query = query.where(ApiKey.id > after)
        return list(await self.session.scalars(query.order_by(ApiKey.id).limit(limit)))

    async def revoke(self, company_id: int, key_id: int) -> bool | None:
        """Revoke the key: True if it was live, False if already revoked, None if the
        company has no such key. The revocation trigger tells every worker at commit."""
        revoked = await self.session.scalar(
            update(ApiKey)
            .where(
                ApiKey.company_id == company_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None)
            )
            .values(revoked_at=func.now())
            .returning(ApiKey.id)
        )
        if revoked is not None:
            return True
        exists = await self.session.scalar(
            select(ApiKey.id).where(ApiKey.company_id == company_id, ApiKey.id == key_id)
        )
        return None if exists is None else False

    async def record_usage(self, used: dict[int, datetime]) -> None:
        """Raise each key's `last_used_at` to the given time (never lower it: another
        worker may have written a later one)."""
        await self.session.execute(_RECORD_USAGE, {"ids": list(used), "times": list(used.values())})


# Keys in id order, so two workers flushing at once lock rows in the same order.
_RECORD_USAGE = text(
    """
    UPDATE api_keys AS k
    SET last_used_at = greatest(k.last_used_at, u.used_at)
    FROM unnest(CAST(:ids AS bigint[]), CAST(:times AS timestamptz[])) AS u(id, used_at)
    WHERE k.id = u.id
    """
)
