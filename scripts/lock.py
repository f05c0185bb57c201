"""Write requirements.lock: the runtime dependencies pip resolves for this project, pinned
with their sha256, for reproducible image builds (`pip install --require-hashes`).

    python scripts/lock.py        # from the repository's folder; needs the package index

The hashes are those of the files pip picks on the machine that runs this (Linux x86_64,
CPython 3.11, like the image's base): run it there.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = """\
# Locked runtime dependencies of the image (pip install --require-hashes -r requirements.lock).
# Regenerate with `python scripts/lock.py` after changing [project].dependencies.
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--report",
                str(report),
                ".",
            ],
            check=True,
        )
        items = json.loads(report.read_text())["install"]
    lines = []
    for item in items:
        name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
        if name == "stockflow":
            continue
        digest = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        lines.append(f"{name}=={version}" + (f" \\\n    --hash=sha256:{digest}" if digest else ""))
    Path("requirements.lock").write_text(HEADER + "\n".join(sorted(lines)) + "\n")


if __name__ == "__main__":
    main()
