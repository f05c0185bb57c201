"""Shared checks for keyset-paginated lists (`{"items", "next_cursor"}`)."""

from typing import Any

from httpx import AsyncClient

from stockflow.core.pagination import encode_cursor


async def walk(client: AsyncClient, url: str, limit: int) -> list[dict[str, Any]]:
    """Every item of the list at `url`, following `next_cursor` page by page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        r = await client.get(url, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor walk never ended")


async def assert_bad_page_params_rejected(client: AsyncClient, url: str) -> None:
    """limit outside 1..500 and cursors that are not ours are 422 problems, never 500s."""
    for params in [
        {"limit": 0},
        {"limit": 501},
        {"limit": -1},
        {"limit": "ten"},
        {"cursor": "not-a-cursor!"},
        {"cursor": "bm90IGpzb24"},  # base64 of "not json"
        {"cursor": encode_cursor([1, 2, 3])},  # wrong arity
        {"cursor": encode_cursor([-5])},
        {"cursor": encode_cursor([2**63])},
        {"cursor": "x" * 600},
    ]:
        r = await client.get(url, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get(url, params={"limit": 1})).status_code == 200
    assert (await client.get(url, params={"limit": 500})).status_code == 200
