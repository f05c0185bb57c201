"""`python -m bench.profile` (`make profile`): where a sale's time goes.

Loads a dataset (S by default) into a fresh bench database, starts `stockflow serve` (its
2 uvicorn workers), puts the 32-client single-line sales load on it and samples the
workers with py-spy (`--subprocesses --nonblocking`: it reads the processes' memory
without stopping them, so it needs ptrace rights, e.g. root). Two windows: one written
as a flame graph (SVG), one as collapsed stacks that are summed into

- the top frames by self time and by total time, and
- the share of samples per layer (routing and dependencies, validation, auth,
  idempotency, SQLAlchemy, the asyncpg driver, logging, metrics, JSON, the HTTP server,
  the event loop, the app's own code),

written to bench/results/profile/{flame.svg,stacks.txt,top.txt,layers.json}. Shares are
of the workers' busy (non-idle) samples; they stay meaningful on a loaded machine even
when the absolute rate does not.
"""

import argparse
import asyncio
import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from bench import dataset, measure
from bench.database import LOGS, REPO_ROOT, drop_database, dsn, server_url, uses_embedded
from bench.database import remove_embedded_cluster as _remove_cluster
from bench.loading import prepare, write_pairs
from stockflow.core import embedded

OUT = REPO_ROOT / "bench" / "results" / "profile"
DB_NAME = "stockflow_profile"

# A sample is charged to the innermost frame that is either a cross-cutting library or
# the app's own code. Cross-cutting libraries (logging, metrics) and the app's auth and
# idempotency modules take the sample whole (a JSON dump inside the log renderer is
# logging's cost); any other app frame (a service, a repository, the request's session,
# a middleware) hands it to the library layer of the frames it calls, or keeps it as app
# code when it is the leaf itself. Outside any app frame the leaf's library decides.
OWNERS: list[tuple[str, re.Pattern[str]]] = [
    ("logging", re.compile(r"structlog/|/logging/__init__\.py")),
    ("metrics", re.compile(r"prometheus_client/")),
    ("auth", re.compile(r"stockflow/core/auth\.py")),
    ("idempotency", re.compile(r"stockflow/core/idempotency\.py")),
]
APP = re.compile(r"stockflow/")
LIBRARIES: list[tuple[str, re.Pattern[str]]] = [
    ("JSON", re.compile(r"[(/]json/|orjson|\b(to_json|dump_json|jsonable_encoder)\b")),
    ("validation (pydantic)", re.compile(r"pydantic/|pydantic_core/|fastapi/_compat")),
    ("SQLAlchemy", re.compile(r"sqlalchemy/")),
    ("asyncpg (driver)", re.compile(r"asyncpg/")),
    ("routing and dependencies", re.compile(r"fastapi/|starlette/|anyio/|contextlib\.py")),
    ("HTTP server (uvicorn)", re.compile(r"uvicorn/|httptools/|h11/")),
    ("event loop", re.compile(r"asyncio/|uvloop/|selectors\.py")),
]
PROCESS = re.compile(r'^(process \d+:"[^"]*";?)+')


def _library(frames: list[str]) -> str | None:
    for frame in reversed(frames):
        for name, pattern in LIBRARIES:
            if pattern.search(frame):
                return name
    return None


def layer_of(frames: list[str]) -> str:
    """The layer a sample (frames outermost first) is charged to."""
    for i in range(len(frames) - 1, -1, -1):
        frame = frames[i]
        for name, pattern in OWNERS:
            if pattern.search(frame):
                return name
        if APP.search(frame):
            return _library(frames[i + 1 :]) or "stockflow (app code)"
    return _library(frames) or ("other" if frames else "no Python frame (native code)")


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's raw format: `process ...;frame;...;leaf count` per line, outermost first
    (the process labels hold the command line, semicolons included: cut them off)."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stack = PROCESS.sub("", stack)
            stacks.append(([f for f in stack.split(";") if f], int(count)))
    return stacks


