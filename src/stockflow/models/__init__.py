"""ORM models, one module per table group. Importing this package registers them all on
`Base.metadata`, which Alembic compares against the migrations."""

from stockflow.models.base import Base
from stockflow.models.catalog import BundleComponent, Product, ProductType
from stockflow.models.company import ApiKey, Company
from stockflow.models.events import Event, Webhook, WebhookDelivery
from stockflow.models.idempotency import IdempotencyRecord
from stockflow.models.inventory import InventoryLevel, LedgerEntry
from stockflow.models.limits import RateLimitBucket
from stockflow.models.purchasing import PurchaseOrder, PurchaseOrderLine
from stockflow.models.reservations import Reservation, ReservationLine
from stockflow.models.supplier import ProductSupplier, Supplier
from stockflow.models.warehouse import Warehouse

__all__ = [
    "ApiKey",
    "Base",
    "BundleComponent",
    "Company",
    "Event",
    "IdempotencyRecord",
    "InventoryLevel",
    "LedgerEntry",
    "Product",
    "ProductSupplier",
    "ProductType",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "RateLimitBucket",
    "Reservation",
    "ReservationLine",
    "Supplier",
    "Warehouse",
    "Webhook",
    "WebhookDelivery",
]
