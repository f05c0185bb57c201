from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.alerts.repository import AlertRepository, ReportParams
from stockflow.core import metrics
from stockflow.core.tenancy import require_owned
from stockflow.models import ProductType, Warehouse


class AlertService:
    def __init__(self, session: AsyncSession, default_threshold: int) -> None:
        self.repo = AlertRepository(session)
        self.default_threshold = default_threshold

    async def low_stock(
        self,
        company_id: int,
        *,
        window_days: int,
        warehouse_id: int | None = None,
        product_type_id: int | None = None,
        needs_order: bool = False,
        now: datetime | None = None,
    ) -> bytes:
        """SPEC's low-stock report as the JSON the endpoint sends (`LowStockReport`'s
        shape). The window is (now - window_days x 24 h, now]. Thousands of alerts go
        as plain dicts straight to JSON, not through validated models."""
        with metrics.REPORT_DURATION.time():
            alerts = await self.alerts(
                company_id,
                window_days=window_days,
                warehouse_id=warehouse_id,
                product_type_id=product_type_id,
                needs_order=needs_order,
                now=now,
            )
        return to_json({"alerts": alerts, "total_alerts": len(alerts)})

    async def alerts(
        self,
        company_id: int,
        *,
        window_days: int,
        warehouse_id: int | None = None,
        product_type_id: int | None = None,
        needs_order: bool = False,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The report's alerts as dicts in `LowStockAlert`'s shape, in the report's
        order (also what purchasing drafts orders from: one implementation of the
        formulas)."""
        await require_owned(self.repo.session, Warehouse, company_id, warehouse_id)
        await require_owned(self.repo.session, ProductType, company_id, product_type_id)
        now = now or datetime.now(UTC)
        rows = await self.repo.low_stock(
            ReportParams(
                company_id=company_id,
                since=now - timedelta(days=window_days),
                now=now,
                window_days=window_days,
                default_threshold=self.default_threshold,
                warehouse_id=warehouse_id,
                product_type_id=product_type_id,
            )
        )
        today = now.date()
        alerts = [_alert(row, today) for row in rows]
        if needs_order:
            return [a for a in alerts if a["recommended_order_quantity"] > 0]
        return alerts


def _order_by(today: date, days_until_stockout: int, lead_time_days: int) -> str:
    """today + (days_until_stockout - lead_time_days) days, clamped to the calendar's
    range (a level that sells one unit a year lasts longer than year 9999)."""
    offset = days_until_stockout - lead_time_days
    try:
        return (today + timedelta(days=offset)).isoformat()
    except OverflowError:
        return (date.max if offset > 0 else date.min).isoformat()


def _alert(r: Any, today: date) -> dict[str, Any]:
    """One alert in `LowStockAlert`'s field order (and `AlertSupplier`'s)."""
    supplier = None
    if r["supplier_id"] is not None:
        supplier = {
            "id": r["supplier_id"],
            "name": r["supplier_name"],
            "contact_email": r["contact_email"],
            "lead_time_days": r["lead_time_days"],
        }
    return {
        "product_id": r["product_id"],
        "product_name": r["product_name"],
        "sku": r["sku"],
        "warehouse_id": r["warehouse_id"],
        "warehouse_name": r["warehouse_name"],
        "current_stock": r["current_stock"],
        "threshold": r["threshold"],
        "days_until_stockout": int(r["days_until_stockout"]),
        "units_sold": int(r["units_sold"]),
        "avg_daily_sales": float(r["avg_daily_sales"]),
        "recommended_order_quantity": int(r["recommended_order_quantity"]),
        "on_order": int(r["on_order"]),
        "order_by": _order_by(today, int(r["days_until_stockout"]), r["lead_time_days"] or 0),
        "supplier": supplier,
    }
