from typing import Annotated

from fastapi import Body

from stockflow.bundles.schemas import MAX_COMPONENTS, ComponentLine, ComponentRead
from stockflow.bundles.service import BundleService
from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.routing import resource_router

router = resource_router(tags=["bundles"])


@router.put(
    "/companies/{company_id}/products/{product_id}/components",
    summary="Replace a bundle's components (an empty list clears them)",
    responses=problem_responses(404),
)
async def put_components(
    product_id: IdPath,
    lines: Annotated[list[ComponentLine], Body(max_length=MAX_COMPONENTS)],
    scope: CompanyScopeDep,
    session: SessionDep,
) -> list[ComponentRead]:
    return await BundleService(session).replace_components(scope.company_id, product_id, lines)
