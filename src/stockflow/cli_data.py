"""What the CLI's data commands do: create a company, fill a demo, print the report.

`create-company` and `alerts` call the services on a session of their own (the admin or
company scope set first, as a request would); `demo` goes through the HTTP API in-process
(ASGI), so its data passes every rule a client's would.
"""

import json
import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from stockflow.alerts.service import AlertService
from stockflow.companies.schemas import CompanyCreate, CompanyCreated
from stockflow.companies.service import CompanyService
from stockflow.core.database import create_engine, create_sessionmaker
from stockflow.core.settings import Settings
from stockflow.core.tenancy import scope_to_admin, scope_to_company
from stockflow.models import Company


async def create_company(settings: Settings, url: str, name: str) -> CompanyCreated:
    engine = create_engine(url, settings)
    try:
        async with create_sessionmaker(engine)() as session:
            await scope_to_admin(session)
            created = await CompanyService(session).create(CompanyCreate(name=name))
            await session.commit()
            return created
    finally:
        await engine.dispose()


async def low_stock(
    settings: Settings, url: str, company_id: int, window_days: int
) -> dict[str, Any] | None:
    """The report's JSON as a dict, or None when the company does not exist."""
    engine = create_engine(url, settings)
    try:
        async with create_sessionmaker(engine)() as session:
            await scope_to_company(session, company_id)
            if await session.get(Company, company_id) is None:
                return None
            service = AlertService(session, settings.default_low_stock_threshold)
            body = await service.low_stock(company_id, window_days=window_days)
            result: dict[str, Any] = json.loads(body)
            return result
    finally:
        await engine.dispose()


def alert_table(company_id: int, report: dict[str, Any]) -> Table:
    table = Table(title=f"Low stock, company {company_id}: {report['total_alerts']} alerts")
    for column in ("SKU", "Product", "Warehouse", "Stock", "Threshold", "Sold/day"):
        numeric = column in ("Stock", "Threshold", "Sold/day")
        table.add_column(column, justify="right" if numeric else "left")
    table.add_column("Stockout in", justify="right")
    table.add_column("Order", justify="right")
    table.add_column("Supplier (lead days)")
    for alert in report["alerts"]:
        supplier = alert["supplier"]
        table.add_row(
            alert["sku"],
            alert["product_name"],
            alert["warehouse_name"],
            str(alert["current_stock"]),
            str(alert["threshold"]),
            f"{alert['avg_daily_sales']:.1f}",
            f"{alert['days_until_stockout']} d",
            str(alert["recommended_order_quantity"]),
            f"{supplier['name']} ({supplier['lead_time_days']})" if supplier else "-",
        )
    return table


# --- demo ---------------------------------------------------------------------------------

_TYPES = [("Tents", 8), ("Stoves", 12), ("Accessories", 40)]
_SUPPLIERS = [("Alpine Supply", 7), ("Nordic Gear", 14), ("FastParts", 3)]
# name, sku, price, type index, supplier index, mean daily sales per warehouse
_PRODUCTS = [
    ("Trail Tent 2P", "TENT-2P", "189.00", 0, 0, 1.2),
    ("Family Tent 4P", "TENT-4P", "349.00", 0, 1, 0.6),
    ("Ultralight Tarp", "TARP-UL", "89.00", 0, 0, 0.9),
    ("Canister Stove", "STOVE-C", "49.00", 1, 2, 2.5),
    ("Liquid Fuel Stove", "STOVE-L", "129.00", 1, 1, 0.8),
    ("Fuel Canister 230g", "FUEL-230", "6.50", 2, 2, 9.0),
    ("Headlamp 400lm", "LAMP-400", "39.00", 2, 0, 4.0),
    ("Titanium Mug", "MUG-TI", "24.00", 2, 2, 3.0),
    ("Sleeping Pad", "PAD-R4", "99.00", 2, 1, 1.5),
    ("Water Filter", "FILT-1", "45.00", 2, 0, 2.2),
]
_BUNDLE = ("Weekend Kit (tent, stove, 2 fuel)", "KIT-WKND", "229.00", 0.4)


@dataclass
class DemoResult:
    company_id: int
    api_key: str
    products: int
    sales: int
    alerts: int


