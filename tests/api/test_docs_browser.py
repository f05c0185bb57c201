"""/docs in a real browser, offline: authorize with a company key, "Try it out" on
`POST /api/products` with the example shown, and get a 201.

Chromium is Debian's (`make browser` installs it); playwright only drives it, with no
browser download of its own. Every request the page makes to another host is refused and
recorded, so the test also shows the pages need no CDN.
"""

import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, Request, Route, async_playwright

from tests.api.live import LiveServer, live_server

CHROMIUM = Path("/usr/bin/chromium")
EXECUTABLE = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    EXECUTABLE is None,
    reason="Debian's chromium is not installed and `make browser` could not install it "
    "(no apt-get, or not root); the browser test needs it",
)


async def _offline_page(browser_page: Page, server: LiveServer, outside: list[str]) -> None:
    async def only_local(route: Route, request: Request) -> None:
        if request.url.startswith(server.base_url):
            await route.continue_()
        else:
            outside.append(request.url)
            await route.abort()

    await browser_page.route("**/*", only_local)


async def test_swagger_try_it_out_creates_a_product(database_url: str) -> None:
    async with live_server(database_url) as server:
        async with server.client() as admin:
            created = await admin.post("/api/companies", json={"name": "Browser Co"})
            assert created.status_code == 201
            company = created.json()

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=EXECUTABLE,
                args=CHROMIUM_FLAGS,
            )
            try:
                page = await browser.new_page()
                outside: list[str] = []
                await _offline_page(page, server, outside)
                await page.goto(f"{server.base_url}/docs")
                await page.locator("button.authorize").first.click()
                await page.locator(".modal-ux input").first.fill(company["api_key"])
                await page.locator(".modal-ux button.authorize").first.click()
                await page.locator(".modal-ux button.btn-done").first.click()

                operation = page.locator("#operations-products-products-create-legacy")
                await operation.locator(".opblock-summary").first.click()
                await operation.locator("button.try-out__btn").click()
                await operation.locator("button.execute").click()
                status = operation.locator(".live-responses-table tbody .response-col_status").first
                await status.wait_for(timeout=20_000)
                assert (await status.inner_text()).strip() == "201"

                await page.goto(f"{server.base_url}/redoc")
                # ReDoc renders the operations' summaries once its bundle has loaded.
                await page.get_by_text("Create a product (the original endpoint").first.wait_for(
                    state="attached", timeout=20_000
                )
                # ReDoc's bundle links its "API docs by Redocly" footer logo from its
                # site; the page renders without it. Nothing else may leave the machine.
                assert [u for u in outside if not u.endswith("/logo-mini.svg")] == []
            finally:
                await browser.close()

        # The product the example described now exists in the key's own company.
        async with server.client(company["api_key"]) as client:
            found = await client.get(
                f"/api/companies/{company['id']}/products", params={"sku": "BEAN-1KG"}
            )
            assert found.status_code == 200
            [product] = found.json()["items"]
            assert product["company_id"] == company["id"]
            assert product["price"] == "18.50"
