"""Unknown query parameters on routes of any shape, as routers of other packages declare
them (a plain parameter, a dependency's, a Pydantic model of parameters)."""

from typing import Annotated

from fastapi import Depends, FastAPI, Query
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from stockflow.core.errors import install_error_handlers
from stockflow.core.routing import StrictQueryRoute


class Filters(BaseModel):
    status: str | None = None
    due_before: str | None = Query(default=None, alias="due-before")


def paging(limit: int = 10) -> int:
    return limit


def _app() -> FastAPI:
    app = FastAPI()
    app.router.route_class = StrictQueryRoute
    install_error_handlers(app)

    @app.get("/plain")
    async def plain(
        q: str | None = None, limit: Annotated[int, Depends(paging)] = 10
    ) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/model")
    async def model(filters: Annotated[Filters, Query()]) -> dict[str, str | None]:
        return filters.model_dump()

    return app


async def test_known_names_come_from_the_route_its_dependencies_and_models() -> None:
    async with AsyncClient(transport=ASGITransport(app=_app()), base_url="http://t") as c:
        assert (await c.get("/plain", params={"q": "x", "limit": 3})).json() == {"limit": 3}
        r = await c.get("/plain", params={"limt": 3})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "limt"]
        ok = await c.get("/model", params={"status": "open", "due-before": "2026-12-31"})
        assert ok.status_code == 200, ok.text
        r = await c.get("/model", params={"state": "open"})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["query", "state"]