def samples_per_process(text: str) -> dict[str, int]:
    """Samples by the innermost process label: the workers should share the load."""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        pids = re.findall(r"process (\d+):", line)
        count = line.rpartition(" ")[2]
        if pids and count.isdigit():
            counts[pids[-1]] += int(count)
    return dict(counts.most_common())


def analyse(stacks: list[tuple[list[str], int]], top: int = 25) -> dict[str, Any]:
    total = sum(n for _, n in stacks) or 1
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        layers[layer_of(frames)] += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"frame": f, "samples": c, "share": round(c / total, 3)}
            for f, c in counter.most_common(top)
        ]

    return {
        "samples": total,
        "layers": {k: round(v / total, 3) for k, v in layers.most_common()},
        "top_self": share(own),
        "top_total": share(inclusive),
    }


def render_text(result: dict[str, Any]) -> str:
    lines = [f"{result['samples']} busy samples of the uvicorn workers"]
    if "samples_per_process" in result:
        lines.append(f"per process (pid: samples): {result['samples_per_process']}")
    lines += ["", "by layer:"]
    lines += [f"  {share:6.1%}  {name}" for name, share in result["layers"].items()]
    lines += ["", "top frames by self time:"]
    lines += [f"  {r['share']:6.1%}  {r['frame']}" for r in result["top_self"]]
    lines += ["", "top frames by total time (the frame and what it calls):"]
    lines += [f"  {r['share']:6.1%}  {r['frame']}" for r in result["top_total"]]
    return "\n".join(lines) + "\n"


async def py_spy(pid: int, seconds: int, rate: int, fmt: str, out: Path) -> None:
    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if exe is None:
        raise SystemExit("py-spy is not installed: pip install -e '.[bench]'")
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        str(rate),
        "--duration",
        str(seconds),
        "--format",
        fmt,
        "--output",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"py-spy failed ({proc.returncode}): {output.decode()[-2000:]}")


async def profile(size: dataset.Size, seconds: int, rate: int, clients: int) -> dict[str, Any]:
    url = server_url()
    try:
        db_url, data, _ = await prepare(size, url, DB_NAME)
        conn = await asyncpg.connect(dsn(db_url))
        try:
            async with measure.Server(db_url, LOGS / "server-profile.log") as server:
                assert server.proc is not None
                pairs = await write_pairs(conn, server, data.company_id)
                async with measure.http_sales(server, data.company_id, pairs, clients) as sales:
                    await sales.run_for(3.0)  # warm-up
                    OUT.mkdir(parents=True, exist_ok=True)
                    rates = {}
                    for fmt, name in (("flamegraph", "flame.svg"), ("raw", "stacks.txt")):
                        async with sales.running() as window:
                            await py_spy(server.proc.pid, seconds, rate, fmt, OUT / name)
                        rates[name] = round(window.rate, 1)
        finally:
            await conn.close()
    finally:
        try:
            await drop_database(url, DB_NAME)
        finally:
            embedded.stop()
            if uses_embedded():
                _remove_cluster()
    raw = (OUT / "stacks.txt").read_text()
    result = analyse(parse_collapsed(raw))
    result["samples_per_process"] = samples_per_process(raw)
    result["sales_per_s_while_sampled"] = rates
    result["dataset"] = size.name
    result["clients"] = clients
    result["seconds"] = seconds
    result["rate_hz"] = rate
    (OUT / "layers.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "top.txt").write_text(render_text(result))
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size", default="S", choices=sorted(dataset.SIZES))
    parser.add_argument("--seconds", type=int, default=20, help="per sampling window")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args(argv)
    result = asyncio.run(profile(dataset.SIZES[args.size], args.seconds, args.rate, args.clients))
    print(render_text(result))
    for name in ("flame.svg", "top.txt", "layers.json", "stacks.txt"):
        print(f"wrote {(OUT / name).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
