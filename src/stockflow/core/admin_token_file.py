"""The admin token generated when `STOCKFLOW_ADMIN_TOKEN` is unset, kept in the data folder.

A token that changed on every restart broke every script and browser tab that held the
old one; it is now made once, written to `<STOCKFLOW_DATA_DIR>/admin_token` readable by
this user only (0600), and read back by later starts and by every worker.
"""

import os
import secrets
import time
from pathlib import Path

from stockflow.core.settings import Settings

FILE_NAME = "admin_token"


def path_of(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def load_or_create(settings: Settings) -> str:
    """The kept token, or a new one written atomically (two workers starting together
    agree on one: the loser of the exclusive create reads the winner's)."""
    path = path_of(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    # Printed once, on stdout, so a newcomer can use the API straight away.
    print(
        f"\n  STOCKFLOW_ADMIN_TOKEN was not set; the admin token is:\n  {token}\n"
        f"  (kept in {path.resolve()}, mode 0600; delete the file to get a new one)\n",
        flush=True,
    )
    return token


def _read(path: Path) -> str:
    for _ in range(50):
        token = path.read_text().strip()
        if token:  # a worker that lost the race may read before the winner has written
            return token
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it to generate a new admin token")
