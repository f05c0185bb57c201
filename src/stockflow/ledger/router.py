from fastapi import status

from stockflow.core.auth import CompanyScopeDep
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.ledger.dependencies import EntryFiltersDep
from stockflow.ledger.schemas import EntriesRead, LedgerEntryRead, MovementCreate, TransferCreate
from stockflow.ledger.service import LedgerService

router = resource_router(prefix="/companies/{company_id}", tags=["ledger"])


@router.post(
    "/stock-movements",
    status_code=status.HTTP_201_CREATED,
    summary="Post a stock movement: all of its lines apply, or none",
    description="Selling a bundle sells its (leaf) components instead. A line that would "
    "take a level below zero fails the whole movement with 409 `insufficient-stock`.",
    responses=problem_responses(404, 409),
)
async def post_movement(
    data: MovementCreate, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> EntriesRead:
    await idem.claim(scope.company_id)
    return await LedgerService(session).post_movement(scope.company_id, data)


@router.get(
    "/stock-movements",
    summary="List ledger entries, newest first unless order=asc",
    responses=problem_responses(404),
)
async def list_movements(
    scope: CompanyScopeDep, session: SessionDep, params: PageParamsDep, filters: EntryFiltersDep
) -> Page[LedgerEntryRead]:
    return await LedgerService(session).list_entries(scope.company_id, filters, params)


@router.post(
    "/stock-transfers",
    status_code=status.HTTP_201_CREATED,
    summary="Move stock between two warehouses (a transfer_out and a transfer_in entry)",
    responses=problem_responses(404, 409),
)
async def post_transfer(
    data: TransferCreate, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> EntriesRead:
    await idem.claim(scope.company_id)
    return await LedgerService(session).post_transfer(scope.company_id, data)
