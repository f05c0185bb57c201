"""Which uvicorn worker serves which keep-alive connection, and opening connections so
that every worker gets its share.

The workers share one listening socket, and asyncio accepts up to a backlog of pending
connections per wake-up: 32 clients connecting at once mostly land on ONE worker (seen
with py-spy: 99 % of the samples in one of the two), so a load meant for two workers
measured one. The bench therefore opens its connections one by one, asks Linux which
worker process owns the server side of each (/proc/net/tcp and the workers' fds), and
keeps a connection only while that worker has less than its share.
"""

import asyncio
import math
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.client import HttpConnection


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (uvicorn's workers of `stockflow serve`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (2nd field) is in parentheses and may hold spaces
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _server_side(server_port: int) -> dict[int, str]:
    """Established sockets listening-side on `server_port`: peer port -> inode."""
    peers = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], cols[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == server_port:
                peers[int(remote.rsplit(":", 1)[1], 16)] = inode
    return peers


def owner(conn: HttpConnection, server_port: int, workers: list[int]) -> int | None:
    """The worker pid serving `conn` (None when it cannot be told)."""
    if conn.writer is None:
        return None
    client_port = conn.writer.get_extra_info("sockname")[1]
    inode = _server_side(server_port).get(client_port)
    for pid in workers:
        if inode is not None and inode in _socket_inodes(pid):
            return pid
    return None


async def balanced(
    make: Callable[[], HttpConnection], n: int, server_port: int, workers: list[int]
) -> tuple[list[HttpConnection], dict[int, int]]:
    """`n` open connections spread evenly over `workers`; returns them and the count per
    worker. Falls back to whatever it gets after a bounded number of attempts."""
    share = math.ceil(n / max(1, len(workers)))
    kept: list[HttpConnection] = []
    counts: Counter[int] = Counter()
    attempts = 0
    while len(kept) < n:
        conn = make()
        await conn.request("GET", "/healthz")  # accepted and answered: the owner is known
        pid = owner(conn, server_port, workers)
        attempts += 1
        if pid is None or counts[pid] < share or attempts > 40 * n:
            kept.append(conn)
            counts[pid or 0] += 1
        else:
            await conn.close()
            await asyncio.sleep(0.005)  # let the other worker's loop reach accept()
    return kept, dict(counts)
