"""Movements, the report and idempotency through PgBouncer in transaction-pooling mode,
with the statement caches off (STOCKFLOW_DB_STATEMENT_CACHE_SIZE=0)."""

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from stockflow.core.migrations import upgrade_to_head
from stockflow.core.settings import Settings
from stockflow.main import create_app

REPO = Path(__file__).resolve().parents[2]


def _pgbouncer_installed() -> str | None:
    """None when pgbouncer is there (installed by `make pgbouncer` if missing), else why not."""
    if shutil.which("pgbouncer") or os.access("/usr/sbin/pgbouncer", os.X_OK):
        return None
    result = subprocess.run(
        ["make", "-s", "pgbouncer"],  # noqa: S607 - the repo's own make target
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    return f"pgbouncer could not be installed: {result.stderr.strip()[-300:]}"


async def _tcp_relay(socket_path: str) -> asyncio.Server:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return await asyncio.start_server(connect, "127.0.0.1", 0)


@pytest.fixture(scope="module")
async def bouncer_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    reason = _pgbouncer_installed()
    if reason:
        pytest.skip(reason)
    # A database of its own: these requests commit, unlike the rest of the suite's.
    server = make_url(database_url)
    name = f"stockflow_pgb_{uuid.uuid4().hex[:10]}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade_to_head, url)
    # Directly under /tmp: as root the script runs pgbouncer as the `pgbouncer` user, who
    # cannot enter pytest's private temp folders.
    folder = Path(tempfile.mkdtemp(prefix="stockflow-pgbouncer-"))
    upstream = make_url(url).set(drivername="postgresql")
    relay = None
    socket_dir = upstream.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        # The embedded server listens on a Unix socket inside its 0700 data folder, which
        # the `pgbouncer` user cannot enter: relay a local TCP port to it from here.
        relay = await _tcp_relay(f"{socket_dir}/.s.PGSQL.{upstream.port or 5432}")
        port = relay.sockets[0].getsockname()[1]
        upstream = upstream.difference_update_query(["host"]).set(host="127.0.0.1", port=port)
    plain = upstream.render_as_string(hide_password=False)
    started = await asyncio.to_thread(
        subprocess.run,
        [str(REPO / "scripts" / "pgbouncer.sh"), plain, "", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    try:
        yield started.stdout.strip().replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        os.kill(int((folder / "pgbouncer.pid").read_text()), signal.SIGTERM)
        if relay is not None:
            relay.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(folder, ignore_errors=True)


async def test_sales_report_and_idempotency_through_pgbouncer(bouncer_url: str) -> None:
    settings = Settings(
        database_url=bouncer_url,
        admin_token="pgb-admin",
        db_statement_cache_size=0,
        background_jobs=False,
    )
    app = create_app(settings)
    app.state.admin_token = "pgb-admin"
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": "Bearer pgb-admin"},
        ) as client,
    ):
        company = (await client.post("/api/companies", json={"name": "Bounced"})).json()
        base = f"/api/companies/{company['id']}"
        warehouse = (await client.post(f"{base}/warehouses", json={"name": "W"})).json()
        product = (
            await client.post(
                f"{base}/products",
                json={"name": "P", "sku": "PGB-1", "price": "1.00", "low_stock_threshold": 80},
            )
        ).json()
        line = {"product_id": product["id"], "warehouse_id": warehouse["id"]}
        receipt = {"reason": "receipt", "lines": [{**line, "delta": 100}]}
        assert (await client.post(f"{base}/stock-movements", json=receipt)).status_code == 201

        sale = {"reason": "sale", "lines": [{**line, "delta": -1}]}
        # Many statements over few server connections: each a fresh prepare.
        answers = await asyncio.gather(
            *[client.post(f"{base}/stock-movements", json=sale) for _ in range(30)]
        )
        assert [r.status_code for r in answers] == [201] * 30

        key = {"Idempotency-Key": "pgb-key-1"}
        first = await client.post(f"{base}/stock-movements", json=sale, headers=key)
        again = await client.post(f"{base}/stock-movements", json=sale, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()

        for _ in range(3):  # the report's raw-driver statement, several times
            report = await client.get(f"{base}/alerts/low-stock")
            assert report.status_code == 200
        alerts = report.json()["alerts"]
        assert [(a["product_id"], a["current_stock"], a["units_sold"]) for a in alerts] == [
            (product["id"], 69, 31)
        ]


async def test_pooled_connections_run_as_the_app_role_with_its_timeout(bouncer_url: str) -> None:
    """The startup parameters the pooler cannot forward arrive through its connect_query:
    without them a pooled app would bypass row-level security and never time out."""
    url = make_url(bouncer_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False), statement_cache_size=0)
    try:
        role = await conn.fetchval("SELECT current_user")
        timeout = await conn.fetchval("SHOW statement_timeout")
    finally:
        await conn.close()
    assert role == "stockflow_app"
    assert timeout == "10s"
