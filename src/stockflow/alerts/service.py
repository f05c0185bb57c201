from datetime import UTC, datetime, timedelta

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from stockflow.alerts.exceptions import product_type_not_found, warehouse_not_found
from stockflow.alerts.repository import AlertRepository, ReportParams
from stockflow.alerts.schemas import AlertSupplier, LowStockAlert, LowStockReport


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
        now: datetime | None = None,
    ) -> LowStockReport:
        """SPEC's low-stock report. The window is (now - window_days x 24 h, now]."""
        if warehouse_id is not None and not await self.repo.warehouse_exists(
            company_id, warehouse_id
        ):
            raise warehouse_not_found(warehouse_id)
        if product_type_id is not None and not await self.repo.product_type_exists(
            company_id, product_type_id
        ):
            raise product_type_not_found(product_type_id)
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
        alerts = [_alert(row) for row in rows]
        return LowStockReport(alerts=alerts, total_alerts=len(alerts))


def _alert(row: Row[tuple[object, ...]]) -> LowStockAlert:
    r = row._mapping
    supplier = None
    if r["supplier_id"] is not None:
        supplier = AlertSupplier(
            id=r["supplier_id"],
            name=r["supplier_name"],
            contact_email=r["contact_email"],
            lead_time_days=r["lead_time_days"],
        )
    return LowStockAlert(
        product_id=r["product_id"],
        product_name=r["product_name"],
        sku=r["sku"],
        warehouse_id=r["warehouse_id"],
        warehouse_name=r["warehouse_name"],
        current_stock=r["current_stock"],
        threshold=r["threshold"],
        days_until_stockout=int(r["days_until_stockout"]),
        units_sold=int(r["units_sold"]),
        avg_daily_sales=float(r["avg_daily_sales"]),
        recommended_order_quantity=int(r["recommended_order_quantity"]),
        supplier=supplier,
    )
