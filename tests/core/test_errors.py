"""Every error is RFC 9457 problem+json, and bad input is a 4xx, never a 500."""

from httpx import AsyncClient

PROBLEM = "application/problem+json"


def assert_problem(r, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


async def test_malformed_json_is_422_problem(client: AsyncClient) -> None:
    r = await client.post(
        "/api/companies", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"][0] == "body"


async def test_validation_errors_list_loc_and_msg(client: AsyncClient) -> None:
    body = assert_problem(await client.post("/api/companies", json={}), 422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    assert body["errors"][0]["msg"]


async def test_unknown_route_and_method(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/nope"), 404)
    assert_problem(await client.delete("/api/companies"), 405)


async def test_bad_path_ids_are_4xx(client: AsyncClient) -> None:
    for path in [
        "/api/companies/abc",
        "/api/companies/0",
        "/api/companies/-1",
        "/api/companies/99999999999999999999999",
    ]:
        r = await client.get(path)
        assert 400 <= r.status_code < 500, path
        assert r.headers["content-type"] == PROBLEM


async def test_401_carries_www_authenticate_problem(anon: AsyncClient) -> None:
    assert_problem(await anon.post("/api/companies", json={"name": "x"}), 401)


async def test_unparseable_json_bodies_are_422_not_400(client: AsyncClient) -> None:
    # Python's JSON decoder gives up on these with errors FastAPI answers 400.
    for raw in [b"[" * 20000 + b"]" * 20000, b'{"name": ' + b"1" * 5000 + b"}"]:
        r = await client.post(
            "/api/companies", content=raw, headers={"content-type": "application/json"}
        )
        body = assert_problem(r, 422)
        assert body["errors"][0]["loc"] == ["body"]
        assert body["errors"][0]["msg"]


async def test_value_the_database_refuses_is_422_with_errors(client: AsyncClient) -> None:
    # PostgreSQL text cannot hold NUL: the database refuses it, and the answer is still a
    # validation problem with an `errors` list. (Names refuse control characters before
    # the database sees them; free text such as a location does not.)
    body = assert_problem(await client.post("/api/companies", json={"name": "a\u0000b"}), 422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    company = (await client.post("/api/companies", json={"name": "Acme"})).json()["id"]
    r = await client.post(
        f"/api/companies/{company}/warehouses", json={"name": "W", "location": "a\u0000b"}
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"] == ["body"]
    assert body["errors"][0]["msg"]


async def test_401_names_the_bearer_scheme(anon: AsyncClient) -> None:
    r = await anon.get("/api/companies/1")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


async def test_driver_errors_map_like_sqlalchemy_ones() -> None:
    """Statements sent on the raw asyncpg connection (the report) raise the driver's own
    errors; they are answered by SQLSTATE class like SQLAlchemy's, never as a 500."""
    import asyncpg
    from fastapi import FastAPI
    from httpx import ASGITransport

    from stockflow.core.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    errors = {
        "unique": asyncpg.exceptions.UniqueViolationError,
        "check": asyncpg.exceptions.CheckViolationError,
        "range": asyncpg.exceptions.NumericValueOutOfRangeError,
        "deadlock": asyncpg.exceptions.DeadlockDetectedError,
    }

    @app.get("/{kind}")
    async def fail(kind: str) -> None:
        raise errors[kind]("simulated")

    expected = {"unique": 409, "check": 409, "range": 422, "deadlock": 409}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        for kind, status in expected.items():
            assert_problem(await c.get(f"/{kind}"), status)
