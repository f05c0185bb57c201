"""The background runner: full batches run again at once, failures back off, stop ends it."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from stockflow.core.background import BackgroundRunner, Job, JobContext
from stockflow.core.database import create_sessionmaker
from stockflow.core.settings import Settings


async def test_full_batches_repeat_and_failures_back_off(
    engine: AsyncEngine, settings: Settings
) -> None:
    calls: list[str] = []
    remaining = [3]

    async def drain(_: JobContext) -> int:
        calls.append("drain")
        if remaining[0] == 0:
            return 0
        remaining[0] -= 1
        return 10  # a full batch: there may be more

    async def flaky(_: JobContext) -> int:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise ConnectionRefusedError("database down")
        return 0

    ctx = JobContext(engine, create_sessionmaker(engine), settings)
    runner = BackgroundRunner(
        ctx,
        [
            Job("drain", drain, interval_seconds=60, batch_size=10),
            Job("flaky", flaky, interval_seconds=0.05),
        ],
    )
    runner.start()
    try:
        for _ in range(100):
            if calls.count("flaky") >= 2 and calls.count("drain") >= 4:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()
    # Three full batches, then the empty one, without waiting the 60 s interval.
    assert calls.count("drain") == 4
    # The failure did not end the loop: it ran again after its backoff.
    assert calls.count("flaky") >= 2
    assert await runner.run_once("drain") == 0


async def test_a_job_that_handled_something_wakes_the_job_it_names(
    engine: AsyncEngine, settings: Settings
) -> None:
    produced = [2]  # the producer finds work on its first two runs only
    consumed: list[float] = []
    loop = asyncio.get_running_loop()

    async def produce(_: JobContext) -> int:
        if produced[0] == 0:
            return 0
        produced[0] -= 1
        return 1

    async def consume(_: JobContext) -> int:
        consumed.append(loop.time())
        return 0

    ctx = JobContext(engine, create_sessionmaker(engine), settings)
    runner = BackgroundRunner(
        ctx,
        [
            Job("consume", consume, interval_seconds=60),
            Job("produce", produce, interval_seconds=0.05, wakes="consume"),
        ],
    )
    started = loop.time()
    runner.start()
    try:
        await asyncio.sleep(0.5)
    finally:
        await runner.stop()
    # Its first run, then again when woken (wakes that come together may merge), never
    # waiting out its 60 s interval.
    assert 2 <= len(consumed) <= 3
    assert consumed[-1] - started < 0.5
