from fastapi import Request, Response, status

from stockflow.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from stockflow.api_keys.service import ApiKeyService
from stockflow.core.auth import CompanyScopeDep, IdPath, key_cache
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router

router = resource_router(prefix="/companies/{company_id}/api-keys", tags=["api-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; the key is returned this once",
    description="The admin or any live key of the company may create keys. The response "
    "holds the secret once; only a hash of it is stored. No `Idempotency-Key` (the answer "
    "holds a secret).",
    responses=problem_responses(404),
)
async def create_api_key(
    scope: CompanyScopeDep, session: SessionDep, data: ApiKeyCreate | None = None
) -> ApiKeyCreated:
    return await ApiKeyService(session).create(scope.company_id, data or ApiKeyCreate())


@router.get(
    "",
    summary="List the company's API keys (revoked ones too), never a secret",
    responses=problem_responses(404),
)
async def list_api_keys(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep
) -> Page[ApiKeyRead]:
    return await ApiKeyService(session).page(scope.company_id, params)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    description="From then on the key is 401 everywhere: at once on this server process, "
    "within one second on every other, also for the key that sent this request. Revoking "
    "a revoked key is again 204; a key of another company is 404.",
    responses=problem_responses(404),
)
async def revoke_api_key(
    key_id: IdPath, scope: CompanyScopeDep, session: SessionDep, request: Request
) -> Response:
    await ApiKeyService(session).revoke(scope.company_id, key_id)
    # This worker forgets the key now; the others when the commit's NOTIFY reaches them.
    key_cache(request.app).drop(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
