from typing import Annotated

from fastapi import Depends, Query, status

from stockflow.core.auth import CompanyScopeDep, IdPath
from stockflow.core.database import SessionDep
from stockflow.core.errors import problem_responses
from stockflow.core.idempotency import IdempotencyDep
from stockflow.core.pagination import Page, PageParamsDep
from stockflow.core.routing import resource_router
from stockflow.reservations.schemas import (
    CommitRead,
    ReservationCreate,
    ReservationFilters,
    ReservationRead,
    ReservationStatus,
)
from stockflow.reservations.service import ReservationService

router = resource_router(prefix="/companies/{company_id}/reservations", tags=["reservations"])


def get_filters(
    status: Annotated[
        ReservationStatus | None,
        Query(description="Only reservations with this status as of now."),
    ] = None,
) -> ReservationFilters:
    return ReservationFilters(status=status)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Hold stock for an order: every line, or none",
    description="Each line takes from its level's `available` units (on hand minus live "
    "holds); a bundle line holds its leaf components. If any line is short, 409 "
    "`insufficient-stock` and nothing is held. The hold ends when the reservation is "
    "committed (sold), released, or expires (`ttl_seconds`, default 900).",
    responses=problem_responses(404, 409),
)
async def create_reservation(
    data: ReservationCreate, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> ReservationRead:
    await idem.claim(scope.company_id)
    return await ReservationService(session).create(scope.company_id, data)


@router.get(
    "",
    summary="List reservations in id order",
    description="The company's reservations in id order, paginated; `status` filters on "
    "the status as of now (an active reservation past `expires_at` is `expired`).",
    responses=problem_responses(404),
)
async def list_reservations(
    scope: CompanyScopeDep,
    session: SessionDep,
    params: PageParamsDep,
    filters: Annotated[ReservationFilters, Depends(get_filters)],
) -> Page[ReservationRead]:
    return await ReservationService(session).list_page(scope.company_id, filters.status, params)


@router.get(
    "/{reservation_id}",
    summary="One reservation",
    description="One reservation with its lines (bundles as their leaf components); 404 "
    "if it does not exist or is another company's.",
    responses=problem_responses(404),
)
async def get_reservation(
    reservation_id: IdPath, scope: CompanyScopeDep, session: SessionDep
) -> ReservationRead:
    return await ReservationService(session).get(scope.company_id, reservation_id)


@router.post(
    "/{reservation_id}/commit",
    status_code=status.HTTP_201_CREATED,
    summary="Sell what an active reservation holds",
    description="Writes one `sale` ledger entry per line (reference: the reservation's, "
    "else `RES-<id>`) that takes this reservation's own held units; 409 if it is not "
    "active (committed, released or expired) or on-hand stock cannot cover a line.",
    responses=problem_responses(404, 409),
)
async def commit_reservation(
    reservation_id: IdPath, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> CommitRead:
    await idem.claim(scope.company_id)
    return await ReservationService(session).commit(scope.company_id, reservation_id)


@router.post(
    "/{reservation_id}/release",
    summary="Let an active reservation's units go",
    description="409 if it is not active (committed, released or expired).",
    responses=problem_responses(404, 409),
)
async def release_reservation(
    reservation_id: IdPath, scope: CompanyScopeDep, session: SessionDep, idem: IdempotencyDep
) -> ReservationRead:
    await idem.claim(scope.company_id)
    return await ReservationService(session).release(scope.company_id, reservation_id)
