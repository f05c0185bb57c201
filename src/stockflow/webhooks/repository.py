from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.models import Webhook, WebhookDelivery


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, company_id: int, fields: dict[str, Any]) -> Webhook:
        webhook = Webhook(company_id=company_id, **fields)
        self.session.add(webhook)
        await self.session.flush()
        await self.session.refresh(webhook)
        return webhook

    async def get(self, company_id: int, webhook_id: int) -> Webhook | None:
        return await self.session.scalar(
            select(Webhook).where(Webhook.company_id == company_id, Webhook.id == webhook_id)
        )

    async def list_page(self, company_id: int, after_id: int | None, limit: int) -> list[Webhook]:
        stmt = select(Webhook).where(Webhook.company_id == company_id)
        if after_id is not None:
            stmt = stmt.where(Webhook.id > after_id)
        return list(await self.session.scalars(stmt.order_by(Webhook.id).limit(limit)))

    async def delete(self, webhook: Webhook) -> None:
        await self.session.delete(webhook)
        await self.session.flush()

    async def deliveries(
        self, company_id: int, webhook_id: int, before_event_id: int | None, limit: int
    ) -> list[WebhookDelivery]:
        """Newest event first (keyset on the event id, unique per subscription)."""
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.company_id == company_id, WebhookDelivery.webhook_id == webhook_id
        )
        if before_event_id is not None:
            stmt = stmt.where(WebhookDelivery.event_id < before_event_id)
        stmt = stmt.order_by(WebhookDelivery.event_id.desc()).limit(limit)
        return list(await self.session.scalars(stmt))
