from stockflow.core.schemas import Schema


class AlertSupplier(Schema):
    """The supplier to reorder from, with the lead time the quantity was computed with."""

    id: int
    name: str
    contact_email: str | None
    lead_time_days: int | None


class LowStockAlert(Schema):
    product_id: int
    product_name: str
    sku: str
    warehouse_id: int
    warehouse_name: str
    current_stock: int
    threshold: int
    days_until_stockout: int
    units_sold: int
    avg_daily_sales: float
    recommended_order_quantity: int
    on_order: int
    order_by: str
    supplier: AlertSupplier | None


class LowStockReport(Schema):
    alerts: list[LowStockAlert]
    total_alerts: int
