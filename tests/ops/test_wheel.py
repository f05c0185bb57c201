"""The image's steps without Docker: build the wheel, install it into a fresh virtualenv,
and serve from a folder outside the repository (no alembic.ini, no source tree)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import venv
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _site_packages(python: Path) -> str:
    return subprocess.run(  # noqa: S603
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
async def empty_database(database_url: str) -> object:
    server = make_url(database_url)
    name = f"stockflow_wheel_{uuid.uuid4().hex[:10]}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_installed_wheel_migrates_and_serves_outside_the_repo(
    empty_database: str, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(REPO),
        ],
        check=True,
    )
    wheel = next(dist.glob("stockflow-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # The dependencies come from this test's own environment (no index needed), listed
    # after the new venv's own site-packages, so the wheel's `stockflow` is the one found.
    Path(_site_packages(python), "deps.pth").write_text(_site_packages(Path(sys.executable)))
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "STOCKFLOW_DATABASE_URL": empty_database,
        "STOCKFLOW_PORT": str(port),
        "STOCKFLOW_WORKERS": "1",
        "STOCKFLOW_DATA_DIR": str(tmp_path / "data"),
        "STOCKFLOW_LOG_JSON": "true",
    }
    stockflow = env_dir / "bin" / "stockflow"
    located = subprocess.run(  # noqa: S603
        [str(python), "-c", "import stockflow; print(stockflow.__file__)"],
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(env_dir) in located  # the installed wheel, not the repository's src/
    server = subprocess.Popen(  # noqa: S603
        [str(stockflow), "serve"],
        cwd=outside,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = _wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        assert status == 200
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 128 + 15, output
    token_file = tmp_path / "data" / "admin_token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert token_file.read_text().strip() in output  # printed once, where it is kept said


def _wait_ready(url: str, server: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"stockflow serve exited: {server.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return int(response.status)
        except OSError:
            time.sleep(0.3)
    pytest.fail("stockflow serve was not ready within 60 s")
