"""Nothing escapes to the server: whatever got past the handlers becomes a problem."""

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from starlette.types import Receive, Scope, Send

from stockflow.core.reliability import LastResortMiddleware, is_database_failure


async def _call(exc: Exception) -> tuple[int, str, dict[str, str]]:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise exc

    app = LastResortMiddleware(failing)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/")  # would raise here if the exception escaped
    return r.status_code, r.headers["content-type"], dict(r.headers)


async def test_escaped_database_failure_is_503() -> None:
    status, ctype, headers = await _call(asyncpg.exceptions.ConnectionDoesNotExistError("gone"))
    assert (status, ctype, headers["retry-after"]) == (503, "application/problem+json", "1")


async def test_escaped_bug_is_500_problem() -> None:
    status, ctype, _ = await _call(ValueError("a bug"))
    assert (status, ctype) == (500, "application/problem+json")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), True),
        (asyncpg.exceptions.AdminShutdownError("terminated"), True),
        (asyncpg.exceptions.TooManyConnectionsError("full"), True),
        (asyncpg.exceptions.UniqueViolationError("dup"), False),
        (ValueError("no"), False),
    ],
)
def test_classification(exc: Exception, expected: bool) -> None:
    assert is_database_failure(exc) is expected
