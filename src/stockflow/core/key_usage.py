"""`last_used_at` of API keys without a write per request.

Authentication notes each use in memory (one dict per worker); a background job of the
api_keys package writes the latest time per key in one statement every few seconds. The
column may therefore lag by up to the job's interval (SPEC allows 60 s), and a worker
that dies loses at most that interval of usage times, never a request.
"""

from datetime import UTC, datetime


class KeyUsage:
    def __init__(self) -> None:
        self._last_used: dict[int, datetime] = {}

    def touch(self, key_id: int) -> None:
        self._last_used[key_id] = datetime.now(UTC)

    def take(self) -> dict[int, datetime]:
        """The uses noted since the last call (and forget them)."""
        taken, self._last_used = self._last_used, {}
        return taken

    def give_back(self, taken: dict[int, datetime]) -> None:
        """A flush failed: keep its times for the next one (newer uses win)."""
        for key_id, used_at in taken.items():
            current = self._last_used.get(key_id)
            if current is None or current < used_at:
                self._last_used[key_id] = used_at


KEY_USAGE = KeyUsage()
"""This worker's buffer (module-level: one per process, like the worker itself)."""
