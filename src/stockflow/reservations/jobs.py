"""The expiry job: folds lapsed reservations out of `reserved` in batches.

Availability never waits for it (readers subtract lapsed holds themselves); it only
keeps that subtraction small and moves the stored status to `expired`."""

from stockflow.core.background import Job, JobContext
from stockflow.core.tenancy import scope_to_admin
from stockflow.reservations.service import ReservationService

EXPIRY_BATCH = 500


async def expire_reservations(ctx: JobContext) -> int:
    async with ctx.sessionmaker() as session, session.begin():
        await scope_to_admin(session)
        return await ReservationService(session).expire_lapsed(EXPIRY_BATCH)


EXPIRY_JOB = Job(
    "reservations.expire", expire_reservations, interval_seconds=2.0, batch_size=EXPIRY_BATCH
)
