"""Run Alembic programmatically (the CLI's `serve`/`migrate` and the test suite)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

_REPO_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(url: str) -> Config:
    for candidate in (Path.cwd() / "alembic.ini", _REPO_ROOT / "alembic.ini"):
        if candidate.is_file():
            config = Config(str(candidate))
            break
    else:
        raise FileNotFoundError("alembic.ini not found in the working directory or the repo")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
