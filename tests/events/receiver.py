"""A real HTTP receiver on 127.0.0.1 for webhook tests (no mocked transport).

It answers each request with the next scripted action ("200", "500", "302", "slow",
"close"), then with `default`, and records what it received and how many requests for
one event were in flight at once."""

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str = ""
    script: list[str] = field(default_factory=list)
    default: str = "200"
    slow_seconds: float = 1.0
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            event_id = self.headers.get("StockFlow-Event-Id", "")
            with receiver.lock:
                receiver.received.append(Received(dict(self.headers), body, time.monotonic()))
                receiver.in_flight[event_id] += 1
                receiver.max_in_flight[event_id] = max(
                    receiver.max_in_flight[event_id], receiver.in_flight[event_id]
                )
            try:
                self._answer(receiver.next_action())
            finally:
                with receiver.lock:
                    receiver.in_flight[event_id] -= 1

        def _answer(self, action: str) -> None:
            if action == "close":
                self.close_connection = True
                self.connection.close()
                return
            if action == "slow":
                time.sleep(receiver.slow_seconds)
                action = "200"
            status = int(action)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def running_receiver(*script: str, default: str = "200") -> Iterator[Receiver]:
    receiver = Receiver(script=list(script), default=default)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
