from stockflow.core.auth import PrincipalDep
from stockflow.core.routing import resource_router
from stockflow.me.schemas import MeRead

router = resource_router(tags=["me"])


@router.get(
    "/me",
    summary="Who am I: the admin, or which company and key",
    description="Answers for any valid credential, so a client can check a key before "
    "using it and learn the company id its other calls need.",
)
async def get_me(principal: PrincipalDep) -> MeRead:
    if principal.is_admin:
        return MeRead(role="admin", company_id=None, key_id=None)
    return MeRead(role="company", company_id=principal.company_id, key_id=principal.key_id)
