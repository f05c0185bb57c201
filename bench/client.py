"""A minimal HTTP/1.1 keep-alive client over asyncio streams.

The load generator shares the machine with the server and the database; a client that
parses a status line and a Content-Length body costs a fraction of httpx's CPU, so the
numbers measure StockFlow rather than the client.
"""

import asyncio
import json
import time
from typing import Any

# uvicorn closes a keep-alive connection after 5 s without a request; one idle for longer
# than this is replaced before the next request instead of failing on a closed socket.
IDLE_RECONNECT_S = 4.0


class HttpConnection:
    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        if self.writer is not None and time.monotonic() - self.last_used > IDLE_RECONNECT_S:
            await self.close()
        try:
            return await self._request(method, path, body)
        finally:
            self.last_used = time.monotonic()

    async def _request(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        reader, writer = await self._connect()
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(payload)}\r\n"
            + ("Content-Type: application/json\r\n" if body is not None else "")
            + "\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionResetError(f"the server closed the connection ({method} {path})")
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value:
                chunked = True
        if not chunked:
            return status, await reader.readexactly(length)
        parts = []
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                return status, b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readline()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
            self.reader = self.writer = None
