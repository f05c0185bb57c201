"""The bench waits for a quiet database, knows which worker serves a connection, and
charges profile samples to the right layer."""

import asyncio
import os
import subprocess
import sys

import asyncpg
from bench.client import HttpConnection
from bench.database import dsn, settle
from bench.profile import analyse, layer_of, parse_collapsed
from bench.workers import children, owner


async def test_settle_leaves_no_table_due_for_autovacuum(database_url: str) -> None:
    conn = await asyncpg.connect(dsn(database_url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_settle (n int)")
        await conn.execute("INSERT INTO bench_settle SELECT generate_series(1, 20000)")
        await conn.execute("DELETE FROM bench_settle WHERE n % 2 = 0")
        done = await settle(conn, quiet_s=0.5, timeout_s=60)
        assert done["timed_out"] is False, done
        assert done["settle_s"] >= 0.5
        row = await conn.fetchrow(
            "SELECT n_dead_tup, n_mod_since_analyze, last_vacuum IS NOT NULL AS vacuumed "
            "FROM pg_stat_user_tables WHERE relname = 'bench_settle'"
        )
        assert dict(row) == {"n_dead_tup": 0, "n_mod_since_analyze": 0, "vacuumed": True}
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_settle")
        await conn.close()


async def test_the_worker_serving_a_connection_is_found() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = HttpConnection("127.0.0.1", port, "token")
    try:
        assert await conn.request("GET", "/healthz") == (200, b"ok")
        # this process holds both ends: as the only "worker" it owns the server side
        assert owner(conn, port, [os.getpid()]) == os.getpid()
        assert owner(conn, port, [1]) is None
    finally:
        await conn.close()
        server.close()
        await server.wait_closed()


def test_children_are_the_processes_a_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in children(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_profile_samples_are_charged_to_their_layer() -> None:
    process = 'process 7:"python -c from multiprocessing.spawn import spawn_main; spawn_main()"'
    route = "app (fastapi/routing.py:1);handle (stockflow/core/routing.py:2)"
    raw = "\n".join(
        [
            f"{process};{route};sell (stockflow/ledger/service.py:3);"
            "execute (sqlalchemy/engine/base.py:4);_do_execute (asyncpg/connection.py:5) 6",
            f"{process};{route};sell (stockflow/ledger/service.py:3);"
            "execute (sqlalchemy/engine/base.py:4) 3",
            f"{process};log (stockflow/core/logging.py:9);msg (structlog/_output.py:1);"
            "encode (json/encoder.py:2) 2",
            f"{process};{route};validate (pydantic/type_adapter.py:3) 4",
            f"{process};{route};current (stockflow/core/auth.py:7);"
            "execute (sqlalchemy/engine/base.py:4) 1",
            f"{process} 4",
        ]
    )
    stacks = parse_collapsed(raw)
    assert stacks[0][0][0] == "app (fastapi/routing.py:1)"  # the process label is cut off
    assert [layer_of(frames) for frames, _ in stacks] == [
        "asyncpg (driver)",
        "SQLAlchemy",
        "logging",
        "validation (pydantic)",
        "auth",
        "no Python frame (native code)",
    ]
    result = analyse(stacks)
    assert result["samples"] == 20
    assert result["layers"]["asyncpg (driver)"] == 0.3
    assert result["top_self"][0] == {
        "frame": "_do_execute (asyncpg/connection.py:5)",
        "samples": 6,
        "share": 0.3,
    }
