import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.core.errors import InvalidInput, NotFound
from stockflow.core.pagination import Page, PageParams, page_of
from stockflow.models import Webhook
from stockflow.webhooks.addresses import UnsafeAddress, check_public
from stockflow.webhooks.repository import WebhookRepository
from stockflow.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookService:
    def __init__(self, session: AsyncSession, allow_private: bool) -> None:
        self.repo = WebhookRepository(session)
        self.allow_private = allow_private

    async def _check_url(self, url: str) -> None:
        if self.allow_private:
            return
        try:
            await check_public(url)
        except UnsafeAddress as exc:
            detail = f"The webhook url is refused: {exc}."
            raise InvalidInput(detail, errors=[{"loc": ["body", "url"], "msg": str(exc)}]) from exc

    async def create(self, company_id: int, data: WebhookCreate) -> WebhookCreated:
        await self._check_url(data.url)
        fields = data.model_dump()
        fields["event_types"] = list(dict.fromkeys(fields["event_types"]))
        webhook = await self.repo.add(company_id, {**fields, "secret": new_secret()})
        return WebhookCreated.model_validate(webhook)

    async def page(self, company_id: int, params: PageParams) -> Page[WebhookRead]:
        after = params.after()
        rows = await self.repo.list_page(company_id, after[0] if after else None, params.limit + 1)
        items, cursor = page_of(rows, params, lambda w: [w.id])
        return Page[WebhookRead](
            items=[WebhookRead.model_validate(w) for w in items], next_cursor=cursor
        )

    async def get(self, company_id: int, webhook_id: int) -> WebhookRead:
        return WebhookRead.model_validate(await self._get(company_id, webhook_id))

    async def update(self, company_id: int, webhook_id: int, data: WebhookUpdate) -> WebhookRead:
        webhook = await self._get(company_id, webhook_id)
        changes = data.model_dump(exclude_unset=True)
        if "url" in changes:
            await self._check_url(changes["url"])
        if "event_types" in changes:
            changes["event_types"] = list(dict.fromkeys(changes["event_types"]))
        for name, value in changes.items():
            setattr(webhook, name, value)
        await self.repo.session.flush()
        return WebhookRead.model_validate(webhook)

    async def delete(self, company_id: int, webhook_id: int) -> None:
        await self.repo.delete(await self._get(company_id, webhook_id))

    async def deliveries(
        self, company_id: int, webhook_id: int, params: PageParams
    ) -> Page[DeliveryRead]:
        await self._get(company_id, webhook_id)
        before = params.after()
        rows = await self.repo.deliveries(
            company_id, webhook_id, before[0] if before else None, params.limit + 1
        )
        items, cursor = page_of(rows, params, lambda d: [d.event_id])
        return Page[DeliveryRead](
            items=[DeliveryRead.model_validate(d) for d in items], next_cursor=cursor
        )

    async def _get(self, company_id: int, webhook_id: int) -> Webhook:
        webhook = await self.repo.get(company_id, webhook_id)
        if webhook is None:
            raise NotFound(f"Webhook {webhook_id} not found.")
        return webhook
