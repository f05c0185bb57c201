"""Revoked keys stop working on every worker within a second.

Each worker keeps one dedicated connection that `LISTEN`s on `stockflow_api_keys`; the
RLS migration's trigger on `api_keys` notifies the key's id whenever a key is revoked
(or deleted), through the API or in SQL, delivered at commit. The worker then drops the
key from its cache. While that connection is down the cache is not trusted (every
request reads the key from the database), and on reconnect it starts empty, because
notifications sent meanwhile are lost.
"""

import asyncio
import contextlib
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stockflow.core.auth import KeyCache, key_cache

log = structlog.get_logger(__name__)

CHANNEL = "stockflow_api_keys"
_RETRY_SECONDS = 1.0


class RevocationListener:
    def __init__(self, engine: AsyncEngine, cache: KeyCache) -> None:
        self.engine = engine
        self.cache = cache
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._down_logged = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stockflow:key-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.cache.set_trusted(False)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.cache.drop(int(payload))

    def _on_terminate(self, _conn: Any) -> None:
        self.cache.set_trusted(False)
        self._lost.set()

    async def _run(self) -> None:
        while True:
            conn: AsyncConnection | None = None
            try:
                conn = await self.engine.connect()
                raw: Any = (await conn.get_raw_connection()).driver_connection
                raw.add_termination_listener(self._on_terminate)
                await raw.add_listener(CHANNEL, self._on_notify)
                self._lost.clear()
                self.cache.set_trusted(True)
                if self._down_logged:
                    log.info("key_revocation_listener_up")
                    self._down_logged = False
                await self._watch(raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Once per outage, not once per retry.
                if not self._down_logged:
                    log.warning("key_revocation_listener_down", error=type(exc).__name__)
                    self._down_logged = True
            finally:
                self.cache.set_trusted(False)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.invalidate())
            await asyncio.sleep(_RETRY_SECONDS)

    async def _watch(self, raw: Any) -> None:
        """Return when the connection is lost; a ping each second notices a dead socket
        that never reported its end (a frozen or unreachable server)."""
        while not self._lost.is_set() and not raw.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=_RETRY_SECONDS)
            if self._lost.is_set():
                return
            try:
                await asyncio.wait_for(raw.execute("SELECT 1"), timeout=_RETRY_SECONDS)
            except (TimeoutError, OSError, Exception):
                self.cache.set_trusted(False)
                return


def start_revocation_listener(app: FastAPI, engine: AsyncEngine) -> RevocationListener:
    listener = RevocationListener(engine, key_cache(app))
    listener.start()
    return listener
