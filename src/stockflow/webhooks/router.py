from fastapi import Response, status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.errors import problem_responses
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.webhooks.dependencies import WebhookServiceDep
from stockflow.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = resource_router(prefix="/companies/{company_id}", tags=["webhooks"])


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a url to events",
    description="Answers with the `whsec_` signing secret, shown only here. Each matching "
    "event is POSTed as JSON with `StockFlow-Event-Id`, `StockFlow-Event-Type` and "
    '`StockFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. '
    "A url whose host is not a global address is 422 (unless the server allows private "
    "addresses). `Idempotency-Key` is not honoured: the secret is shown once.",
    responses=problem_responses(404),
)
async def create_webhook(
    data: WebhookCreate, scope: CompanyScopeDep, service: WebhookServiceDep
) -> WebhookCreated:
    return await service.create(scope.company_id, data)


@router.get("/webhooks", summary="List the subscriptions", responses=problem_responses(404))
async def list_webhooks(
    scope: CompanyScopeDep, service: WebhookServiceDep, params: PageParamsDep
) -> Page[WebhookRead]:
    return await service.page(scope.company_id, params)


@router.get(
    "/webhooks/{webhook_id}", summary="Get a subscription", responses=problem_responses(404)
)
async def get_webhook(
    webhook_id: IdPath, scope: CompanyScopeDep, service: WebhookServiceDep
) -> WebhookRead:
    return await service.get(scope.company_id, webhook_id)


@router.patch(
    "/webhooks/{webhook_id}",
    summary="Change a subscription's url, types, description or activity",
    responses=problem_responses(404),
)
async def update_webhook(
    webhook_id: IdPath, data: WebhookUpdate, scope: CompanyScopeDep, service: WebhookServiceDep
) -> WebhookRead:
    return await service.update(scope.company_id, webhook_id, data)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription and its delivery log",
    responses=problem_responses(404),
)
async def delete_webhook(
    webhook_id: IdPath, scope: CompanyScopeDep, service: WebhookServiceDep
) -> Response:
    await service.delete(scope.company_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="The delivery log, newest event first",
    responses=problem_responses(404),
)
async def list_deliveries(
    webhook_id: IdPath, scope: CompanyScopeDep, service: WebhookServiceDep, params: PageParamsDep
) -> Page[DeliveryRead]:
    return await service.deliveries(scope.company_id, webhook_id, params)