class _Api:
    def __init__(self, client: httpx.AsyncClient, company_id: int | None = None) -> None:
        self.client = client
        self.company_id = company_id

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        prefix = f"/api/companies/{self.company_id}" if self.company_id else "/api/companies"
        response = await self.client.request(method, prefix + path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {prefix + path}: {response.status_code} {response.text}")
        return response.json()


async def run_demo(
    settings: Settings, url: str, *, days: int, seed: int | None, console: Console
) -> DemoResult:
    """A demo company through the API: 2 warehouses, 3 types, 3 suppliers with lead times,
    10 products and a bundle, stock received `days` ago and sold every day since, with
    weekly seasonality, so that the fast sellers are running low today."""
    from stockflow.main import create_app

    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    settings = settings.model_copy(update={"background_jobs": False, "log_level": "WARNING"})
    app = create_app(settings)
    admin = secrets.token_urlsafe(24)
    app.state.admin_token = admin
    app.state.engine = create_engine(url, settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://demo",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        ) as client:
            company = await _Api(client).call("POST", "", {"name": "Demo Outdoor Co."})
            client.headers["Authorization"] = f"Bearer {company['api_key']}"
            api = _Api(client, company["id"])
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeRemainingColumn(),
                console=console,
            ) as progress:
                result = await _fill(api, rng, days, progress)
            report = await api.call("GET", "/alerts/low-stock")
    await app.state.engine.dispose()
    return DemoResult(company["id"], company["api_key"], *result, report["total_alerts"])


async def _fill(api: _Api, rng: random.Random, days: int, progress: Progress) -> tuple[int, int]:
    setup = progress.add_task("Catalog", total=3 + 3 + 2 + len(_PRODUCTS) + 2)
    types = [
        (await api.call("POST", "/product-types", {"name": n, "low_stock_threshold": t}))["id"]
        for n, t in _TYPES
    ]
    progress.advance(setup, 3)
    suppliers = [
        (await api.call("POST", "/suppliers", {"name": n, "contact_email": _email(n)}))["id"]
        for n, _ in _SUPPLIERS
    ]
    progress.advance(setup, 3)
    warehouses = [
        (await api.call("POST", "/warehouses", {"name": n}))["id"] for n in ("Berlin", "Lyon")
    ]
    progress.advance(setup, 2)
    products: list[tuple[int, float]] = []
    for name, sku, price, type_i, supplier_i, rate in _PRODUCTS:
        body = {"name": name, "sku": sku, "price": price, "product_type_id": types[type_i]}
        product = await api.call("POST", "/products", body)
        link = {
            "is_primary": True,
            "lead_time_days": _SUPPLIERS[supplier_i][1],
            "unit_cost": f"{float(price) * 0.55:.2f}",
            "min_order_qty": 5,
        }
        await api.call("PUT", f"/products/{product['id']}/suppliers/{suppliers[supplier_i]}", link)
        products.append((product["id"], rate))
        progress.advance(setup)
    bundle = await api.call(
        "POST",
        "/products",
        {"name": _BUNDLE[0], "sku": _BUNDLE[1], "price": _BUNDLE[2], "is_bundle": True},
    )
    components = [
        {"product_id": products[0][0], "quantity": 1},
        {"product_id": products[3][0], "quantity": 1},
        {"product_id": products[5][0], "quantity": 2},
    ]
    await api.call("PUT", f"/products/{bundle['id']}/components", components)
    progress.advance(setup, 2)

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    # Stock for most of the season: some products were bought short (they alert today),
    # some got a second delivery half-way.
    levels: dict[tuple[int, int], int] = {}
    receipt_lines = []
    for product_id, rate in products:
        for warehouse_id in warehouses:
            cover = rng.uniform(0.75, 1.15)
            quantity = max(5, math.ceil(rate * days * cover))
            levels[(product_id, warehouse_id)] = quantity
            receipt_lines.append(
                {"product_id": product_id, "warehouse_id": warehouse_id, "delta": quantity}
            )
    await _move(api, "receipt", start, receipt_lines, "PO-DEMO-0001")
    sales = 0
    selling = progress.add_task("Sales", total=days)
    for day in range(days):
        when = start + timedelta(days=day, hours=rng.randint(9, 18))
        weekend = when.weekday() >= 5
        for warehouse_id in warehouses:
            lines = []
            for product_id, rate in products:
                mean = rate * (1.6 if weekend else 0.85)
                wanted = _poisson(rng, mean)
                sold = min(wanted, levels[(product_id, warehouse_id)])
                if sold:
                    levels[(product_id, warehouse_id)] -= sold
                    lines.append(
                        {"product_id": product_id, "warehouse_id": warehouse_id, "delta": -sold}
                    )
            if lines:
                sales += len(lines)
                await _move(api, "sale", when, lines, f"POS-{day:03d}-{warehouse_id}")
            kits = _poisson(rng, _BUNDLE[3])
            kit_parts = [(products[0][0], 1), (products[3][0], 1), (products[5][0], 2)]
            if kits and all(levels[(p, warehouse_id)] >= q * kits for p, q in kit_parts):
                for p, q in kit_parts:
                    levels[(p, warehouse_id)] -= q * kits
                line = {"product_id": bundle["id"], "warehouse_id": warehouse_id, "delta": -kits}
                await _move(api, "sale", when, [line], f"KIT-{day:03d}-{warehouse_id}")
                sales += 1
        if day == days // 2:
            # A mid-season delivery for the slow movers only.
            restock = [
                {"product_id": p, "warehouse_id": w, "delta": math.ceil(rate * days / 3)}
                for p, rate in products
                if rate < 1.0
                for w in warehouses
            ]
            for line in restock:
                levels[(line["product_id"], line["warehouse_id"])] += line["delta"]
            await _move(api, "receipt", when, restock, "PO-DEMO-0002")
        progress.advance(selling)
    return len(products) + 1, sales


async def _move(
    api: _Api, reason: str, when: datetime, lines: list[dict[str, int]], reference: str
) -> None:
    body = {"reason": reason, "occurred_at": when.isoformat(), "reference": reference}
    await api.call("POST", "/stock-movements", {**body, "lines": lines})


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: daily sales counts are Poisson-like, not flat."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _email(name: str) -> str:
    return f"orders@{name.lower().replace(' ', '-')}.example"
