"""Background loops that run inside every `stockflow serve` worker (no extra process).

Each job is a short `claim → do → record` cycle: it claims rows with
`FOR UPDATE SKIP LOCKED` (and, where the work outlives the transaction, a lease), does
the work, records the outcome, and returns how many items it handled. A job that handled
a full batch runs again at once; otherwise it sleeps its interval. A job that raises (the
database is down, say) is logged once per failure and retried with a capped exponential
backoff: a loop survives an outage, it never dies silently.

Jobs are registered in `stockflow.main` (`BACKGROUND_JOBS`) and started by the app's
lifespan, one task per job per worker; several workers running the same job is safe by
construction of each job's claim.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stockflow.core.settings import Settings

log = structlog.get_logger(__name__)

_MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the worker's engine, its sessionmaker and the settings."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings


@dataclass(frozen=True)
class Job:
    """`run(ctx)` does one batch and returns the number of items it handled; when that
    reaches `batch_size` there may be more, so it runs again without sleeping."""

    name: str
    run: Callable[[JobContext], Awaitable[int]]
    interval_seconds: float = 5.0
    batch_size: int = 500
    # A job of this worker to wake at once after a run that handled anything (the
    # sequencer wakes the webhook delivery it has just queued work for), instead of
    # leaving it to its next interval.
    wakes: str | None = None


class BackgroundRunner:
    """Runs `jobs` as one asyncio task each until `stop()`."""

    def __init__(self, ctx: JobContext, jobs: Sequence[Job]) -> None:
        self.ctx = ctx
        self.jobs = list(jobs)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._wake = {job.name: asyncio.Event() for job in self.jobs}

    def start(self) -> None:
        for job in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"stockflow:{job.name}"))

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def run_once(self, name: str) -> int:
        """Run one batch of the job `name` now (tests and the CLI use this)."""
        job = next(j for j in self.jobs if j.name == name)
        return await job.run(self.ctx)

    async def _loop(self, job: Job) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                handled = await job.run(self.ctx)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = min(_MAX_BACKOFF_SECONDS, job.interval_seconds * 2 ** min(failures, 10))
                log.warning(
                    "background_job_failed",
                    job=job.name,
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    retry_in_seconds=round(delay, 1),
                )
            else:
                failures = 0
                delay = 0.0 if handled >= job.batch_size else job.interval_seconds
                if handled and job.wakes in self._wake:
                    self._wake[job.wakes].set()
            if delay:
                await self._sleep(job.name, delay)
            else:
                await asyncio.sleep(0)  # let requests run between full batches

    async def _sleep(self, name: str, delay: float) -> None:
        """Until `delay` passes, the runner stops, or another job wakes this one."""
        wake = self._wake[name]
        waits = [asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(wake.wait())]
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        wake.clear()
