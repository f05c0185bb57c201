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
    "ComponentRead": {"product_id": 1, "quantity": 2},
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
                "recommended_order_quantity": 20,
                "on_order": 0,
                "order_by": "2026-11-29",
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

# Descriptions of operations whose route gives none, by operationId: what a Swagger UI user
# wants to know beyond the summary (a route's own `description=` wins).
OPERATION_DESCRIPTIONS: dict[str, str] = {
    "operations-healthz": "200 while the process runs; it does not touch the database.",
    "warehouses-create": "A warehouse of the company. Stock is kept per product and warehouse.",
    "warehouses-list": "The company's warehouses in id order, paginated.",
    "warehouses-get": "One warehouse; 404 if it does not exist or is another company's.",
    "warehouses-update": "Change the name or location; fields left out keep their value.",
    "product-types-create": "A kind of product with its default low-stock threshold; "
    "products of the type use it unless they or the warehouse set their own. A name used "
    "by another type of the company (ignoring case) is 409.",
    "product-types-list": "The company's product types in id order, paginated.",
    "product-types-get": "One product type; 404 if it does not exist or is another company's.",
    "product-types-update": "Change the name or threshold; fields left out keep their value.",
    "products-create-legacy": "The original endpoint. With a company key, `company_id` may "
    "be left out (it is the key's company) and must be that company if given; with the "
    "admin token it is required. SKUs are unique across the platform, ignoring case and "
    "surrounding spaces (409 `duplicate-sku`). With `warehouse_id`, the product's level "
    "there is created, and a positive `initial_quantity` is a `receipt` ledger entry, all "
    "in one transaction.",
    "products-create": "As `POST /api/products`, with the company from the path. SKUs are "
    "unique across the platform (409 `duplicate-sku`); `warehouse_id` and "
    "`initial_quantity` create the first level and its `receipt` entry in one transaction.",
    "products-list": "Active products in id order, paginated. `sku` finds one exactly; `q` "
    "searches names and SKUs; `include_inactive` adds deactivated ones.",
    "products-get": "One product with `stock` per warehouse; for a bundle, its derived "
    "availability (min over components of floor(component stock / quantity)) and its "
    "`components`.",
    "products-update": "Change fields of a product; fields left out keep their value. A SKU "
    "another product has is 409.",
    "products-delete": "Marks the product inactive (204, also when it already is). It stays "
    "readable, in the ledger and in history; lists hide it by default.",
    "suppliers-create": "A supplier of the company, with optional contact details.",
    "suppliers-list": "The company's suppliers in id order, paginated.",
    "suppliers-get": "One supplier; 404 if it does not exist or is another company's.",
    "suppliers-update": "Change the name or contact details; fields left out keep their value.",
    "suppliers-list-product": "The suppliers linked to one product, with their terms.",
    "suppliers-get-product": "The terms of one product-supplier link.",
    "suppliers-delete-product": "Removes the link (204); the supplier and product stay.",
    "bundles-put-components": "Replaces the whole list of a bundle's components "
    "(`product_id`, `quantity`). Components may be bundles; a cycle is 422.",
    "ledger-list-movements": "Ledger entries, filterable by product, warehouse, bundle, "
    "reason and time; newest first unless `order=asc`; paginated.",
    "ledger-post-transfer": "Writes a `transfer_out` and a `transfer_in` entry in one "
    "transaction; 409 `insufficient-stock` if the source lacks the quantity, 422 if both "
    "warehouses are the same.",
    "inventory-list": "Current levels (`quantity`) with the warehouse-level threshold, "
    "filterable by warehouse and product, paginated. Each level is the sum of its ledger "
    "entries.",
    "inventory-set-threshold": "The threshold for one product in one warehouse; it wins "
    "over the product's and its type's in the low-stock report. null clears it.",
    "api-keys-list": "The company's keys in id order, paginated, revoked ones included "
    "(with `revoked_at`). Never a secret: a key is shown only when it is created. "
    "`last_used_at` may lag by up to 60 s.",
    "purchase-orders-list": "The company's purchase orders with their lines, in id order, "
    "paginated. Filters: one `status` (an unknown one is 422), `supplier_id`, "
    "`warehouse_id` (one of another company is 404).",
    "purchase-orders-get": "One purchase order with its lines (`quantity`, "
    "`received_quantity`, `unit_cost`); 404 if it does not exist or is another company's.",
    "webhooks-list": "The company's subscriptions in id order, paginated, without their "
    "signing secrets.",
    "webhooks-get": "One subscription, without its signing secret; 404 if it does not "
    "exist or is another company's.",
    "webhooks-update": "Fields left out keep their value; `description: null` clears it "
    "(`url`, `event_types` and `is_active` may not be null: 422). A new `url` is checked as "
    "at creation (422 unless its host is a global address, or the server allows private "
    "ones). While `is_active` is false the subscription gets no new events and its pending "
    "deliveries wait.",
    "webhooks-delete": "Deletes the subscription and its delivery log (204): no further "
    "attempt is made. The events stay in the feed.",
    "webhooks-list-deliveries": "One row per event sent to this subscription, newest event "
    "first, paginated. `pending` has `next_attempt_at`; `delivered` has `delivered_at`; "
    "`failed` means the last allowed attempt (`STOCKFLOW_WEBHOOK_MAX_ATTEMPTS`) failed. "
    "Attempt n+1 starts at least B * 2^(n-1) s after attempt n (B = "
    "`STOCKFLOW_WEBHOOK_RETRY_BASE_SECONDS`). `last_status_code` is null when no answer "
    "came (then `last_error` says why).",
}


def page_example(item: Any) -> dict[str, Any]:
    """A list page's example: one item and no further page."""
    return {"items": [item], "next_cursor": None}
