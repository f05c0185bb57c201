from httpx import AsyncClient

from tests.factories import create_company


async def test_admin_creates_company_and_key_is_shown_once(client: AsyncClient) -> None:
    r = await client.post("/api/companies", json={"name": "  Acme Ltd  "})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "Acme Ltd"
    assert body["api_key"].startswith("sf_")
    assert {"id", "created_at"} <= body.keys()

    got = await client.get(f"/api/companies/{body['id']}")
    assert got.status_code == 200
    assert "api_key" not in got.json()
    assert got.json()["id"] == body["id"]


async def test_company_key_sees_own_company_only(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    mine = await create_company(client, "Mine")
    other = await create_company(client, "Other")
    as_mine = client_for(mine["api_key"])
    assert (await as_mine.get(f"/api/companies/{mine['id']}")).status_code == 200
    r = await as_mine.get(f"/api/companies/{other['id']}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_company_key_cannot_create_companies(client: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    mine = await create_company(client)
    r = await client_for(mine["api_key"]).post("/api/companies", json={"name": "X"})
    assert r.status_code == 403


async def test_missing_or_bad_token_is_401(anon: AsyncClient, client_for) -> None:  # type: ignore[no-untyped-def]
    assert (await anon.get("/api/companies/1")).status_code == 401
    for token in ["nope", "sf_1_wrong", "sf_x_y", "sf_99999999999999999999_z"]:
        r = await client_for(token).get("/api/companies/1")
        assert r.status_code == 401, token
        assert r.json()["status"] == 401


async def test_unknown_company_is_404_for_admin(client: AsyncClient) -> None:
    assert (await client.get("/api/companies/999999")).status_code == 404


async def test_blank_or_long_name_is_422(client: AsyncClient) -> None:
    for name in ["", "   ", "x" * 256, None, 5]:
        r = await client.post("/api/companies", json={"name": name})
        assert r.status_code == 422, name
        assert r.json()["errors"]
