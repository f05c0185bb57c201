"""A bad setting ends in one line that names the variable, and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

STOCKFLOW = Path(sys.executable).with_name("stockflow")


def _run(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STOCKFLOW_")}
    clean["STOCKFLOW_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(  # noqa: S603
        [str(STOCKFLOW), command],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("STOCKFLOW_PORT", "abc", "valid integer"),
        ("STOCKFLOW_DATABASE_URL", "mysql://user@localhost/stockflow", "needs PostgreSQL"),
        (
            "STOCKFLOW_DATABASE_URL",
            "postgresql://postgres@127.0.0.1:1/stockflow",
            "no PostgreSQL answers at 127.0.0.1:1",
        ),
        (
            "STOCKFLOW_DATABASE_URL",
            "postgresql://postgres@no-such-host.invalid/x",
            "host 'no-such-host.invalid' is unknown",
        ),
        # /proc refuses new folders even to root, so this holds whoever runs the suite.
        ("STOCKFLOW_DATA_DIR", "/proc/stockflow-data", "is not writable"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_bad_setting_is_one_line(
    tmp_path: Path, command: str, variable: str, value: str, says: str
) -> None:
    result = _run(tmp_path, command, **{variable: value})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0] and says in lines[0]


async def test_missing_database_is_named(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql", database="no_such_db_x")
    result = _run(
        tmp_path, "migrate", STOCKFLOW_DATABASE_URL=url.render_as_string(hide_password=False)
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip()]
        and "database 'no_such_db_x' does not exist" in result.stderr
    )


def test_version(tmp_path: Path) -> None:
    result = _run(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("stockflow, version ")
