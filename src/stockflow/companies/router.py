from fastapi import status

from stockflow.companies.schemas import CompanyCreate, CompanyCreated, CompanyRead
from stockflow.companies.service import CompanyService
from stockflow.core.auth import AdminDep, CompanyScopeDep
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.routing import resource_router

router = resource_router(prefix="/companies", tags=["companies"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a company (admin only); its API key is returned this once",
    responses=problem_responses(403),
)
async def create_company(data: CompanyCreate, _: AdminDep, session: SessionDep) -> CompanyCreated:
    return await CompanyService(session).create(data)


@router.get("/{company_id}", summary="Get a company", responses=problem_responses(404))
async def get_company(scope: CompanyScopeDep, session: SessionDep) -> CompanyRead:
    return await CompanyService(session).get(scope.company_id)
