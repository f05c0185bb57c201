from httpx import AsyncClient


async def test_healthz_and_readyz(anon: AsyncClient) -> None:
    assert (await anon.get("/healthz")).json() == {"status": "ok"}
    r = await anon.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


async def test_docs_and_openapi_are_public(anon: AsyncClient) -> None:
    assert (await anon.get("/docs")).status_code == 200
    spec = (await anon.get("/openapi.json")).json()
    assert "/api/products" in spec["paths"]
    assert "Problem" in spec["components"]["schemas"]


async def test_metrics_count_requests(anon: AsyncClient) -> None:
    await anon.get("/healthz")
    r = await anon.get("/metrics")
    assert r.status_code == 200
    assert 'stockflow_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


async def test_request_id_is_echoed(anon: AsyncClient) -> None:
    r = await anon.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len((await anon.get("/healthz")).headers["x-request-id"]) == 32
