from typing import Annotated

from fastapi import Depends, Request

from stockflow.core.database import SessionDep
from stockflow.webhooks.service import WebhookService


def get_webhook_service(request: Request, session: SessionDep) -> WebhookService:
    return WebhookService(session, request.app.state.settings.webhook_allow_private)


WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]
