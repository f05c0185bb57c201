from fastapi import status

from stockflow.companies.schemas import CompanyCreate, CompanyCreated, CompanyRead
from stockflow.companies.service import CompanyService
from stockflow.core.auth import AdminDep, CompanyScopeDep
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router

router = resource_router(prefix="/companies", tags=["companies"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a company (admin only); its API key is returned this once",
    description="The answer's `api_key` is the company's first API key; it is not stored "
    "and cannot be shown again. `Idempotency-Key` is not honoured here (the key is a "
    "secret shown once).",
    responses=problem_responses(403),
)
async def create_company(data: CompanyCreate, _: AdminDep, session: SessionDep) -> CompanyCreated:
    return await CompanyService(session).create(data)


@router.get(
    "",
    summary="List companies (admin only)",
    description="Every tenant, in id order, paginated with `limit` and `cursor`.",
    responses=problem_responses(403),
)
async def list_companies(
    _: AdminDep, session: SessionDep, params: PageParamsDep
) -> Page[CompanyRead]:
    return await CompanyService(session).list_page(params)


@router.get(
    "/{company_id}",
    summary="Get a company",
    description="The admin may read any company; a company key only its own (404 otherwise).",
    responses=problem_responses(404),
)
async def get_company(scope: CompanyScopeDep, session: SessionDep) -> CompanyRead:
    return await CompanyService(session).get(scope.company_id)
