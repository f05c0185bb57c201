"""A real uvicorn server on a free port, on a throwaway database of its own.

For the tests that drive the API from outside (a browser, schemathesis): they need a real
socket and committed data, so they get their own database instead of the rolled-back one.
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
from sqlalchemy import make_url

from stockflow.core.migrations import upgrade_to_head

LIVE_ADMIN_TOKEN = "live-admin-token"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    admin_token: str

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        token = token or self.admin_token
        return httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def live_server(database_url: str) -> AsyncIterator[LiveServer]:
    """Serve StockFlow on a fresh, migrated database next to `database_url`'s."""
    name = f"stockflow_live_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_dsn(database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="stockflow-live-") as data_dir:
        env = {
            **os.environ,
            "STOCKFLOW_DATABASE_URL": url,
            "STOCKFLOW_ADMIN_TOKEN": LIVE_ADMIN_TOKEN,
            "STOCKFLOW_DATA_DIR": data_dir,
        }
        process: subprocess.Popen[bytes] | None = None
        try:
            await asyncio.to_thread(upgrade_to_head, url)
            process = subprocess.Popen(  # noqa: ASYNC220, S603 - our own server, waited on below
                [
                    sys.executable, "-m", "uvicorn", "stockflow.main:create_app", "--factory",
                    "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                ],
                env=env,
            )  # fmt: skip
            base_url = f"http://127.0.0.1:{port}"
            await _wait_ready(base_url, process)
            yield LiveServer(base_url=base_url, admin_token=LIVE_ADMIN_TOKEN)
        finally:
            if process is not None:
                process.terminate()
                await asyncio.to_thread(process.wait, 10)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def _wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready within 60 s")
