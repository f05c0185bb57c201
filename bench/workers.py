"""Which uvicorn worker serves which keep-alive connection, and opening connections so
that every worker gets its share.

The workers share one listening socket, and asyncio accepts up to a backlog of pending
connections per wake-up: 32 clients connecting at once mostly land on ONE worker (seen
with py-spy: 99 % of the samples in one of the two), so a load meant for two workers
measured one. The bench therefore opens its connections one by one, asks Linux which
worker process owns the server side of each (/proc/net/tcp and the workers' fds), and
keeps a connection only while that worker has less than its share.
"""

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


def serving(pids: list[int], server_port: int) -> list[int]:
    """Those of `pids` that hold the socket listening on `server_port` (uvicorn's workers;
    not, say, multiprocessing's resource tracker, also a child of the server)."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == server_port:
                listening.add(cols[9])
    return [pid for pid in pids if listening & _socket_inodes(pid)]


def owners(conns: list[HttpConnection], server_port: int, workers: list[int]) -> list[int | None]:
    """The worker pid serving each of `conns` (None when it cannot be told). One read of
    /proc/net/tcp for all of them: it costs ~20 ms on a busy machine."""
    peers = _server_side(server_port)
    by_inode = {inode: pid for pid in workers for inode in _socket_inodes(pid)}
    found: list[int | None] = []
    for conn in conns:
        if conn.writer is None:
            found.append(None)
            continue
        inode = peers.get(conn.writer.get_extra_info("sockname")[1])
        found.append(by_inode.get(inode) if inode is not None else None)
    return found


def owner(conn: HttpConnection, server_port: int, workers: list[int]) -> int | None:
    return owners([conn], server_port, workers)[0]


async def balanced(
    make: Callable[[], HttpConnection], n: int, server_port: int, workers: list[int]
) -> tuple[list[HttpConnection], dict[int, int]]:
    """`n` open connections spread evenly over `workers`; returns them and the count per
    worker. Opens the missing ones, keeps those whose worker is below its share, closes
    the rest and tries again; after a bounded number of tries it keeps what it has."""
    share = math.ceil(n / max(1, len(workers)))
    kept: list[HttpConnection] = []
    counts: Counter[int] = Counter()
    for attempt in range(50):
        # more than are missing: the accepting worker tends to win again and again
        batch = [make() for _ in range(max(4, 2 * (n - len(kept))))]
        for conn in batch:
            await conn.request("GET", "/healthz")  # accepted and answered: owner known
        for conn, pid in zip(batch, owners(batch, server_port, workers), strict=True):
            wanted = pid is None or counts[pid] < share or attempt == 49
            if wanted and len(kept) < n:
                kept.append(conn)
                counts[pid or 0] += 1
            else:
                await conn.close()
        if len(kept) == n:
            break
    return kept, dict(counts)
