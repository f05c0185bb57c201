"""Example bodies for the OpenAPI document, by component schema name.

Kept in one table (applied by core/openapi.py to schemas that have no example of their
own) so Swagger UI's "Try it out" sends something that works. A resource may instead give
its schema `model_config = ConfigDict(json_schema_extra={"examples": [...]})`; that wins.
Bodies that create things name no ids (a fresh company has none yet); bodies that must
name one use 1, the first id of a fresh database.
"""

from typing import Any

_PRODUCT = {
    "id": 1,
    "company_id": 1,
    "name": "Espresso beans 1 kg",
    "sku": "BEAN-1KG",
    "price": "18.50",
    "product_type_id": None,
    "low_stock_threshold": 5,
    "is_bundle": False,
    "is_active": True,
    "created_at": "2026-12-04T09:30:00Z",
    "updated_at": "2026-12-04T09:30:00Z",
}
_ENTRY = {
    "id": 1,
    "product_id": 1,
    "warehouse_id": 1,
    "delta": -2,
    "reason": "sale",
    "reference": "order-1001",
    "occurred_at": "2026-12-04T09:30:00Z",
    "quantity_after": 18,
    "bundle_id": None,
}

SCHEMA_EXAMPLES: dict[str, dict[str, Any]] = {
    # The original endpoint: with a company key the company is the key's, so a fresh
    # company can send this as is (the admin adds "company_id").
    "LegacyProductCreate": {
        "name": "Espresso beans 1 kg",
        "sku": "BEAN-1KG",
        "price": "18.50",
        "low_stock_threshold": 5,
    },
    "ProductCreate": {
        "name": "Espresso beans 1 kg",
        "sku": "BEAN-1KG",
        "price": "18.50",
        "low_stock_threshold": 5,
    },
    "ProductUpdate": {"price": "19.90", "low_stock_threshold": 8},
    "ProductRead": _PRODUCT,
    "ProductDetail": {
        **_PRODUCT,
        "stock": [{"warehouse_id": 1, "warehouse_name": "Main", "quantity": 18}],
        "components": [],
    },
    "WarehouseCreate": {"name": "Main", "location": "Rotterdam"},
    "WarehouseUpdate": {"location": "Rotterdam, dock 4"},
    "WarehouseRead": {
        "id": 1,
        "company_id": 1,
        "name": "Main",
        "location": "Rotterdam",
        "created_at": "2026-12-04T09:30:00Z",
    },
    "ProductTypeCreate": {"name": "Coffee", "low_stock_threshold": 20},
    "ProductTypeUpdate": {"low_stock_threshold": 25},
    "ProductTypeRead": {
        "id": 1,
        "company_id": 1,
        "name": "Coffee",
        "low_stock_threshold": 20,
        "created_at": "2026-12-04T09:30:00Z",
    },
    "SupplierCreate": {
        "name": "Bean Brothers",
        "contact_email": "orders@beanbrothers.example",
        "contact_phone": "+31 10 123 4567",
    },
    "SupplierUpdate": {"contact_phone": "+31 10 765 4321"},
    "SupplierRead": {
        "id": 1,
        "company_id": 1,
        "name": "Bean Brothers",
        "contact_email": "orders@beanbrothers.example",
        "contact_phone": "+31 10 123 4567",
        "created_at": "2026-12-04T09:30:00Z",
    },
    "LinkPut": {"is_primary": True, "lead_time_days": 7, "unit_cost": "9.20", "min_order_qty": 10},
    "LinkRead": {
        "supplier_id": 1,
        "product_id": 1,
        "is_primary": True,
        "lead_time_days": 7,
        "unit_cost": "9.20",
        "min_order_qty": 10,
    },
    "MovementCreate": {
        "reason": "receipt",
        "reference": "delivery-2026-12-04",
        "lines": [{"product_id": 1, "warehouse_id": 1, "delta": 20}],
    },
    "TransferCreate": {
        "product_id": 1,
        "from_warehouse_id": 1,
        "to_warehouse_id": 2,
        "quantity": 5,
        "reference": "rebalance",
    },
    "EntriesRead": {"entries": [_ENTRY]},
    "LedgerEntryRead": _ENTRY,
    "ThresholdUpdate": {"low_stock_threshold": 12},
    "InventoryLevelRead": {
        "product_id": 1,
        "warehouse_id": 1,
        "quantity": 18,
        "low_stock_threshold": 12,
        "updated_at": "2026-12-04T09:30:00Z",
    },
    "ComponentLine": {"product_id": 1, "quantity": 2},
    "LowStockReport": {
        "alerts": [
            {
                "product_id": 1,
                "product_name": "Espresso beans 1 kg",
                "sku": "BEAN-1KG",
                "warehouse_id": 1,
                "warehouse_name": "Main",
                "current_stock": 4,
                "threshold": 5,
                "days_until_stockout": 2,
                "units_sold": 60,
                "avg_daily_sales": 2.0,
                "recommended_order_quantity": 56,
                "supplier": {
                    "id": 1,
                    "name": "Bean Brothers",
                    "contact_email": "orders@beanbrothers.example",
                    "lead_time_days": 7,
                },
            }
        ],
        "total_alerts": 1,
    },
}
